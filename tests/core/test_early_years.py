"""A time before the year 1000 keeps its four-digit year (``0101-01-01``: calibre's "no date").

Written through ``strftime``, whose ``%Y`` does not pad, it became ``101-01-01``: text SQLite's
own date functions do not read, and a moved calibre library failed ``ferry verify``. Real
SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from draftkit import one_table_plan

from ferry.api import migrate
from ferry.values.drivervalues import sqlite_timestamp


def test_the_driver_text_pads_an_early_year() -> None:
    assert sqlite_timestamp(datetime(101, 1, 1, tzinfo=UTC)) == "0101-01-01 00:00:00.000000"


def test_the_style_of_an_existing_table_pads_an_early_year(tmp_path: Path) -> None:
    # the app made the target's table and its rows show a style: Ferry writes that style
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE books (id INTEGER PRIMARY KEY, pubdate TIMESTAMP);"
            "INSERT INTO books VALUES (1, '0101-01-01 00:00:00+00:00');"
        )
    conn.close()
    with sqlite3.connect(tmp_path / "new.db") as conn:
        conn.executescript(
            "CREATE TABLE books (id INTEGER PRIMARY KEY, pubdate TIMESTAMP);"
            "INSERT INTO books VALUES (9, '2020-01-01 00:00:00+00:00');"
        )
    conn.close()
    plan = one_table_plan(tmp_path, "books")

    asyncio.run(migrate(plan, write_reports=False))

    with sqlite3.connect(tmp_path / "new.db") as conn:
        first = conn.execute("SELECT pubdate FROM books WHERE id = 1").fetchone()
    conn.close()
    assert first == ("0101-01-01 00:00:00+00:00",)
