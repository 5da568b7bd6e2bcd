"""The SQLite side of verification's fast path writes a source time in UTC ISO text as its
hash form: the shortcut for the commonest spelling (``T`` as the 11th character,
``ferry.verify.fastsql._plain_utc``) must write what the general expression writes for every
value, whatever it holds, or else something that is no time in hash form on either side (so
no target row matches either; real SQLite, property-tested)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ferry.verify import fastsql
from ferry.verify.fastsql import Cell

CELL = Cell("at", "at", "timestamp", False)
#: naive times are not UTC there: the naive shape is no shortcut
BERLIN = ZoneInfo("Europe/Berlin")
SEPARATOR = st.sampled_from(["T", " ", "t", "_"])
SUFFIX = st.sampled_from(["+00:00", "-00:00", "Z", "", "+01:00", "z", " +00:00", "+00:0", "Z "])
ODD = st.sampled_from(" a:T.-+Z\x00٣é")


@st.composite
def times(draw: st.DrawFn) -> str:
    """ISO-like text (any separator, fraction and suffix), at most two characters changed."""
    moment = draw(st.datetimes()).replace(tzinfo=None)
    text = moment.strftime("%Y-%m-%d") + draw(SEPARATOR) + moment.strftime("%H:%M:%S")
    text += draw(st.sampled_from(["", ".", ".1", ".123", ".123456", ".1234567"]))
    text += draw(SUFFIX)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(ODD) + text[at + 1 :]
    return text


VALUES = st.one_of(
    times(),
    st.builds(lambda t: t.replace("T", " "), times()),
    st.builds(str.encode, times()),  # a blob with a time's bytes
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.none(),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    yield conn
    conn.close()


def written(conn: sqlite3.Connection, value: Any, naive_utc: bool, shortcut: bool) -> Any:
    zone = None if naive_utc else BERLIN
    if not shortcut:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(fastsql, "_plain_utc", lambda x, naive: "0")
            expr = fastsql._sqlite_value(CELL, '"at"', source=True, zone=zone).value
    else:
        expr = fastsql._sqlite_value(CELL, '"at"', source=True, zone=zone).value
    return conn.execute(f'SELECT {expr} FROM (SELECT ? AS "at")', (value,)).fetchone()[0]


def a_time_in_hash_form(value: Any) -> bool:
    """Text a target can hold: an ISO time with ``T`` and six fraction digits, nothing else."""
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).isoformat(timespec="microseconds") == value
    except ValueError:
        return False


@settings(max_examples=600, deadline=None)
@given(VALUES, st.booleans())
@example(b"2024-05-01T10:00:00.123456+00:00", False)  # a blob: never the shortcut
@example("2024-05-01 10:00:00.123456+00:00", False)  # the space: replaced by T
@example("2024-05-01T10:00:00.123456", False)  # naive, in Berlin
@example("2024-05-01T10:00:00.12345+00:00", True)
@example("2024-05-01T10:00:00 123456+00:00", True)  # a space after the T: no time either way
@example("2024-05-01T10:00:00.123456+01:00", True)  # not UTC: converted
def test_the_shortcut_writes_what_the_general_expression_writes_or_no_time(
    db: sqlite3.Connection, value: Any, naive_utc: bool
) -> None:
    shortcut, general = written(db, value, naive_utc, True), written(db, value, naive_utc, False)
    assert shortcut == general or not (
        a_time_in_hash_form(shortcut) or a_time_in_hash_form(general)
    )


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T10:00:00.123456+00:00",
        "2024-05-01T10:00:00.123456-00:00",
        "2024-05-01T10:00:00.123456Z",
        "2024-05-01T10:00:00.123456",
    ],
)
def test_the_usual_spellings_take_the_shortcut(db: sqlite3.Connection, value: str) -> None:
    expr = fastsql._plain_utc('"at"', True)
    assert db.execute(f'SELECT {expr} FROM (SELECT ? AS "at")', (value,)).fetchone()[0] == 1
    assert written(db, value, True, True) == "2024-05-01T10:00:00.123456"
