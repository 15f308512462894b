"""Reports that were not sent, kept on disk until `suitescope upload` (or the next run) sends them.

One file per run, `<run_id>.ndjson.gz`, holding exactly the payload that would have been sent (already
anonymised and redacted). The directory is bounded: past `max_bytes` the oldest reports are dropped, and how
many were is counted in `dropped`, so a machine that never reaches its server does not fill its disk.
"""

from __future__ import annotations

import os
from pathlib import Path

SUFFIX = ".ndjson.gz"
MAX_BYTES = 50 * 1024 * 1024


def default_spool_dir() -> Path:
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home()))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "suitescope" / "spool"


class Spool:
    def __init__(self, directory: Path, max_bytes: int = MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def put(self, run_id: str, payload: bytes) -> Path:
        """Keep a report (written to a temporary name, then renamed: never half a file); OSError if it cannot."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{run_id}{SUFFIX}"
        temporary = path.with_name(path.name + ".part")
        try:
            temporary.write_bytes(payload)
            os.replace(temporary, path)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
        self._bound()
        return path

    def pending(self) -> list[Path]:
        """Reports waiting, oldest first (run ids are time-ordered)."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{SUFFIX}"))

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    @property
    def dropped(self) -> int:
        try:
            return int((self.directory / "dropped").read_text())
        except (OSError, ValueError):
            return 0

    def _bound(self) -> None:
        files = self.pending()
        sizes = {path: path.stat().st_size for path in files}
        total = sum(sizes.values())
        dropped = 0
        for path in files[:-1]:  # never the newest: it was just kept on purpose
            if total <= self.max_bytes:
                break
            total -= sizes[path]
            self.remove(path)
            dropped += 1
        if dropped:
            (self.directory / "dropped").write_text(str(self.dropped + dropped))
