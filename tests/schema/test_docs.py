"""docs/schema.md documents every field of every record type, and no field that does not exist."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

from suitescope.schema import records

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def fields(cls: type, prefix: str = "") -> set[str]:
    """Dotted paths of every field of a TypedDict, nested TypedDicts (also inside `X | None`) included; the
    fields of a list's items are `name[].field`."""
    paths: set[str] = set()
    for name, hint in typing.get_type_hints(cls).items():
        path = f"{prefix}{name}"
        paths.add(path)
        for candidate in typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,):
            if typing.is_typeddict(candidate):
                paths |= fields(candidate, f"{path}.")
            elif typing.get_origin(candidate) is list and typing.is_typeddict(typing.get_args(candidate)[0]):
                paths |= fields(typing.get_args(candidate)[0], f"{path}[].")
    return paths


def documented(section: str) -> set[str]:
    """Field names in the first column of the tables under `## <section>`."""
    text = DOC.read_text()
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_.\[\]]+)`", body, re.MULTILINE))


def test_every_test_record_field_is_documented() -> None:
    assert fields(records.TestRecord) == documented("Test record")


def test_every_run_record_field_is_documented() -> None:
    assert fields(records.RunRecord) == documented("Run record")
