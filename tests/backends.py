"""The scale-out backends for tests: a fresh PostgreSQL database and a fresh Redis key prefix, on the real
servers of this machine (127.0.0.1). No skip: without them the tests fail, as CI must (`make services` starts
them when they are installed and stopped)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

PG = "postgresql://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database; its SQLAlchemy URL. Dropped afterwards, whoever is still connected."""
    name = f"suitescope_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def redis_queue() -> Iterator[str]:
    """A queue URL with a key prefix of its own; its keys deleted afterwards."""
    prefix = f"sstest-{uuid.uuid4().hex[:12]}"
    yield f"{REDIS}?prefix={prefix}"
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
