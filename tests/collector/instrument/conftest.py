"""Fixtures of the instrument tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def sqlalchemy_loaded(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Import every part of SQLAlchemy that the suites use, sync and async, before any in-process pytester run.

    pytester removes the modules a run imported once the run ends. SQLAlchemy's compiled (Cython) modules
    cannot be imported twice and stay bound to the classes of the first import, so a later test of this
    process that imports SQLAlchemy again (the server's migrations) failed with "'InternalTraversal' object
    is not callable". Loaded here, the modules are in pytester's snapshot and stay.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.ext.asyncio import create_async_engine

    folder: Path = tmp_path_factory.mktemp("sqlalchemy")
    engine = create_engine(f"sqlite:///{folder}/s.db")
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()

    async def main() -> None:
        engine = create_async_engine(f"sqlite+aiosqlite:///{folder}/a.db")
        async with engine.begin() as conn:
            await conn.execute(text("SELECT 1"))
        await engine.dispose()

    asyncio.run(main())
