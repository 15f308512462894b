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
