"""Suites for the instrument tests, run with pytester against the real libraries."""

DB_SUITE = '''
import asyncio
import json
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine

SEEN = {}  # SQLAlchemy's own count of statements per test, to compare ours with


@pytest.fixture
def db(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db")
    conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO item (name) VALUES (?)", [("a",), ("b",)])
    yield conn
    conn.execute("DELETE FROM item WHERE id > 0")
    conn.close()


@pytest.fixture
def counted(request):
    """Counts statements with SQLAlchemy's own event, independently of suitescope."""
    count = [0]

    def before(*args):
        count[0] += 1

    event.listen(Engine, "before_cursor_execute", before)
    yield
    event.remove(Engine, "before_cursor_execute", before)
    SEEN[request.node.name] = count[0]


def test_raw_n_plus_one(db):
    for i in range(6):
        db.execute("SELECT name FROM item WHERE id = ?", (i,)).fetchall()
    db.cursor().execute("SELECT count(*) FROM item WHERE name = 'secret@example.com'")


def test_raw_in_thread(tmp_path):
    def work():
        conn = sqlite3.connect(tmp_path / "t.db")
        conn.execute("CREATE TABLE t (id INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def test_raw_error(db):
    with pytest.raises(sqlite3.OperationalError):
        db.execute("SELECT * FROM missing_table")


def test_sqlalchemy_sync(tmp_path, counted):
    engine = create_engine(f"sqlite:///{tmp_path}/s.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER)"))
        for i in range(3):
            conn.execute(text("INSERT INTO t VALUES (:i)"), {"i": i})
        conn.execute(text("SELECT * FROM t WHERE id IN (1, 2)"))
    engine.dispose()


def test_sqlalchemy_async(tmp_path, counted):
    async def main():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/a.db")
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER)"))
            for i in range(5):
                await conn.execute(text("SELECT id FROM t WHERE id = :i"), {"i": i})
        await engine.dispose()

    asyncio.run(main())


def test_no_queries():
    pass


def test_zz_write_counts():
    with open("sqlalchemy_counts.json", "w") as file:  # in the rootdir, where pytester runs
        json.dump(SEEN, file)
'''

# A Django project in one conftest: two aliases, a model with a foreign key, a view for the live server.
DJANGO_CONFTEST = """
import os

import django
import pytest
from django.conf import settings


def pytest_configure():
    default = {"ENGINE": "django.db.backends.sqlite3", "NAME": "main.sqlite3", "TEST": {"NAME": "test_main.sqlite3"}}
    if os.environ.get("DJANGO_DB") == "postgresql":
        default = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["DJANGO_DB_NAME"],
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": 5432,
        }
    settings.configure(
        DEBUG=False,
        DATABASES={
            "default": default,
            "other": {"ENGINE": "django.db.backends.sqlite3", "NAME": "other.sqlite3",
                      "TEST": {"NAME": "test_other.sqlite3"}},
        },
        INSTALLED_APPS=["shop"],
        ROOT_URLCONF="shop.urls",
        STATIC_URL="/static/",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()


@pytest.fixture(scope="session", autouse=True)
def databases():
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False, aliases={"default", "other"})
    yield
    teardown_databases(old, verbosity=0)
    teardown_test_environment()
"""

DJANGO_APP = {
    "shop/__init__.py": "",
    "shop/models.py": """
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
""",
    "shop/views.py": """
from django.http import HttpResponse

from shop.models import Author


def authors(request):
    return HttpResponse(str(Author.objects.filter(name__startswith="a").count()))
""",
    "shop/urls.py": """
from django.urls import path

from shop import views

urlpatterns = [path("authors/", views.authors)]
""",
}

DJANGO_TESTS = """
import json
import pathlib
import threading
import urllib.request

from django.db import connection, connections
from django.test import LiveServerTestCase, TestCase
from django.test.utils import CaptureQueriesContext

from shop.models import Author, Book

COUNTS = pathlib.Path("django_counts.json")


class Orm(TestCase):
    databases = {"default", "other"}

    def test_n_plus_one(self):
        for i in range(6):
            Author.objects.create(name=f"a{i}")
        assert connection.queries == []  # DEBUG is off: Django logs nothing, with suitescope on or not
        with CaptureQueriesContext(connection) as captured:
            for author in Author.objects.all():
                list(author.book_set.all())
        COUNTS.write_text(json.dumps({"captured": len(captured)}))

    def test_other_alias(self):
        Author.objects.using("other").create(name="x")
        assert Author.objects.using("other").count() == 1

    def test_thread_connection(self):
        def work():
            Book.objects.filter(title="t").exists()
            connections.close_all()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()


class Live(LiveServerTestCase):
    def test_view_queries_in_the_server_thread(self):
        with urllib.request.urlopen(self.live_server_url + "/authors/?token=abc") as response:
            assert response.read() == b"0"
"""

NETWORK_SUITE = """
import asyncio
import http.server
import socket
import socketserver
import threading
import urllib.request

import httpx
import pytest
import requests


class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def warmed(server):
    requests.get(f"http://127.0.0.1:{server}/from-fixture")
    return server


def test_requests(server):
    requests.get(f"http://127.0.0.1:{server}/a?token=secret")
    requests.get(f"http://127.0.0.1:{server}/a?page=2")


def test_httpx_sync(server):
    with httpx.Client() as client:
        client.get(f"http://127.0.0.1:{server}/b")
        client.get(f"http://127.0.0.1:{server}/b")
        client.get(f"http://127.0.0.1:{server}/c#part")


def test_httpx_async(server):
    async def main():
        async with httpx.AsyncClient() as client:
            await asyncio.gather(*(client.get(f"http://127.0.0.1:{server}/d") for _ in range(3)))

    asyncio.run(main())


def test_urllib_by_name(server):
    with urllib.request.urlopen(f"http://localhost:{server}/e") as response:
        response.read()


def test_mocked_is_not_network():
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    httpx.Client(transport=transport).get("https://api.example.com/users")


def test_raw_socket(server):
    socket.create_connection(("127.0.0.1", server)).close()


def test_thread(server):
    thread = threading.Thread(target=requests.get, args=(f"http://127.0.0.1:{server}/t",))
    thread.start()
    thread.join()


def test_asyncio_stream(server):
    async def main():
        reader, writer = await asyncio.open_connection("127.0.0.1", server)
        writer.close()
        await writer.wait_closed()

    asyncio.run(main())


def test_fixture_phase(warmed):
    pass


def nonblocking_connect(host, port):
    sock = socket.socket()
    sock.setblocking(False)
    try:
        sock.connect_ex((host, port))  # the attempt is what counts; nothing is waited for
    finally:
        sock.close()


def test_external():
    nonblocking_connect("192.0.2.10", 80)


def test_external_database():
    nonblocking_connect("192.0.2.10", 5432)


def test_unix_socket():
    import os
    import tempfile

    folder = tempfile.mkdtemp()  # short: a unix socket path has at most 107 characters
    path = os.path.join(folder, "s.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    client = socket.socket(socket.AF_UNIX)
    client.connect(path)
    client.close()
    server.close()
    os.remove(path)
    os.rmdir(folder)
"""

MEMORY_SUITE = """
import time

MB = 1024 * 1024
HOLD = []


def test_a_big_transient():
    block = b"x" * (200 * MB)  # filled, so its pages are really resident
    del block


def test_b_smaller_transient():
    block = b"x" * (100 * MB)
    del block


def test_c_hold():
    HOLD.append(b"y" * (60 * MB))


def test_d_cpu():
    start = time.process_time()
    while time.process_time() - start < 0.2:
        pass
"""
