"""The peak memory of this process, for the run record: read the same way with or without the instruments.

Its own module, standard library only, so that a run recorded without instruments never imports them.
"""

from __future__ import annotations

import os
import sys
from typing import Any

resource: Any
try:
    import resource
except ImportError:  # Windows
    resource = None

# ru_maxrss is in kilobytes on Linux and in bytes on macOS.
MAXRSS_DIVISOR = 1024 if sys.platform == "darwin" else 1


def vmhwm_kb(fd: int) -> int | None:
    """The process's own high-water mark (VmHWM of /proc/self/status, KiB), read from an open descriptor.

    getrusage's ru_maxrss is not always this: Linux carries a process's peak across exec into the program it
    runs, so a test process started by one that had peaked high (a test runner) starts with that peak, and
    `clear_refs` does not reset it. VmHWM is this process's alone."""
    text = os.pread(fd, 4096, 0)
    at = text.find(b"VmHWM:")
    return int(text[at + 6 : text.index(b"kB", at)]) if at >= 0 else None


def own_peak_kb() -> int | None:
    """This process's peak RSS in KiB: VmHWM on Linux, ru_maxrss elsewhere (None without either)."""
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY)
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // MAXRSS_DIVISOR if resource else None
    try:
        return vmhwm_kb(fd)
    finally:
        os.close(fd)
