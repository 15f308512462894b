"""SQL statements reduced to a shape: literals and bound values out, `IN (...)` lists collapsed, whitespace and
case folded, so that the same query with other values groups under one fingerprint.

The normalised text is also what leaves the test process as `sql`: it holds no literal, so no value a test put
in a query (an e-mail, a token) is ever recorded unless the user asks for parameters. Normalising costs a few
regular expressions; the ORMs send the same parametrised text again and again, so the result is cached by the
raw text, in a bounded dict.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

SQL_LIMIT = 1000  # characters of normalised SQL kept per query shape
CACHE_LIMIT = 4096

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRINGS = re.compile(r"[eEnNxXbB]?'(?:[^']|'')*'")
_DOLLAR_QUOTED = re.compile(r"\$(\w*)\$.*?\$\1\$", re.S)
_PLACEHOLDERS = re.compile(r"%\(\w+\)s|%s|\?\d*|(?<![:\w]):\w+|\$\d+")
_NUMBERS = re.compile(r"(?<![\w.\"`])[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)(?![\w\"`])")
_SAVEPOINT = re.compile(r"\b(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\s+\S+", re.I)
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")  # (?, ?, ?) after values became ?
_ROWS = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")  # VALUES (...), (...), ...
_SPACE = re.compile(r"\s+")
_KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


class Shape(NamedTuple):
    """What a query is, without its values."""

    sql: str  # normalised text, original case, truncated
    fingerprint: str  # 16 hex digits of a hash of the case-folded text
    kind: str  # SELECT, INSERT, UPDATE, DELETE or OTHER


_cache: dict[str, Shape] = {}


def shape(raw: str) -> Shape:
    """The shape of one statement (cached: called once per query executed)."""
    found = _cache.get(raw)
    if found is None:
        if len(_cache) >= CACHE_LIMIT:
            _cache.clear()  # queries with inline literals would otherwise grow it without end
        found = _cache[raw] = _shape(raw)
    return found


def normalise(raw: str) -> str:
    text = _COMMENTS.sub(" ", raw)
    text = _DOLLAR_QUOTED.sub("?", text)
    text = _STRINGS.sub("?", text)
    text = _PLACEHOLDERS.sub("?", text)
    text = _NUMBERS.sub("?", text)
    text = _SAVEPOINT.sub(lambda m: f"{m.group(1)} ?", text)
    text = _LIST.sub("(...)", text)
    text = _ROWS.sub("(...)", text)
    return _SPACE.sub(" ", text).strip()


def _shape(raw: str) -> Shape:
    text = normalise(raw)
    folded = text.lower()
    digest = hashlib.blake2b(folded.encode(), digest_size=8).hexdigest()
    return Shape(text[:SQL_LIMIT], digest, kind_of(folded))


def kind_of(folded: str) -> str:
    """The statement kind; a `WITH` query is the kind of the statement its common table expressions feed."""
    head = folded.lstrip("( ")[:6].upper()
    if head in _KINDS:
        return head
    if head.startswith("WITH"):
        last = max(((folded.rfind(k.lower()), k) for k in _KINDS), default=(-1, "OTHER"))
        return last[1] if last[0] >= 0 else "OTHER"
    return "OTHER"
