"""What the db instrument costs per query: 100,000 SQLite queries through Django's ORM and through
SQLAlchemy's ORM, with the instrument installed and recording against the same code without it.

Each query is a real round trip to an SQLite file (a primary-key lookup), so the ratio is what a query-heavy test
pays. Target: at most 10% more time.

    python tests/bench/queries.py [--queries 100000] [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from suitescope.collector.guard import Guard
from suitescope.collector.instrument.manager import Instruments
from suitescope.collector.instrument.options import InstrumentOptions
from tests.bench.interleave import alternate, median_ratio

TARGET = 1.10


def django_workload(directory: Path, queries: int) -> Callable[[], None]:
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(directory / "django.sqlite3")}},
        INSTALLED_APPS=["django.contrib.contenttypes"],
        USE_TZ=True,
    )
    django.setup()
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    ids = [ContentType.objects.create(app_label="bench", model=f"m{i}").pk for i in range(100)]

    def run() -> None:
        for i in range(queries):
            ContentType.objects.filter(pk=ids[i % 100]).first()

    return run


def sqlalchemy_workload(directory: Path, queries: int) -> Callable[[], None]:
    from sqlalchemy import Integer, String, create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class Item(Base):  # columns without annotations: this module's annotations are strings
        __tablename__ = "item"
        id = mapped_column(Integer, primary_key=True)
        name = mapped_column(String(30))

    engine = create_engine(f"sqlite:///{directory / 'sqlalchemy.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Item(id=i, name=f"item {i}") for i in range(100))
        session.commit()

    def run() -> None:
        with Session(engine) as session:
            for i in range(queries):
                session.execute(select(Item).where(Item.id == i % 100)).scalars().first()

    return run


def instrumented(workload: Callable[[], None]) -> Callable[[], None]:
    """The workload inside one test attempt, as the pytest plugin would run it, instruments installed."""

    def run() -> None:
        instruments = Instruments(Guard(strict=True), InstrumentOptions(frozenset({"db"})))
        instruments.begin()
        workload()
        fields = instruments.end()
        instruments.close()
        assert fields["db"]["count"] >= 1, "the instrument recorded nothing: the benchmark would be meaningless"

    return run


def bookkeeping_us(calls: int = 100_000) -> dict[str, float]:
    """The instruments' own time per query, without any database: what each wrapper adds around a query whose
    execution takes no time. Steady where the A/B ratios move with the machine."""
    import time
    from types import SimpleNamespace

    from suitescope.collector.instrument.django_db import DjangoQueries
    from suitescope.collector.instrument.effects import TRACKER, Effects
    from suitescope.collector.instrument.sqlalchemy import SqlAlchemyQueries

    sql = 'SELECT "django_content_type"."id" FROM "django_content_type" WHERE "django_content_type"."id" = %s'
    django = DjangoQueries(Guard(strict=True))
    django.on = True
    context = {"connection": SimpleNamespace(alias="default")}
    alchemy = SqlAlchemyQueries(Guard(strict=True))
    alchemy.on = True
    conn = SimpleNamespace(engine=SimpleNamespace(dialect=SimpleNamespace(name="sqlite")))

    def execute(*args: object) -> None:
        return None

    TRACKER.current = Effects()
    try:
        start = time.perf_counter()
        for _ in range(calls):
            django.wrapper(execute, sql, (1,), False, context)
        django_s = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(calls):
            ctx = SimpleNamespace()
            alchemy.before(conn, None, sql, (1,), ctx, False)
            alchemy.after(conn, None, sql, (1,), ctx, False)
        alchemy_s = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(calls):
            SimpleNamespace()
            execute(sql, (1,), False, context)
        baseline_s = time.perf_counter() - start
    finally:
        TRACKER.current = None
    return {
        "django": (django_s - baseline_s) / calls * 1e6,
        "sqlalchemy": (alchemy_s - baseline_s) / calls * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=100_000, help="queries per run (default 100000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="suitescope-bench-") as tmp:
        django_run = django_workload(Path(tmp), args.queries)
        sqlalchemy_run = sqlalchemy_workload(Path(tmp), args.queries)
        seconds = alternate(
            {
                "django": django_run,
                "django+suitescope": instrumented(django_run),
                "sqlalchemy": sqlalchemy_run,
                "sqlalchemy+suitescope": instrumented(sqlalchemy_run),
            },
            args.rounds,
            progress=not args.quiet,
        )
    results: dict[str, Any] = {}
    lines = [f"db instrument overhead, {args.queries} SQLite queries per run, {args.rounds} interleaved rounds", ""]
    for orm in ("django", "sqlalchemy"):
        ratio = median_ratio(seconds, f"{orm}+suitescope", orm)
        per_query_us = (min(seconds[f"{orm}+suitescope"]) - min(seconds[orm])) / args.queries * 1e6
        results[orm] = {"time_ratio": ratio, "extra_us_per_query": per_query_us, "seconds": seconds}
        verdict = "met" if ratio <= TARGET else "NOT met"
        lines.append(
            f"{orm:<11} plain {min(seconds[orm]):6.2f}s  instrumented {min(seconds[f'{orm}+suitescope']):6.2f}s  "
            f"ratio {ratio:.3f} (median)  {per_query_us:+.2f} us/query (best vs best)  target <= {TARGET}: {verdict}"
        )
    own = bookkeeping_us()
    results["bookkeeping_us_per_query"] = own
    lines.append("")
    lines.append(
        f"the instruments' own time per query, without a database: Django {own['django']:.2f} us, "
        f"SQLAlchemy {own['sqlalchemy']:.2f} us"
    )
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"queries": args.queries, "rounds": args.rounds, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
