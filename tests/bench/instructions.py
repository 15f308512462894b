"""What recording costs in instructions: the whole pytest run of each variant under valgrind's callgrind.

Wall time on a shared machine moves by several percent from one run of the same command to the next; the
number of instructions a run executes does not (the same count to within 0.01% here, run after run, whatever
else the machine does). It leaves out what instructions do not show (cache misses, time in the kernel), so it
stands beside the timed runs of `overhead.py`, not instead of them. It covers everything in the process:
start-up, imports, every hook, garbage collection, the end of the run. Each variant runs once first without
valgrind, so that every bytecode cache is written, as in a user's installed copy. Only without xdist: the
workers are other processes.

    python tests/bench/instructions.py [--tests 100,500] [--at 5000]      # = suitescope bench instructions

Two suite sizes split each variant's count into a fixed part and a part per test; with them the ratio for a
suite of `--at` tests is worked out (5,000, the size `overhead.py` times, takes an hour under callgrind).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from tests.bench.overhead import VARIANTS, generate, pytest_run

COLLECTED = re.compile(r"Collected : (\d+)")

# Loaded into every variant's runs. Under callgrind code runs about 50 times slower, so suitescope's one-second
# deadlines for its batches (`pytest_assembler.ASSEMBLE_EVERY_S`, `recorder.ENCODE_EVERY_S`) would cut them 50
# times smaller than a real run does, and count batch overhead a real run never pays (an earlier version of
# this benchmark moved by 15% per test between two runs of the same code, as valgrind's speed varied). The
# deadlines are scaled by that slowdown; the modules are patched only where the run has imported them.
VALGRIND_PLUGIN = """
import sys

SLOWDOWN = 50


def pytest_sessionstart(session):
    for module, name in (
        ("suitescope.collector.pytest_assembler", "ASSEMBLE_EVERY_S"),
        ("suitescope.collector.recorder", "ENCODE_EVERY_S"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None:
            setattr(loaded, name, getattr(loaded, name) * SLOWDOWN)
"""


def instructions(root: Path, variant: str) -> int:
    """Instructions executed by one run of `variant` on the suite at `root`."""
    (root / "bench_valgrind.py").write_text(VALGRIND_PLUGIN)
    with tempfile.TemporaryDirectory() as out:
        # The plugins of the timed runs (`overhead.ONLY_PLUGINS`), and the same dict layouts every run.
        command, env = pytest_run(
            variant,
            0,
            out,
            installed=False,
            extra=["-p", "bench_valgrind"],
            PYTHONHASHSEED="0",
            PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
        )
        subprocess.run(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
        done = subprocess.run(
            valgrind,
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            capture_output=False,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind gave no count for {variant}: {done.stderr[-500:]}")
    return int(found.group(1))


def measure(root: Path) -> dict[str, int]:
    """Every variant's count, as many at a time as there are cores (callgrind runs one thread)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(VARIANTS, pool.map(lambda variant: instructions(root, variant), VARIANTS), strict=True))


def render(small: dict[str, int], large: dict[str, int], sizes: tuple[int, int], at: int) -> str:
    """Counts at both sizes, split into a fixed part (start-up, the end of the run) and a part per test (the
    difference between the two sizes), and the ratio those give for a suite of `at` tests."""
    (n_small, n_large), plain = sizes, "plain"
    per_test = {v: (large[v] - small[v]) / (n_large - n_small) for v in large}
    fixed = {v: small[v] - per_test[v] * n_small for v in large}
    at_size = {v: fixed[v] + per_test[v] * at for v in large}
    lines = [
        f"instructions executed by the whole run, no xdist (valgrind --tool=callgrind), {n_small} and {n_large} tests",
        "",
        f"  {'variant':<11} {f'{n_small} tests':>15} {f'{n_large} tests':>15} {'ratio':>6} "
        f"{'fixed, over plain':>18} {'per test, over plain':>21} {f'ratio at {at:,}':>14}",
    ]
    for v in large:
        lines.append(
            f"  {v:<11} {small[v]:>15,} {large[v]:>15,} {large[v] / large[plain]:>6.3f} "
            f"{fixed[v] - fixed[plain]:>18,.0f} {per_test[v] - per_test[plain]:>21,.0f} "
            f"{at_size[v] / at_size[plain]:>14.3f}"
        )
    lines.append(f"  (the last column: each variant's fixed part plus {at:,} times its part per test)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tests", default="100,500", help="two suite sizes, smaller first (default 100,500)")
    parser.add_argument("--at", type=int, default=5000, help="suite size to work the ratio out for (default 5000)")
    args = parser.parse_args(argv)
    n_small, n_large = (int(n) for n in args.tests.split(","))
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    counts = []
    for size in (n_small, n_large):
        with tempfile.TemporaryDirectory(prefix="suitescope-bench-") as tmp:
            root = Path(tmp)
            print(f"{size} tests: {len(VARIANTS)} variants under callgrind...", file=sys.stderr)
            counts.append((generate(root, size), measure(root)))
    (n_small, small), (n_large, large) = counts
    print(render(small, large, (n_small, n_large), args.at))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
