"""Console-script entry point: a clear message instead of a traceback when the `cli` extra is missing."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from suitescope.cli.commands import cli
    except ImportError as exc:  # click or rich missing: the collector alone needs neither
        sys.stderr.write(
            f"suitescope: the command line needs the 'cli' extra ({exc.name} is not installed).\n"
            "Install it with:  pip install 'suitescope[cli]'\n"
        )
        raise SystemExit(2) from None
    cli()


if __name__ == "__main__":
    main()
