import http.server
import json
import sqlite3
import threading

import pytest
from shop.orders import OrderStore, current_price


@pytest.fixture
def store():
    connection = sqlite3.connect(":memory:")
    store = OrderStore(connection)
    for i, customer in enumerate(["ann", "bob", "cy", "dee", "eve", "fay"]):
        store.add(customer, 10.0 * (i + 1))
        store.add(customer, 1.5)
    yield store
    connection.close()


def test_totals_by_customer(store):
    totals = store.totals_by_customer()
    assert totals["ann"] == 11.5 and len(totals) == 6


class Prices(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"price": 2.5}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def price_service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Prices)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_price_comes_from_the_service(price_service):
    assert current_price(price_service, "apple") == 2.5
