import http.server
import json
import socket
import sqlite3
import threading
import time

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


def own_address():
    """This machine's address on its network (not loopback), so that the call below leaves through a network
    interface as a call to a real price service would; 127.0.0.1 on a machine with no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


PRICE_HOST = own_address()  # at import, outside any test: the probe is not one of the tests' calls


@pytest.fixture(scope="module")
def price_service():
    host = PRICE_HOST
    server = http.server.ThreadingHTTPServer((host, 0), Prices)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{host}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_price_comes_from_the_service(price_service):
    assert current_price(price_service, "apple") == 2.5


def test_monthly_report_takes_its_time(store):
    """Slow on purpose: the slowest test of the suite, for the dashboard's tests table."""
    time.sleep(0.3)
    assert store.db.execute("SELECT SUM(total) FROM orders").fetchone()[0] == 219.0
