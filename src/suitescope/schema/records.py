"""Record types of schema v1: what one line of a `.telemetry/*.ndjson` file holds.

Every key is always present (None where unknown), so a reader never has to guess whether a missing key means
"zero" or "not measured". `docs/schema.md` documents every field; a test walks these types and fails when a
field is undocumented, so the two cannot drift apart.
"""

from typing import Literal, TypedDict

Status = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")

Phase = Literal[
    "collect",
    "setup",
    "call",
    "teardown",
    "crash",
    "subtest",
    "setup_class",
    "teardown_class",
    "setup_module",
    "teardown_module",
]
# A record with one of these `when`s is a unittest class or module fixture that failed (or skipped), not a test.
FIXTURE_PHASES: frozenset[str] = frozenset({"setup_class", "teardown_class", "setup_module", "teardown_module"})
# Test records that are not an attempt of a test: a file that failed to collect, a failed subtest (its test has
# a record of its own), a class or module fixture. Per-test analyses leave them out.
NOT_ATTEMPTS: frozenset[str | None] = FIXTURE_PHASES | {"collect", "subtest"}
RunState = Literal["running", "completed", "interrupted", "crashed"]


class Phases(TypedDict):
    """Monotonic duration of each phase of one attempt, in milliseconds (None: the phase did not run)."""

    setup_ms: float | None
    call_ms: float | None
    teardown_ms: float | None


class Assertions(TypedDict):
    """Assertions seen; None means "not known" (never 0 standing in for unknown)."""

    passed: int | None
    failed: int | None


class Failure(TypedDict):
    """Why an attempt did not pass. `fingerprint` groups the same failure across runs and machines."""

    type: str
    message: str
    fingerprint: str


class DbQuery(TypedDict):
    """One query shape of one test: how often it ran in a phase, on a database, and for how long."""

    sql: str
    fingerprint: str
    kind: str
    phase: str
    database: str
    count: int
    total_duration_ms: float
    params: list[str] | None


class NPlusOne(TypedDict):
    """A SELECT shape repeated at least the N+1 threshold of times in one test."""

    fingerprint: str
    sql: str
    count: int


class DbSummary(TypedDict):
    """Queries of one attempt: totals, per phase, and N+1 findings."""

    count: int
    duration_ms: float
    phases: dict[str, int]
    n_plus_one: list[NPlusOne]
    shapes_dropped: int


class NetworkCall(TypedDict):
    """Outbound connections or requests of one attempt to one endpoint (URL without query string)."""

    kind: str
    scheme: str
    host: str | None
    port: int | None
    url: str | None
    loopback: bool
    phase: str
    count: int


class AllocationSite(TypedDict):
    site: str
    size_kb: float
    count: int


class TestMemory(TypedDict):
    """Resident memory around one attempt, in KiB; `top` only in tracemalloc mode."""

    rss_start_kb: int | None
    rss_end_kb: int | None
    rss_peak_kb: int | None
    peak_exact: bool
    growth_kb: int | None
    traced_peak_kb: float | None
    top: list[AllocationSite] | None


class TestCpu(TypedDict):
    """CPU time of the thread that ran the attempt (on Linux; the whole process elsewhere), in milliseconds."""

    user_ms: float
    system_ms: float


# Functional syntax because the trim-telemetry field name `class` is a Python keyword.
TestRecord = TypedDict(
    "TestRecord",
    {
        "schema_version": str,
        "kind": Literal["test"],
        "run_id": str,
        "id": str,
        "name": str,
        "class": str | None,
        "module": str | None,
        "file": str | None,
        "line": int | None,
        "params": dict[str, str] | None,
        "status": Status,
        "when": Phase | None,
        "start_time": str | None,
        "end_time": str | None,
        "duration_ms": float,
        "phases": Phases,
        "worker": str | None,
        "attempt": int,
        "final": bool,
        "assertions": Assertions,
        "failure": Failure | None,
        "reason": str | None,
        "markers": list[str],
        "db": DbSummary | None,
        "db_queries": list[DbQuery] | None,
        "network": list[NetworkCall] | None,
        "net_urls": list[str] | None,
        "memory": TestMemory | None,
        "cpu": TestCpu | None,
    },
)
TestRecord.__doc__ = "One attempt of one test (a rerun is a second record with `attempt` 2)."


class Counts(TypedDict):
    """Tests by final status (the last attempt of each test decides)."""

    passed: int
    failed: int
    error: int
    skipped: int
    xfailed: int
    xpassed: int


class AssertionTotals(TypedDict):
    total: int | None
    passed: int | None
    failed: int


class Memory(TypedDict):
    peak_rss_kb: int | None
    processes: dict[str, int]  # peak RSS of each process: "main", and each worker by id


class Effects(TypedDict):
    """Run totals of the instruments; None where the instrument was off."""

    db_queries: int | None
    db_duration_ms: float | None
    n_plus_one_tests: int | None
    external_network_tests: int | None


class Cpu(TypedDict):
    user_s: float | None
    system_s: float | None


class Coverage(TypedDict):
    """Coverage totals of the run, as `coverage report` gives them for the run's combined data."""

    percent: float  # coverage report's TOTAL: lines and branches together when branches are measured
    lines_pct: float | None
    branches_pct: float | None
    covered: int | None  # lines
    total: int | None  # statements
    branches_covered: int | None
    branches_total: int | None
    paths: None
    source: str  # "suitescope" (--suitescope-cov), or read from "pytest-cov" (--cov) or "coverage.py" (coverage run)


class PythonInfo(TypedDict):
    implementation: str
    version: str


class Framework(TypedDict):
    name: str
    version: str | None


class OsInfo(TypedDict):
    name: str
    release: str


class CiInfo(TypedDict):
    provider: str
    build_id: str | None
    build_url: str | None
    branch: str | None
    commit: str | None
    pr: str | None


class GitInfo(TypedDict):
    commit: str | None
    branch: str | None
    dirty: bool | None


class Environment(TypedDict):
    python: PythonInfo
    framework: Framework
    os: OsInfo
    arch: str
    ci: CiInfo | None
    git: GitInfo | None
    host: str


class Configuration(TypedDict):
    workers: int
    reruns: int | None
    randomly_seed: int | None
    plugins: dict[str, str]
    options: list[str]


class Collector(TypedDict):
    name: str
    version: str


class Consent(TypedDict):
    recording: str
    sending: bool
    anonymity: str | None  # how the payload names the project: named, anonymous, keep-vendor (None: not sent)


class RunRecord(TypedDict):
    """One per run, written last: every summary a reader needs without a second pass over the tests."""

    schema_version: str
    kind: Literal["run"]
    run_id: str
    project: str | None
    vendor: str | None
    started: str
    finished: str | None
    duration_ms: float | None
    tests_duration_ms: float
    exit_status: int | None
    state: RunState
    counts: Counts
    tests: int
    attempts: int
    reruns: int
    classes: int
    modules: int
    assertions: AssertionTotals
    exceptions: int
    errors: int
    collection_errors: int
    subtests_failed: int
    tests_expected: int | None
    tests_executed: int
    lost_workers: int
    memory: Memory
    cpu: Cpu
    effects: Effects
    coverage: Coverage | None
    environment: Environment
    configuration: Configuration
    collector: Collector
    consent: Consent


Record = TestRecord | RunRecord
