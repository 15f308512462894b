"""The options every runner takes (pytest's plugin, `python -m suitescope.unittest`, the Django runner), in one
table so that their names, defaults and help read the same everywhere. Each entry is (flag, keyword arguments of
argparse's `add_argument`, which pytest's `addoption` accepts too). Standard library only: pytest loads this with
the plugin, before anything knows whether recording is on.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DIR = ".telemetry"

RUN_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "--suitescope-dir",
        {
            "metavar": "DIR",
            "default": None,
            "help": f"directory for run files (default: SUITESCOPE_DIR, pytest's ini 'suitescope_dir', or "
            f"{DEFAULT_DIR} in the project root).",
        },
    ),
    (
        "--suitescope-project",
        {
            "metavar": "[VENDOR/]NAME",
            "default": None,
            "help": "project name for the run record (default: [project].name of pyproject.toml in the root).",
        },
    ),
    (
        "--suitescope-instruments",
        {
            "metavar": "LIST",
            "default": None,
            "help": "what to record per test besides outcomes: db (queries), net (connections), mem (memory, CPU); "
            "comma-separated, 'all' (default) or 'none'. pytest: also ini 'suitescope_instruments'.",
        },
    ),
    (
        "--suitescope-n-plus-one",
        {
            "metavar": "N",
            "type": int,
            "default": None,
            "help": "report an N+1 finding when one test runs the same SELECT shape N times or more (default 5).",
        },
    ),
    (
        "--suitescope-url",
        {
            "metavar": "URL",
            "default": None,
            "help": "send the run to this suitescope server (also SUITESCOPE_URL; pytest: ini 'suitescope_url'); "
            "needs SUITESCOPE_TOKEN. DO_NOT_TRACK=1 or SUITESCOPE_SEND=0 stop sending whatever else says.",
        },
    ),
    (
        "--suitescope-dry-run",
        {
            "action": "store_true",
            "default": False,
            "help": "send nothing: write the payload that would be sent (anonymised, redacted) next to the run file.",
        },
    ),
    (
        "--suitescope-anonymity",
        {
            "choices": ["named", "anonymous", "keep-vendor"],
            "default": None,
            "help": "how the payload names the project (default: named when --suitescope-project is given, or "
            "pytest's ini 'suitescope_project_from_pyproject' is true; anonymous otherwise).",
        },
    ),
    (
        "--suitescope-sql-params",
        {
            "action": "store_true",
            "default": False,
            "help": "also record a sample of each query's parameters (off: no value a test used is recorded).",
        },
    ),
    (
        "--suitescope-block-network",
        {
            "action": "store_true",
            "default": False,
            "help": "fail a test that connects to a host that is not loopback (database ports and unix sockets "
            "are never blocked).",
        },
    ),
    (
        "--suitescope-cov",
        {
            "action": "append",
            "metavar": "SOURCE",
            "default": None,
            "help": "measure line and branch coverage of SOURCE (a package or directory; repeat for more) with "
            "coverage.py: totals in the run record, data in <run_id>.coverage next to the run file. pytest: in "
            "every xdist worker too; with pytest-cov's --cov, its figures are read instead (never measured "
            "twice). Not with the Django runner: run it under `coverage run` instead.",
        },
    ),
    (
        "--suitescope-cov-map",
        {
            "action": "store_true",
            "default": False,
            "help": "with --suitescope-cov: also record which lines and arcs each test ran (pytest: xdist workers "
            "included) into <run_id>.testmap next to the run file; see `suitescope affected`.",
        },
    ),
    (
        "--suitescope-memory",
        {
            "choices": ("rss", "peak", "tracemalloc"),
            "default": None,
            "help": "per-test memory: rss (default, cheap), peak (exact peaks; resets the kernel's high-water "
            "mark), tracemalloc (slow; adds the top allocation sites). pytest: also ini 'suitescope_memory'.",
        },
    ),
]


def add_run_options(parser: argparse.ArgumentParser | Any) -> None:
    """Add the table to an argparse parser (or a group of one), with `--no-suitescope`."""
    parser.add_argument(
        "--no-suitescope",
        action="store_true",
        default=False,
        help="run without recording (also SUITESCOPE=0).",
    )
    for flag, kwargs in RUN_OPTIONS:
        parser.add_argument(flag, **kwargs)


@dataclass
class RunSettings:
    """What a unittest or Django run records and where, from its options (argparse names)."""

    directory: Path
    project: str | None
    vendor: str | None
    instruments: Any  # InstrumentOptions, imported only once recording is on
    consent: str
    coverage: list[str] | None = None  # sources to measure with --suitescope-cov
    coverage_map: bool = False  # --suitescope-cov-map
    send: Any = None  # SendSettings: whether and how the run is sent


def split_project(name: str | None) -> tuple[str | None, str | None]:
    """`vendor/name` gives both; a bare name has no vendor."""
    if not name:
        return None, None
    vendor, _, project = name.rpartition("/")
    return project or None, vendor or None


def check_coverage_installed(sources: list[str] | None) -> None:
    """`--suitescope-cov` needs coverage.py: say how to get it rather than fail later, inside the run."""
    import importlib.util

    if sources and importlib.util.find_spec("coverage") is None:
        raise ValueError('--suitescope-cov needs coverage.py: pip install "suitescope[coverage]"')


def switched_off(no_suitescope: bool) -> bool:
    """`--no-suitescope`, or SUITESCOPE set to 0/false/no/off, turn recording off."""
    env = os.environ.get("SUITESCOPE", "").strip().lower()
    return no_suitescope or env in ("0", "false", "no", "off")


def run_settings(values: argparse.Namespace | Any, root: Path, consent: str) -> RunSettings:
    """Checked settings; raises ValueError naming a bad value (the runner prints it as a usage error)."""
    from suitescope.collector.environment import project_from_pyproject
    from suitescope.collector.instrument.options import instrument_options
    from suitescope.collector.send_settings import send_settings

    directory = values.suitescope_dir or os.environ.get("SUITESCOPE_DIR") or DEFAULT_DIR
    check_coverage_installed(getattr(values, "suitescope_cov", None))
    if getattr(values, "suitescope_cov_map", False) and not getattr(values, "suitescope_cov", None):
        raise ValueError("--suitescope-cov-map needs --suitescope-cov=SOURCE (the map is taken from that measurement)")
    project, vendor = split_project(values.suitescope_project or project_from_pyproject(root))
    return RunSettings(
        directory=root / directory,
        project=project,
        vendor=vendor,
        instruments=instrument_options(
            values.suitescope_instruments,
            values.suitescope_n_plus_one,
            values.suitescope_memory,
            bool(values.suitescope_sql_params),
            bool(values.suitescope_block_network),
        ),
        consent=consent,
        coverage=getattr(values, "suitescope_cov", None),
        coverage_map=bool(getattr(values, "suitescope_cov_map", False)),
        send=send_settings(
            values.suitescope_url,
            bool(values.suitescope_project),
            values.suitescope_anonymity,
            bool(values.suitescope_dry_run),
        ),
    )


def option_names(args: tuple[str, ...] | list[str]) -> list[str]:
    """The names of the command-line options used, never their values (`-n4` and `--foo=bar` give `-n`, `--foo`)."""
    names: set[str] = set()
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            names.add(arg.split("=", 1)[0])
        elif arg.startswith("-") and len(arg) > 1 and not arg[1].isdigit():
            names.add(arg[:2])
    return sorted(names)
