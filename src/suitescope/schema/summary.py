"""Run summaries derived from test records: the same tallies whether the collector keeps them as tests finish
or a reader rebuilds them from a file whose run record is missing (a run still in progress, or killed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from suitescope.schema.records import FIXTURE_PHASES, STATUSES, DbSummary, Failure, NetworkCall, TestRecord

# Failure types that are not a raised exception: a failed assert, pytest failing a strict XPASS, a unittest test
# failed by its subtests (each of which has its own record).
NOT_EXCEPTIONS = frozenset({"AssertionError", "XPASS(strict)", "SubTestFailure"})


@dataclass
class Tally:
    """Running totals over test records, so the run record needs no second pass."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    attempts: int = 0
    reruns: int = 0
    tests_duration_ms: float = 0.0
    collection_errors: int = 0
    subtests_failed: int = 0
    exceptions: int = 0
    assertions_passed: int | None = 0
    assertions_failed: int = 0
    classes: set[tuple[str | None, str]] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    executed: set[str] = field(default_factory=set)
    db_queries: int | None = None  # None until a record says its db instrument ran
    db_duration_ms: float = 0.0
    n_plus_one_tests: int = 0
    external_network_tests: int | None = None

    def add(self, record: TestRecord) -> None:
        self.add_facts(facts(record))

    def add_facts(self, fact: Facts) -> None:
        """Count one test record known only by its `Facts` (what crosses from an xdist worker)."""
        test_id, status, when, final, duration_ms, passed, failed, exception, module, cls, db, external = fact
        if when is not None and self.not_a_test(status, when, exception):
            return
        self.attempts += 1
        self.tests_duration_ms += duration_ms
        if passed is None:
            self.assertions_passed = None
        elif self.assertions_passed is not None:
            self.assertions_passed += passed
        if failed:
            self.assertions_failed += failed
        if db is not None:
            queries, db_ms, n_plus_one = db
            self.db_queries = (self.db_queries or 0) + queries
            self.db_duration_ms += db_ms
            self.n_plus_one_tests += n_plus_one
        if external is not None:
            self.external_network_tests = (self.external_network_tests or 0) + external
        if not final:
            self.reruns += 1
            return
        self.counts[status] += 1
        self.executed.add(test_id)
        if exception:
            self.exceptions += 1
        if module:
            self.modules.add(module)
        if cls:
            self.classes.add((module, cls))

    def not_a_test(self, status: str, when: str, exception: bool) -> bool:
        """Counts a record that is not an attempt of a test (a collection error, a failed subtest, a failed
        fixture such as setUpClass) and says so."""
        if when == "collect":
            self.collection_errors += 1
        elif when == "subtest":  # one failed unittest subTest: its test has its own record
            self.subtests_failed += 1
        elif when in FIXTURE_PHASES:  # a failed setUpClass & co.: counted by status as unittest counts it
            self.counts[status] += 1
            self.exceptions += exception
        else:
            return False
        return True


DbFacts = tuple[int, float, bool]  # queries, query ms, has an N+1

# What the tally needs of a test record, as a tuple of plain values: cheap to send between processes. The last
# two are the instruments' (queries, query ms, has N+1) and "reached a host that is not loopback", or None.
Facts = tuple[
    str,
    str,
    "str | None",
    bool,
    float,
    "int | None",
    "int | None",
    bool,
    "str | None",
    "str | None",
    "DbFacts | None",
    "bool | None",
]


def facts(record: TestRecord) -> Facts:
    db = record.get("db")  # .get: records of schema 1.0 have no instrument fields
    network = record.get("network")
    return (
        record["id"],
        record["status"],
        record["when"],
        record["final"],
        record["duration_ms"],
        record["assertions"]["passed"],
        record["assertions"]["failed"],
        raised(record["status"], record["failure"]),
        record["module"],
        record["class"],
        None if db is None else db_facts(db),
        None if network is None else external(network),
    )


def raised(status: str, failure: Failure | None) -> bool:
    """Whether an attempt ended in a raised exception (not a failed assert, nor a skip or an xfail)."""
    return failure is not None and status in ("failed", "error") and failure["type"] not in NOT_EXCEPTIONS


def db_facts(db: DbSummary) -> DbFacts:
    return db["count"], db["duration_ms"], bool(db["n_plus_one"])


def external(network: list[NetworkCall]) -> bool:
    """Whether a test reached a host that is not loopback."""
    return any(not call["loopback"] for call in network)
