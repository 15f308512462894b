"""`suitescope worker --concurrency N`: N worker processes (a worker parses JSON and builds rows, work that
needs a core of its own, not a thread) kept running by one parent. SIGTERM or SIGINT to the parent is passed
on: each child finishes the batch in hand, acknowledges it and exits; the parent waits for them. A child that
dies on its own (killed, out of memory) is started again after a pause, and its leased jobs are reclaimed by
the next lease (at once on this host, after the visibility timeout from another)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger("suitescope.worker")
RESTART_PAUSE_S = 1.0


def supervise(concurrency: int, database: str, queue: str, stop: threading.Event) -> int:
    """Run `concurrency` workers until `stop` is set; then stop them gracefully. The URLs go to the children
    in their environment, so a password in them never shows in the process list."""
    env = {**os.environ, "SUITESCOPE_DATABASE": database, "SUITESCOPE_QUEUE": queue}
    command = [sys.executable, "-m", "suitescope.cli.main", "worker"]
    children = [subprocess.Popen(command, env=env) for _ in range(concurrency)]
    log.info("started %d worker processes: %s", concurrency, [child.pid for child in children])
    while not stop.wait(0.5):
        for place, child in enumerate(children):
            code = child.poll()
            if code is not None:
                log.warning("worker process %d exited with %s; starting another", child.pid, code)
                time.sleep(RESTART_PAUSE_S)
                children[place] = subprocess.Popen(command, env=env)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    codes = [child.wait() for child in children]
    return max(codes, default=0)
