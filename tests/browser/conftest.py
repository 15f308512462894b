"""A real `suitescope serve` with seeded history, and Debian's Chromium driven by Playwright.

Chromium comes from Debian (`/usr/bin/chromium`), never from Playwright's own download: when it is missing, the
setup installs it with apt, and fails (it does not skip) when it cannot. Screenshots go to a temporary folder,
or to `SUITESCOPE_SCREENSHOTS` (`make screenshots` sets it to docs/screenshots)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from suitescope.schema.records import Coverage
from tests.server.factory import add_host, add_query, make_report, ndjson
from tests.server.serving import ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
# A name that would run script if any page put it into HTML unescaped.
EVIL = 'test_<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
NAMES = ["test_checkout_slow", "test_cart_flaky", "test_orders_n_plus_one", "test_prices_unmocked", EVIL]


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt when it is missing."""
    if not CHROMIUM.exists():
        apt = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(apt, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
            done = subprocess.run(apt, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.fail(f"Chromium is missing and `apt-get install chromium` failed:\n{done.stderr[-2000:]}")
    return CHROMIUM


@dataclass
class Site:
    url: str
    read_token: str  # of the private project
    runs: list[str] = field(default_factory=list)


def cli(data_dir: Path, *args: str) -> str:
    command = [sys.executable, "-m", "suitescope.cli.main", *args, "--data-dir", str(data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def seed(url: str, ingest: str, private_ingest: str) -> list[str]:
    """Eight CI runs over a week: a test getting slower, a flaky one, an N+1 query, an unmocked call, a test named
    like markup failing once, coverage drifting down, a release annotation between the 4th and 5th run; and one
    run of a private project."""
    start = datetime.now(timezone.utc) - timedelta(days=7)
    run_ids = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for number in range(8):
            statuses = ["passed", "failed" if number in (2, 5) else "passed", "passed", "passed", "passed"]
            statuses[4] = "failed" if number == 6 else "passed"
            run, tests = make_report(
                statuses,
                names=NAMES,
                durations=[40.0 + 15 * number, 3.0, 5.0, 4.0, 1.0],
                started=start + timedelta(days=number * 0.8),
                commit=f"c{number // 2}",
                python=("3.12.4", "3.13.0")[number % 2],
                ci=True,
            )
            run["coverage"] = Coverage(
                percent=91.0 - number, lines_pct=91.0 - number, branches_pct=None, covered=910 - 10 * number,
                total=1000, branches_covered=None, branches_total=None, paths=None, source="pytest-cov",
            )  # fmt: skip
            add_query(tests[2], "SELECT * FROM orders_item WHERE order_id = ?", "a1b2", 12, n_plus_one=True)
            add_host(tests[3], "prices.example.com", count=3)
            headers = {"Authorization": f"Bearer {ingest}", "Content-Type": "application/x-ndjson"}
            assert client.post("/api/v1/runs", content=ndjson(run, tests), headers=headers).status_code == 202
            run_ids.append(run["run_id"])
            if number == 3:
                note = {"kind": "release", "title": "shop 2.1.0", "version": "2.1.0"}
                note["at"] = (start + timedelta(days=number * 0.8 + 0.4)).isoformat()
                auth = {"Authorization": f"Bearer {ingest}"}
                assert client.post("/api/v1/annotations", json=note, headers=auth).status_code == 201
        private, tests = make_report(names=["test_secret_a", "test_secret_b", "test_secret_c"])
        headers = {"Authorization": f"Bearer {private_ingest}", "Content-Type": "application/x-ndjson"}
        assert client.post("/api/v1/runs", content=ndjson(private, tests), headers=headers).status_code == 202
        for run_id in run_ids:
            wait_stored(client, run_id, ingest)
        wait_stored(client, private["run_id"], private_ingest)
    return run_ids


def wait_stored(client: httpx.Client, run_id: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get(f"/api/v1/reports/{run_id}", headers=headers).json().get("state") == "stored":
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} was not stored in 30 s")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("serve")
    cli(data_dir, "migrate")
    cli(data_dir, "project", "create", "demo/shop", "--public")
    cli(data_dir, "project", "create", "acme/secret")
    ingest = cli(data_dir, "token", "create", "--project", "demo/shop", "--scope", "ingest")
    private_ingest = cli(data_dir, "token", "create", "--project", "acme/secret", "--scope", "ingest")
    read = cli(data_dir, "token", "create", "--project", "acme/secret", "--scope", "read")
    server = ServeProcess(data_dir, "--rate-limit", "0")
    try:
        yield Site(server.url, read, seed(server.url, ingest, private_ingest))
    finally:
        server.stop()


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while it is
# open, and later tests of the same process that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


class Console:
    """What a page printed to its console as errors, and the exceptions it raised."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def page(browser: Browser) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.console = Console(opened)  # type: ignore[attr-defined]
    yield opened
    context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("SUITESCOPE_SCREENSHOTS")
    target = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target
