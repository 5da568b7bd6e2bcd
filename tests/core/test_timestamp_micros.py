"""The native load's timestamps in binary COPY form (ferry.native.cells, ``SqlCell.micros``):
for every text the check passes, SQLite's microseconds since 2000 are exactly those of the
instant Python reads (``datetime.fromisoformat``, a naive time taken as UTC), and no such
text gives NULL."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_timestamp_check import spellings

from ferry.native import cells

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

#: fractions around SQLite's rounding to milliseconds
FRACTIONS = [0, 1, 499, 500, 501, 999, 1000, 499_499, 499_500, 500_000, 998_500, 999_499,
             999_500, 999_501, 999_999]  # fmt: skip


def python_micros(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def mapped(values: list[str], zone: bool = False) -> list[tuple[str, int, int | None]]:
    """(text, check, micros) for each value, from a NUMERIC column as an app declares it."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (v DATETIME)")
    db.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    cell = cells.plain_cell("timestamp", "v", zone)
    return db.execute(f"SELECT v, {cell.check}, {cell.micros} FROM t").fetchall()


@st.composite
def instants(draw: st.DrawFn) -> str:
    """Well-formed text of every layout: years 1001–9998, offsets up to ±14:59 (and past),
    fractions of 0, 3 and 6 digits near SQLite's millisecond rounding."""
    moment = draw(st.datetimes(min_value=datetime(1001, 1, 2), max_value=datetime(9998, 12, 30)))
    moment = moment.replace(microsecond=draw(st.sampled_from(FRACTIONS) | st.integers(0, 999_999)))
    minutes = draw(st.none() | st.integers(-19 * 60 - 59, 19 * 60 + 59))
    if minutes is not None:
        moment = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    spec = draw(st.sampled_from(["seconds", "milliseconds", "microseconds"]))
    text = moment.isoformat(sep=draw(st.sampled_from(["T", " "])), timespec=spec)
    if draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    return text[:10] if draw(st.integers(0, 9)) == 0 else text


@settings(max_examples=300, deadline=None)
@given(values=st.lists(instants() | spellings(), min_size=1, max_size=100), zone=st.booleans())
def test_every_value_the_check_passes_has_pythons_instant(values: list[str], zone: bool) -> None:
    for text, check, micros in mapped(values, zone):
        if check:
            assert micros == python_micros(text), text


@pytest.mark.parametrize(
    "text",
    [
        "1001-01-01T00:00:00.000000+14:59",
        "9998-12-31T23:59:59.999999-14:59",
        "2024-12-31T23:59:59.999500",
        "2024-12-31T23:59:59.999500+00:00",
        "1999-12-31T23:59:59.999999Z",
        "2000-01-01",
        "1969-12-31 23:59:59.999",
    ],
)
def test_edges_give_pythons_instant(text: str) -> None:
    ((_, check, micros),) = mapped([text])
    assert (check, micros) == (1, python_micros(text))


def test_an_offset_past_sqlites_goes_to_python() -> None:
    # SQLite's date functions give NULL past 14:59: the value must not be written as NULL
    ((_, check, _),) = mapped(["2024-05-01T10:00:00+15:00"])
    assert check == 0
