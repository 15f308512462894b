"""Failure type, message and a fingerprint that groups the same failure across runs and machines.

The fingerprint hashes the exception type and the frames of the traceback that lie inside the project, each as
(path relative to the root, function name). Line numbers, absolute paths, memory addresses and values are left
out, so an unrelated edit above the failing line, another checkout folder or another machine gives the same
fingerprint, while a failure raised from another place gives another one.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from suitescope.schema.records import Failure

MESSAGE_LIMIT = 2000
MAX_FRAMES = 30
_OUTSIDE = ("site-packages", "dist-packages", f"{os.sep}lib{os.sep}python")
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\b\d+(\.\d+)?\b|'[^']*'|\"[^\"]*\"")


def exception_type(exc: BaseException) -> str:
    """`ValueError` for builtins, `package.module.Error` for the rest."""
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def project_frames(tb: TracebackType | None, root: str) -> list[tuple[str, str]]:
    """(relative path, function) of each traceback frame inside `root`, outer first, repeats collapsed."""
    frames: list[tuple[str, str]] = []
    prefix = root.rstrip(os.sep) + os.sep
    while tb is not None:
        code = tb.tb_frame.f_code
        filename = code.co_filename
        if filename.startswith(prefix) and not any(part in filename[len(prefix) :] for part in _OUTSIDE):
            frame = (Path(filename[len(prefix) :]).as_posix(), getattr(code, "co_qualname", code.co_name))
            if not frames or frames[-1] != frame:
                frames.append(frame)
        tb = tb.tb_next
    return frames[-MAX_FRAMES:]


def fingerprint(exc_type: str, frames: Iterable[tuple[str, str]], message: str = "") -> str:
    """16 hex digits; the message counts only when no frame of the project is known."""
    frames = list(frames)
    basis = [exc_type, *(f"{path}:{func}" for path, func in frames)]
    if not frames:
        basis.append(normalise_message(message))
    return hashlib.sha256("\n".join(basis).encode("utf-8", "replace")).hexdigest()[:16]


def normalise_message(message: str) -> str:
    """First line of a message with numbers, addresses and quoted values blanked out."""
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    return _VOLATILE.sub("_", first_line)


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(exc: BaseException, root: str) -> Failure:
    """The failure record of one exception raised by a test."""
    exc_type = exception_type(exc)
    message = str(exc)
    return {
        "type": exc_type,
        "message": truncate(message),
        "fingerprint": fingerprint(exc_type, project_frames(exc.__traceback__, root), message),
    }


def describe_text(exc_type: str, message: str, where: str) -> Failure:
    """A failure known only as text (a crashed worker, a strict XPASS): `where` stands in for frames."""
    return {
        "type": exc_type,
        "message": truncate(message),
        "fingerprint": fingerprint(exc_type, [(where, "")], message),
    }
