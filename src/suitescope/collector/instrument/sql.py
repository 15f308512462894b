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

# One left-to-right pass, so a `--` inside a string and a quote inside a comment are each read as what they are.
_STRINGS_AND_COMMENTS = re.compile(
    r"(?P<string>[eEnNxXbB]?'(?:[^']|'')*'|\$(?P<tag>\w*)\$.*?\$(?P=tag)\$)|--[^\n]*|/\*.*?\*/", re.S
)
_PLACEHOLDERS = re.compile(r"%\(\w+\)s|%s|\?\d*|(?<![:\w]):\w+|\$\d+")
_NUMBERS = re.compile(r"(?<![\w.\"`])[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)(?![\w\"`])")
_SAVEPOINT = re.compile(r"\b(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\s+\S+", re.I)
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")  # (?, ?, ?) after values became ?
_ROWS = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")  # VALUES (...), (...), ...
_CATALOG = re.compile(r"\b(?:sqlite_master|sqlite_schema|information_schema|pg_catalog|pg_class|pg_attribute)\b")
_SPACE = re.compile(r"\s+")
_KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_TOKENS = re.compile(r"[()]|\b(?:select|insert|update|delete)\b")


class Shape(NamedTuple):
    """What a query is, without its values."""

    sql: str  # normalised text, original case, truncated
    fingerprint: str  # 16 hex digits of a hash of the case-folded text
    kind: str  # SELECT, INSERT, UPDATE, DELETE or OTHER
    catalog: bool  # reads the database's own catalog (schema introspection), never an N+1 finding


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
    text = _STRINGS_AND_COMMENTS.sub(lambda m: "?" if m.group("string") else " ", raw)
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
    return Shape(text[:SQL_LIMIT], digest, kind_of(folded), _CATALOG.search(folded) is not None)


def kind_of(folded: str) -> str:
    """The statement kind; a `WITH` query is the kind of the statement its common table expressions feed."""
    head = folded.lstrip("( ")[:6].upper()
    if head in _KINDS:
        return head
    if head.startswith("WITH"):
        depth = 0
        for token in _TOKENS.finditer(folded):
            text = token.group()
            if text == "(":
                depth += 1
            elif text == ")":
                depth -= 1
            elif depth == 0:  # the first statement outside the common table expressions' parentheses
                return text.upper()
    return "OTHER"
