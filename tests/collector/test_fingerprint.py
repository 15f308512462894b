"""Fingerprints: the same failure gives the same value across checkouts and line drift, another failure another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from suitescope.collector.fingerprint import describe, exception_type, normalise_message

MODULE = """
def helper(value):
    return {{}}[value]

def test_it():
{padding}    helper("key-{salt}")
"""

RUN = """
import sys, json
sys.path.insert(0, sys.argv[1])
from suitescope.collector.fingerprint import describe
import failing
try:
    failing.test_it()
except Exception as exc:
    print(json.dumps(describe(exc, sys.argv[1])))
"""


def fingerprint_in(folder: Path, padding: int = 0, salt: str = "a", body: str = MODULE) -> dict[str, str]:
    folder.mkdir(parents=True)
    (folder / "failing.py").write_text(body.format(padding="    x = 1\n" * padding, salt=salt))
    out = subprocess.run([sys.executable, "-c", RUN, str(folder)], capture_output=True, text=True, check=True)
    import json

    result: dict[str, str] = json.loads(out.stdout)
    return result


def test_same_failure_same_fingerprint_across_checkouts_and_line_drift(tmp_path: Path) -> None:
    first = fingerprint_in(tmp_path / "checkout-one")
    moved = fingerprint_in(tmp_path / "elsewhere" / "checkout-two", padding=5, salt="b")
    assert first["type"] == "KeyError"
    assert first["fingerprint"] == moved["fingerprint"]
    assert first["message"] != moved["message"]


def test_a_failure_from_another_place_has_another_fingerprint(tmp_path: Path) -> None:
    other = MODULE.replace("return {{}}[value]", "return int(value)").replace("KeyError", "ValueError")
    assert fingerprint_in(tmp_path / "a")["fingerprint"] != fingerprint_in(tmp_path / "b", body=other)["fingerprint"]


def test_without_project_frames_the_normalised_message_decides(tmp_path: Path) -> None:
    def fail(message: str) -> BaseException:
        try:
            raise RuntimeError(message)
        except RuntimeError as exc:
            return exc

    root = str(tmp_path)  # no frame of this file lies under it
    one = describe(fail("object at 0x7f00aa failed after 3 tries"), root)
    two = describe(fail("object at 0x55bbcc failed after 12 tries"), root)
    three = describe(fail("a different problem"), root)
    assert one["fingerprint"] == two["fingerprint"] != three["fingerprint"]


def test_exception_type_names() -> None:
    assert exception_type(KeyError("k")) == "KeyError"
    assert exception_type(pytest.PytestWarning("w")) == "pytest.PytestWarning"
    assert normalise_message("id 42 at 0xdeadbeef: 'secret'\nmore") == "id _ at _: _"
