"""What the net instrument costs per connection: 2,000 HTTP requests with `requests` to a server on 127.0.0.1,
each on a new connection, with the instrument installed and recording against the same code without it.

The server runs in another process, so it does not compete with the client for the GIL. Target: at most 5%
more time.

    python tests/bench/connections.py [--requests 2000] [--rounds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from suitescope.collector.guard import Guard
from suitescope.collector.instrument.manager import Instruments
from suitescope.collector.instrument.options import InstrumentOptions
from tests.bench.interleave import alternate, median_ratio

TARGET = 1.05
SERVER = """
import http.server, sys

class Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, as the client makes them

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def workload(port: int, requests_count: int) -> Callable[[], None]:
    import requests

    def run() -> None:
        for i in range(requests_count):
            requests.get(f"http://127.0.0.1:{port}/item/{i % 50}?page=1", timeout=5).raise_for_status()

    return run


def instrumented(run: Callable[[], None]) -> Callable[[], None]:
    def measured() -> None:
        instruments = Instruments(Guard(strict=True), InstrumentOptions(frozenset({"net"})))
        instruments.begin()
        run()
        fields = instruments.end()
        instruments.close()
        assert sum(call["count"] for call in fields["network"]) >= 1, "nothing recorded: meaningless benchmark"

    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per run (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        run = workload(port, args.requests)
        run()  # warm up: imports, the server's first thread
        seconds = alternate(
            {"requests": run, "requests+suitescope": instrumented(run)}, args.rounds, progress=not args.quiet
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    ratio = median_ratio(seconds, "requests+suitescope", "requests")
    per_call_us = (min(seconds["requests+suitescope"]) - min(seconds["requests"])) / args.requests * 1e6
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(
        f"net instrument overhead, {args.requests} loopback HTTP requests per run, {args.rounds} interleaved rounds\n\n"
        f"plain {min(seconds['requests']):.2f}s  instrumented {min(seconds['requests+suitescope']):.2f}s  "
        f"ratio {ratio:.3f} (median)  {per_call_us:+.1f} us/request (best vs best)  target <= {TARGET}: {verdict}"
    )
    if args.json:
        data: dict[str, Any] = {"requests": args.requests, "rounds": args.rounds, "time_ratio": ratio}
        data["extra_us_per_request"] = per_call_us
        data["seconds"] = seconds
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
