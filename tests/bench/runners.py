"""What recording costs under unittest and Django: `python -m unittest` against `python -m suitescope.unittest`,
and `manage.py test` against `manage.py test --testrunner=suitescope.django.TestRunner`, side by side.

Variants: `plain` (the framework alone), `bare` (recording outcomes only: `--suitescope-instruments=none`) and
`all` (every instrument on, the default). Each run is a fresh subprocess; the variants alternate within each round
(the round's first variant rotates) and each is divided by the plain run of its round.

The unittest suite (default 3,000 tests) has setUp/tearDown, two assertions per test, 2% failures, skips, expected
failures and subtests, and each test does a fixed piece of pure-Python work (`--work`, default 1 ms): unittest's
own cost per test is about 20 µs, so a ratio means nothing without saying how much a test does. `--work 0`
gives the floor: trivial tests, where the ratio is mostly the recorder's fixed cost per test divided by
unittest's. The Django suite (default 500 tests) is a project on SQLite whose tests do what Django tests
mostly do: create a row, request a view through the test client (a query and a template) and check the page
and the database, each in a `TestCase` transaction.

Besides the ratios, one more run of each recording variant times suitescope's own code from inside the process
(the assembler's callbacks and the run's start and end), as a share of the run: the steadier figure.

    python tests/bench/runners.py [--unittest-tests 3000] [--django-tests 500] [--work 1.0] [--rounds 5]
                                  [--django-rounds 15]

The Django suite runs in under a second, where the machine's noise is a larger part of each run: it gets three
times the rounds by default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from tests.bench.interleave import bench_env

TARGETS = {"bare": 1.05, "all": 1.10}
INSTRUMENTS = {"plain": None, "bare": "none", "all": "all"}

# Loaded with PYTHONPATH in the extra runs: times suitescope's own callbacks within the process.
SELF_TIME = """
import atexit, functools, json, os, time

SPENT = [0.0]
START = time.perf_counter()


def timed(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[0] += time.perf_counter() - t
    return wrapper


from suitescope.collector import unittest_assembler, unittest_run  # noqa: E402

for cls, names in ((unittest_assembler.CaseAssembler, ("start", "outcome", "subtest", "stop")),
                   (unittest_run.UnittestRun, ("start", "finish"))):
    for name in names:
        setattr(cls, name, timed(getattr(cls, name)))


@atexit.register
def dump():
    path = os.path.join(os.environ["SELF_TIME_DIR"], f"{os.getpid()}.json")
    with open(path, "w") as fh:
        json.dump({"ours_s": SPENT[0], "process_s": time.perf_counter() - START}, fh)
"""

UNITTEST_HEAD = '''
import time
import unittest

WORK_S = {work}


def work():
    """A fixed piece of pure-Python work, as a real test does some."""
    end = time.perf_counter() + WORK_S
    while time.perf_counter() < end:
        sorted(range(50), key=lambda n: -n)


class Cart(unittest.TestCase):
    def setUp(self):
        self.items = {{"apple": 3, "pear": 2}}

    def tearDown(self):
        self.items.clear()

    def test_fails(self):
        work()
        self.assertEqual(self.items["apple"], 4)

    @unittest.skip("skipped")
    def test_skipped(self):
        pass

    @unittest.expectedFailure
    def test_xfail(self):
        self.assertEqual(1, 2)

    def test_subtests(self):
        work()
        for n in range(3):
            with self.subTest(n=n):
                self.assertLess(n, 5)
'''
UNITTEST_TEST = """
    def test_{k}(self):
        work()
        self.assertEqual(self.items["apple"] + {k}, 3 + {k})
        self.assertIn("pear", self.items)
"""
PER_MODULE = 50  # tests per module: 4 above and 46 more; one failure in 50 is 2%

DJANGO_SETTINGS = """
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "bench"
INSTALLED_APPS = ["shelf"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "bench.sqlite3")}}
ROOT_URLCONF = "shelf.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": False}]
ALLOWED_HOSTS = ["testserver"]
"""
DJANGO_VIEWS = """
from django.http import HttpResponse
from django.template import engines
from django.urls import path

from shelf.models import Item

PAGE = engines["django"].from_string(
    "<ul>{% for item in items %}<li>{{ item.name }}: {{ item.quantity }}</li>{% endfor %}</ul>"
)


def items(request):
    return HttpResponse(PAGE.render({"items": Item.objects.order_by("name")}, request))


urlpatterns = [path("items/", items)]
"""
DJANGO_MANAGE = """
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""
DJANGO_MODELS = """
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=50)
    quantity = models.IntegerField(default=0)
"""
DJANGO_HEAD = """
from django.test import TestCase

from shelf.models import Item


class Shelf{n}(TestCase):
    @classmethod
    def setUpTestData(cls):
        Item.objects.bulk_create(Item(name=f"item {{i}}", quantity=i) for i in range(5))
"""
DJANGO_TEST = """
    def test_{k}(self):
        Item.objects.create(name="new", quantity={k})
        response = self.client.get("/items/")
        self.assertContains(response, "new: {k}")
        self.assertEqual(Item.objects.filter(quantity__gte=0).count(), 6)
"""


def generate_unittest(root: Path, tests: int, work_ms: float) -> int:
    package = root / "bench_suite"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    modules = max(1, tests // PER_MODULE)
    for i in range(modules):
        body = UNITTEST_HEAD.format(work=work_ms / 1000)
        body += "".join(UNITTEST_TEST.format(k=k) for k in range(PER_MODULE - 4))
        (package / f"test_m{i:03d}.py").write_text(body)
    return modules * PER_MODULE


def generate_django(root: Path, tests: int) -> int:
    (root / "manage.py").write_text(DJANGO_MANAGE)
    (root / "bench_settings.py").write_text(DJANGO_SETTINGS)
    app = root / "shelf"
    (app / "tests").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(DJANGO_MODELS)
    (app / "urls.py").write_text(DJANGO_VIEWS)
    (app / "tests" / "__init__.py").write_text("")
    per_class = 50
    classes = max(1, tests // per_class)
    for n in range(classes):
        body = DJANGO_HEAD.format(n=n) + "".join(DJANGO_TEST.format(k=k) for k in range(per_class))
        (app / "tests" / f"test_shelf{n:02d}.py").write_text(textwrap.dedent(body))
    return classes * per_class


def command(kind: str, variant: str) -> list[str]:
    instruments = INSTRUMENTS[variant]
    if kind == "unittest":
        if instruments is None:
            return [sys.executable, "-m", "unittest", "discover", "-s", "bench_suite", "-t", "."]
        return [sys.executable, "-m", "suitescope.unittest", f"--suitescope-instruments={instruments}",
                "discover", "-s", "bench_suite", "-t", "."]  # fmt: skip
    base = [sys.executable, "manage.py", "test", "--noinput"]
    if instruments is None:
        return base
    return [*base, "--testrunner=suitescope.django.TestRunner", f"--suitescope-instruments={instruments}"]


def run_once(root: Path, kind: str, variant: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        command(kind, variant), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=bench_env()
    )
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{kind} {variant} exited with {proc.returncode}: run it by hand to see")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def self_time(root: Path, kind: str, variant: str) -> dict[str, float]:
    """suitescope's own seconds inside one recorded run, and the process's."""
    with tempfile.TemporaryDirectory() as hook_dir, tempfile.TemporaryDirectory() as out:
        Path(hook_dir, "sitecustomize.py").write_text(SELF_TIME)
        env = bench_env(SELF_TIME_DIR=out, PYTHONPATH=os.pathsep.join([hook_dir, str(root)]))
        subprocess.run(command(kind, variant), cwd=root, capture_output=True, env=env, check=False)
        figures = [json.loads(p.read_text()) for p in Path(out).glob("*.json")]
    ours = sum(f["ours_s"] for f in figures)
    total = max((f["process_s"] for f in figures), default=0.0)
    return {"ours_s": ours, "process_s": total, "share": ours / total if total else 0.0}


def measure(root: Path, kind: str, rounds: int, progress: bool) -> dict[str, list[tuple[float, float]]]:
    names = list(INSTRUMENTS)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(rounds):
        for variant in names[r % len(names) :] + names[: r % len(names)]:
            samples[variant].append(run_once(root, kind, variant))
            if progress:
                wall = samples[variant][-1][0]
                print(f"\r{kind} round {r + 1}/{rounds} {variant:<6} {wall:6.2f}s", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return samples


def summarise(samples: dict[str, list[tuple[float, float]]]) -> dict[str, dict[str, float]]:
    plain = samples["plain"]
    return {
        variant: {
            "median_seconds": statistics.median(s[0] for s in mine),
            "time_ratio": statistics.median(m[0] / p[0] for m, p in zip(mine, plain, strict=True)),
            "cpu_ratio": statistics.median(m[1] / p[1] for m, p in zip(mine, plain, strict=True)),
            "best_time_ratio": min(m[0] for m in mine) / min(p[0] for p in plain),
        }
        for variant, mine in samples.items()
    }


def render(kind: str, tests: int, table: dict[str, dict[str, float]], selves: dict[str, dict[str, float]]) -> str:
    lines = [
        f"{kind}: {tests} tests",
        f"  {'variant':<7} {'wall s':>7} {'time ratio':>10} {'best/best':>9} {'CPU ratio':>9}",
    ]
    for variant, row in table.items():
        lines.append(
            f"  {variant:<7} {row['median_seconds']:>7.2f} {row['time_ratio']:>10.3f} {row['best_time_ratio']:>9.3f}"
            f" {row['cpu_ratio']:>9.3f}"
        )
    for variant, target in TARGETS.items():
        verdict = "met" if table[variant]["time_ratio"] <= target else "NOT met"
        lines.append(f"  target {variant} <= {target}: {verdict}")
    lines.append("  time inside suitescope's own code, measured within one run:")
    for variant, mine in selves.items():
        lines.append(
            f"    {variant:<5} {mine['ours_s']:.3f}s of {mine['process_s']:.2f}s = {mine['share']:.2%} "
            f"(implied ratio {1 / (1 - mine['share']):.3f}, {mine['ours_s'] / tests * 1e6:.0f} us per test)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unittest-tests", type=int, default=3000, help="size of the unittest suite (0: skip it)")
    parser.add_argument("--django-tests", type=int, default=500, help="size of the Django suite (0: skip it)")
    parser.add_argument("--work", type=float, default=1.0, help="ms of work in each unittest test (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the unittest suite (default 5)")
    parser.add_argument(
        "--django-rounds",
        type=int,
        help="interleaved rounds of the Django suite (default: three times --rounds; its runs take a second)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    django_rounds = args.django_rounds or 3 * args.rounds
    data: dict[str, Any] = {"work_ms": args.work, "rounds": args.rounds, "django_rounds": django_rounds}
    outputs = []
    for kind, size in (("unittest", args.unittest_tests), ("django", args.django_tests)):
        if size <= 0:
            continue
        with tempfile.TemporaryDirectory(prefix=f"suitescope-bench-{kind}-") as tmp:
            root = Path(tmp)
            tests = generate_unittest(root, size, args.work) if kind == "unittest" else generate_django(root, size)
            rounds = args.rounds if kind == "unittest" else django_rounds
            table = summarise(measure(root, kind, rounds, progress=not args.quiet))
            selves = {variant: self_time(root, kind, variant) for variant in TARGETS}
        outputs.append(render(kind, tests, table, selves))
        data[kind] = {"tests": tests, "results": table, "self_time": selves}
    print("\n\n".join(outputs))
    if args.json:
        args.json.write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
