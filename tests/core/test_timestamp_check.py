"""The native timestamp check's quick path (ferry.native.cells._quick) changes no verdict: on
text around every boundary of every layout, the check holds exactly where the strict check
alone (the GLOB classes and ranges it had before) holds."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.native import cells

YEARS = ["0000", "0999", "1000", "1001", "1900", "2000", "2023", "2024", "2100", "9998", "9999"]
MONTHS = ["00", "01", "02", "04", "09", "10", "12", "13", "19", "20", "1a"]
DAYS = ["00", "01", "09", "28", "29", "30", "31", "32", "39", "40", "3 "]
HOURS = ["00", "09", "10", "19", "20", "23", "24", "25", "29", "30", "2x"]
MINUTES = ["00", "09", "59", "60", "99", "5 "]
FRACTIONS = ["", ".1", ".12", ".123", ".123456", ".1234567", ".12 ", ".1  ", ".12345 ", ". 23",
             ".1Z", ".12 Z", ".1+01:00", ".      "]  # fmt: skip
OFFSETS = ["", "Z", "z", " Z", "+00:00", "-00:00", "+05:30", "+14:00", "+14:59", "+15:00",
           "+19:59", "+20:00", "-09:60", " +01:00", "+0100", "+01:0", "Z ", "+01:00 "]  # fmt: skip
SEPARATORS = ["T", " ", "t", "  ", "\t", "TT", ""]
ODD = ["-", ":", "T", " ", "Z", "+", ".", "z", "\t", "\x00", "é", "🚀", "0", "9", "a"]


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """A timestamp put together from boundary parts, then perhaps mistyped at one place."""
    date = f"{draw(st.sampled_from(YEARS))}-{draw(st.sampled_from(MONTHS))}-"
    date += draw(st.sampled_from(DAYS))
    if draw(st.booleans()):
        text = date
    else:
        clock = f"{draw(st.sampled_from(HOURS))}:{draw(st.sampled_from(MINUTES))}:"
        clock += draw(st.sampled_from(MINUTES))
        text = date + draw(st.sampled_from(SEPARATORS)) + clock
        text += draw(st.sampled_from(FRACTIONS)) + draw(st.sampled_from(OFFSETS))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(ODD)) + text[at + draw(st.integers(0, 1)) :]
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from(["-", "+", " "])) + text
    return text


def strict(x: str, zone: bool) -> str:
    """The check without its quick path: the strict condition alone."""
    check = cells.plain_cell("timestamp", "v", zone).check
    whens = check.split(" THEN 1 WHEN ")
    assert len(whens) == 3  # NULL, quick, strict
    return f"CASE WHEN {x} IS NULL THEN 1 WHEN {whens[2]}"


def verdicts(values: list[str], zone: bool) -> list[tuple[str, int, int]]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v DATETIME)")  # NUMERIC affinity, as an app declares it
    db.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    check = cells.plain_cell("timestamp", "v", zone).check
    return db.execute(f"SELECT v, {check}, {strict('v', zone)} FROM t").fetchall()


@settings(max_examples=300, deadline=None)
@given(values=st.lists(spellings(), min_size=1, max_size=200), zone=st.booleans())
def test_the_quick_path_gives_the_strict_verdict(values: list[str], zone: bool) -> None:
    for value, check, alone in verdicts(values, zone):
        assert check == alone, value


@pytest.mark.parametrize(
    ("value", "holds"),
    [
        ("2024-02-29T12:00:00", 1),  # a leap day
        ("2023-02-29T12:00:00", 0),
        ("2000-02-29 00:00:00.000", 1),  # divisible by 400
        ("1900-02-29 00:00:00.000", 0),  # by 100 only
        ("2024-04-31T12:00:00Z", 0),
        ("2024-12-31T23:59:59.999999+14:00", 1),
        ("2024-12-31T23:59:59.999999+14:59", 1),
        ("2024-12-31T23:59:59.999999+15:00", 0),  # past SQLite's offsets: Python's
        ("2024-12-31T23:59:59-19:59", 0),
        ("2024-05-01T24:00:00", 0),
        ("2024-05-01T23:00:00", 1),
        ("1000-12-31", 0),
        ("1001-01-01", 1),
        ("9998-12-31T23:59:59-01:00", 1),
        ("9999-01-01T00:00:00", 0),
        ("2024-05-01T10:00:00.1    ", 0),  # a parser reads it: not a layout
        ("2024-05-01T10:00:00.12   Z", 0),
        (" 2024-05-01T10:00:00", 0),
        ("2024-05-01", 1),
        ("2024-05-01 ", 0),
    ],
)
def test_boundaries(value: str, holds: int) -> None:
    ((_, check, alone),) = verdicts([value], False)
    assert (check, alone) == (holds, holds)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024-05-01 10:00:00",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00+02:00",
        "2024-05-01T10:00:00.123",
        "2024-05-01T10:00:00.123Z",
        "2024-05-01T10:00:00.123-05:30",
        "2024-05-31T23:59:59.999999",
        "2024-02-29T10:00:00.123456Z",
        "2023-03-01T23:59:31.105340+00:00",
    ],
)
def test_the_quick_path_alone_takes_each_layout(value: str) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v DATETIME)")  # the quick path must not meet NUMERIC affinity
    db.execute("INSERT INTO t VALUES (?)", (value,))
    quick = cells.plain_cell("timestamp", "v").check.split(" THEN 1 WHEN ")[1]
    assert db.execute(f"SELECT CASE WHEN {quick} THEN 1 ELSE 0 END FROM t").fetchone() == (1,)


def test_text_past_a_nul_goes_to_python() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v DATETIME)")
    db.execute("INSERT INTO t VALUES (?)", ("2024-05-01T10:00:00\x00junk",))
    check = cells.plain_cell("timestamp", "v").check
    assert db.execute(f"SELECT {check} FROM t").fetchone() == (0,)
