"""Query shapes: the same query with other values is one shape; no literal survives normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitescope.collector.instrument.sql import kind_of, normalise, shape


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?"),
        ("select * from t where name = 'O''Brien'", "select * from t where name = ?"),
        ("SELECT a FROM t WHERE x = %s AND y = %(y)s", "SELECT a FROM t WHERE x = ? AND y = ?"),
        ("SELECT a FROM t WHERE x = :x AND y = $2 AND z = ?", "SELECT a FROM t WHERE x = ? AND y = ? AND z = ?"),
        ("SELECT a FROM t WHERE id IN (1, 2, 3, 4)", "SELECT a FROM t WHERE id IN (...)"),
        ("SELECT a FROM t WHERE id IN (%s,%s)", "SELECT a FROM t WHERE id IN (...)"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "INSERT INTO t (a, b) VALUES (...)"),
        ("SELECT  a\n\tFROM   t -- why\n WHERE b = 1.5e3", "SELECT a FROM t WHERE b = ?"),
        ("SELECT /* hint */ a FROM t2 WHERE c = -7", "SELECT a FROM t2 WHERE c = ?"),
        ('SAVEPOINT "s140_x12"', "SAVEPOINT ?"),
        ('RELEASE SAVEPOINT "s140_x12"', "RELEASE SAVEPOINT ?"),
        ("SELECT $tag$secret$tag$", "SELECT ?"),
        ("SELECT col1, t2.col3 FROM table9", "SELECT col1, t2.col3 FROM table9"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_case_and_whitespace_fold_into_one_fingerprint() -> None:
    assert shape("SELECT a FROM t WHERE id = 1").fingerprint == shape("select  a\nfrom t where ID = 99").fingerprint
    assert shape("SELECT a FROM t").fingerprint != shape("SELECT b FROM t").fingerprint


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("select 1", "SELECT"),
        ("  INSERT into t values (?)", "INSERT"),
        ("update t set a = ?", "UPDATE"),
        ("delete from t", "DELETE"),
        ("with x as (select 1) delete from t where id in (select * from x)", "DELETE"),
        ("with x as (select 1), y as (select 2) select * from x, y", "SELECT"),
        ("with x as (select 1) update t set a = ?", "UPDATE"),
        ("savepoint ?", "OTHER"),
        ("(select 1) union (select 2)", "SELECT"),
    ],
)
def test_kind(sql: str, kind: str) -> None:
    assert kind_of(sql) == kind


@given(st.integers(), st.text(alphabet=st.characters(blacklist_characters="'\\x00"), max_size=40))
def test_no_value_survives(number: int, text: str) -> None:
    raw = f"SELECT * FROM users WHERE id = {number} AND email = '{text}'"
    found = shape(raw)
    assert found.sql == "SELECT * FROM users WHERE id = ? AND email = ?"
    assert found.fingerprint == shape("SELECT * FROM users WHERE id = 1 AND email = 'a'").fingerprint
