"""Servers a fault test may stop, kill and restart without touching the machine's own: a PostgreSQL cluster
and a Redis server of its own, on free ports of 127.0.0.1, in temporary folders."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.server.serving import free_port


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL's tools refuse to run as root: run them as its own user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


class PrivatePostgres:
    """A cluster of its own (initdb, pg_ctl), so that stopping it stops nothing else."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert found, "PostgreSQL's server binaries are missing (Debian package postgresql)"
        self.bin = Path(found[-1]).parent
        self.root = Path(tempfile.mkdtemp(prefix="suitescope-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        subprocess.run(_as_postgres(*initdb), check=True, capture_output=True)
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w"]
        subprocess.run(_as_postgres(*pg_ctl, "start"), check=True, capture_output=True)

    def stop(self) -> None:
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
        subprocess.run(_as_postgres(*pg_ctl), check=False, capture_output=True)

    def count(self, sql: str) -> int:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A Redis of its own with AOF on and fsync at every write: what accepted must survive a kill -9."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="suitescope-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)]
        command += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self._answers, 10, "redis-server to answer")

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url).ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    """`suitescope ARGS` in a child process; the first line of its output (a token, for `token create`)."""
    done = subprocess.run(
        [sys.executable, "-m", "suitescope.cli.main", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
