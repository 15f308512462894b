"""What the per-test coverage map costs and saves, against coverage.py's own per-test contexts.

Generates a package of `--modules` modules (default 1,500) and a suite of `--tests` tests in `--shards` files
(default 16), each test calling functions of a few modules. Then:

1. **Recording per shard**, as 16 workers would: each shard once under pytest-cov with per-test contexts
   (`--cov-context=test`, which gives coverage.py data files), once with suitescope's map
   (`--suitescope-cov-map`, which gives a map per shard).
2. **Merging the 16 files**: coverage.py's `Coverage.combine` of the 16 data files (what `coverage combine`
   runs) against suitescope's `merge` of the 16 maps (what `suitescope coverage merge` runs), both in this
   process so that neither pays for starting Python; and the size of each merged file.
3. **Wall time with the map on**: the whole suite with `-n WORKERS` (default 2, the cores here) under plain
   `--cov --cov-branch` (with its terminal report) and under `--suitescope --suitescope-cov --suitescope-cov-map`,
   interleaved in `--rounds` rounds.

Targets (issue 5): merge >= 10x faster, merged file >= 5x smaller, wall time with the map <= 1.3x plain --cov.

    python tests/bench/coverage_map.py [--modules 1500] [--tests 3200] [--shards 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from suitescope.coverage.testmap import merge
from tests.bench.interleave import bench_env

MODULE = "".join(
    f"def f{k}(x):\n    if x > {k}:\n        y = x - {k}\n    else:\n        y = {k} - x\n    return y * 2\n\n\n"
    for k in range(8)
)
HELPERS = "def shared(x):\n    total = 0\n    for i in range(3):\n        total += i * x\n    return total\n"


def generate(root: Path, modules: int, tests: int, shards: int) -> None:
    package = root / "bigpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text(HELPERS)
    for m in range(modules):
        (package / f"m{m:04d}.py").write_text(MODULE)
    (root / "tests").mkdir()
    (root / "tests" / "__init__.py").write_text("")
    per_shard = max(1, tests // shards)
    for s in range(shards):
        lines = ["import importlib\n\nfrom bigpkg.helpers import shared\n\n"]
        for t in range(per_shard):
            n = s * per_shard + t
            first, second = n % modules, (n * 7 + 3) % modules
            lines.append(
                f"\ndef test_{t}():\n"
                f"    a = importlib.import_module('bigpkg.m{first:04d}')\n"
                f"    b = importlib.import_module('bigpkg.m{second:04d}')\n"
                f"    assert a.f{n % 8}({n % 11}) >= 0 and b.f{(n + 3) % 8}({n % 5}) >= 0 and shared({n % 4}) >= 0\n"
            )
        (root / "tests" / f"test_shard{s:02d}.py").write_text("".join(lines))


def pytest_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args]


def run(cmd: list[str], cwd: Path, **env: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=bench_env(**env), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def record_shards(root: Path, shards: int, progress: bool) -> tuple[list[Path], list[Path]]:
    """Each shard once with per-test contexts (coverage.py data) and once with our map."""
    data_files, maps = [], []
    for s in range(shards):
        shard = f"tests/test_shard{s:02d}.py"
        data = root / "ctx" / f".coverage.shard{s:02d}"
        data.parent.mkdir(exist_ok=True)
        run(pytest_cmd(shard, "--cov=bigpkg", "--cov-branch", "--cov-context=test", "--cov-report="), root,
            COVERAGE_FILE=str(data))  # fmt: skip
        data_files.append(data)
        out = root / "maps" / f"shard{s:02d}"
        run(pytest_cmd(shard, "--suitescope", "--suitescope-instruments=none", "--suitescope-cov=bigpkg",
                       "--suitescope-cov-map", f"--suitescope-dir={out}"), root)  # fmt: skip
        maps.extend(sorted(out.glob("*.testmap")))
        if progress:
            print(f"\rrecorded shard {s + 1}/{shards}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return data_files, maps


def merge_figures(root: Path, data_files: list[Path], maps: list[Path]) -> dict[str, float]:
    """Both merges in this process, through each tool's own API, so that neither pays for starting Python."""
    import coverage

    combined = root / "combined" / ".coverage"
    combined.parent.mkdir()
    start = time.perf_counter()
    cov = coverage.Coverage(data_file=str(combined))
    cov.combine([str(p) for p in data_files], keep=True)
    cov.save()
    coverage_s = time.perf_counter() - start
    ours = root / "merged.testmap"
    start = time.perf_counter()
    merge(maps, ours)
    ours_s = time.perf_counter() - start
    return {
        "coverage_combine_s": coverage_s,
        "suitescope_merge_s": ours_s,
        "coverage_combined_bytes": combined.stat().st_size,
        "suitescope_merged_bytes": ours.stat().st_size,
        "inputs_coverage_bytes": sum(p.stat().st_size for p in data_files),
        "inputs_suitescope_bytes": sum(p.stat().st_size for p in maps),
    }


def wall_figures(root: Path, workers: int, rounds: int, progress: bool) -> dict[str, list[float]]:
    variants = {
        "plain --cov": pytest_cmd("-n", str(workers), "--cov=bigpkg", "--cov-branch"),
        "suitescope map": pytest_cmd(
            "-n",
            str(workers),
            "--suitescope",
            "--suitescope-instruments=none",
            "--suitescope-cov=bigpkg",
            "--suitescope-cov-map",
            f"--suitescope-dir={root / 'wall'}",
        ),
    }
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % 2 :] + names[: r % 2]:
            seconds[name].append(run(variants[name], root))
            if progress:
                print(f"\rround {r + 1}/{rounds} {name:<15}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=1500)
    parser.add_argument("--tests", type=int, default=3200)
    parser.add_argument("--shards", type=int, default=16, help="per-worker files to merge (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="xdist workers for the wall-time runs (default 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="suitescope-bench-cov-") as tmp:
        root = Path(tmp)
        generate(root, args.modules, args.tests, args.shards)
        data_files, maps = record_shards(root, args.shards, not args.quiet)
        merged = merge_figures(root, data_files, maps)
        wall = wall_figures(root, args.workers, args.rounds, not args.quiet)
    ratios = [m / p for m, p in zip(wall["suitescope map"], wall["plain --cov"], strict=True)]
    figures: dict[str, Any] = {**merged, "wall": wall, "wall_ratio": statistics.median(ratios)}
    speed = merged["coverage_combine_s"] / merged["suitescope_merge_s"]
    smaller = merged["coverage_combined_bytes"] / merged["suitescope_merged_bytes"]
    print(f"per-test coverage, {args.modules} modules, {args.tests} tests, {args.shards} per-worker files")
    combine_s, merge_s = merged["coverage_combine_s"], merged["suitescope_merge_s"]
    print(
        f"  merge:  coverage combine {combine_s:.2f}s, suitescope {merge_s:.2f}s"
        f" = {speed:.1f}x faster (target >= 10x: {'met' if speed >= 10 else 'NOT met'})"
    )
    print(
        f"  size:   coverage {merged['coverage_combined_bytes'] / 1024:.0f} KiB, suitescope "
        f"{merged['suitescope_merged_bytes'] / 1024:.0f} KiB = {smaller:.1f}x smaller "
        f"(target >= 5x: {'met' if smaller >= 5 else 'NOT met'})"
    )
    plain, ours = statistics.median(wall["plain --cov"]), statistics.median(wall["suitescope map"])
    print(
        f"  wall:   -n {args.workers} plain --cov {plain:.2f}s, with the map {ours:.2f}s = {figures['wall_ratio']:.3f}"
        f" (median of per-round ratios; target <= 1.3: {'met' if figures['wall_ratio'] <= 1.3 else 'NOT met'})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
