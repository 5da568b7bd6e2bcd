"""SQLite's native load of a ``datetime`` column (a PostgreSQL ``timestamp without time zone``)
gives exactly the Python mapping's values, rejects and warnings: naive text is not shifted by
julianday or by the plan's zone, an offset goes to Python (converted to the plan's zone, with a
warning). Real SQLite source, real PostgreSQL targets (one per path)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_exec, pg_rows, settled

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

ZONE = "America/New_York"

TIMES: list[Any] = [
    "2024-05-01T10:00:00",
    "2024-05-01 10:00:00",
    "2024-05-01 10:00:00.123",
    "2024-05-01 10:00:00.123456",
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00+00:00",
    "2024-05-01T23:30:00.123+05:30",
    "2024-12-31T23:59:59.999999-08:00",
    "2024-05-01T10:00:00+15:00",
    "2024-05-01T10:00",
    "2024-05-01",
    "2024-02-29T12:00:00",
    "2023-02-29T12:00:00",
    "2024-05-01T24:00:00",
    "0999-12-31T23:00:00",
    "9999-12-31T23:59:59",
    "yesterday",
    "",
    None,
]


def load(folder: Path, url: str, native: bool, zone: str) -> tuple[RunResult, list[Any]]:
    """Load the spellings into ``url`` (a SQLite file or a PostgreSQL database) with or without
    the native path; the rows as the target holds them."""
    source = folder / "source.db"
    if not source.exists():
        db = sqlite3.connect(source)
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, at DATETIME)")
        with db:
            # each spelling several times, so most chunks hold naive rows SQLite maps itself
            rows = [(i, TIMES[i % len(TIMES)]) for i in range(1, 400)]
            db.executemany("INSERT INTO items VALUES (?, ?)", rows)
        db.close()
    sqlite_target = url.startswith("sqlite")
    if not sqlite_target:
        pg_exec(
            url,
            "DROP TABLE IF EXISTS items",
            "CREATE TABLE items (id BIGINT PRIMARY KEY, at TIMESTAMP)",
        )
    plan = plan_from_dict(
        {
            "name": "wall",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(source)}],
            # a SQLite target's created DATETIME column is a datetime as the plan types it
            "tables": [
                {"name": "items", "source": "app.items", "key": ["id"], "types": {"at": "datetime"}}
            ],
            "options": {"native": native, "timezone": zone},
        },
        folder,
    )
    result = asyncio.run(migrate(plan, write_reports=False))
    if sqlite_target:
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return result, db.execute("SELECT id, at, typeof(at) FROM items ORDER BY id").fetchall()
        finally:
            db.close()
    settled(url)
    return result, pg_rows(url, "SELECT id, at FROM items ORDER BY id")


def outcome(result: RunResult) -> tuple[Any, ...]:
    table = result.tables[0]
    return (
        table.counts(),
        sorted((r.key, r.reason) for r in result.rejects),
        sorted(result.warnings),
    )


@pytest.mark.pg
@pytest.mark.parametrize("zone", ["UTC", ZONE])
def test_native_and_python_give_the_same_wall_times(
    tmp_path: Path, two_urls: tuple[str, str], zone: str
) -> None:
    native, native_rows = load(tmp_path, two_urls[0], True, zone)
    python, python_rows = load(tmp_path, two_urls[1], False, zone)
    assert native.tables[0].mapped_by_sqlite > 0
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)


def test_native_and_python_give_the_same_text_in_sqlite(tmp_path: Path) -> None:
    native, native_rows = load(tmp_path, f"sqlite:///{tmp_path / 'native.db'}", True, ZONE)
    python, python_rows = load(tmp_path, f"sqlite:///{tmp_path / 'python.db'}", False, ZONE)
    assert native.tables[0].mapped_by_sqlite > 0
    assert native_rows == python_rows
    assert outcome(native) == outcome(python)
    assert native_rows[0] == (1, "2024-05-01 10:00:00.000000", "text")  # not shifted


@pytest.mark.pg
def test_naive_text_is_stored_as_written_whatever_the_zone(
    tmp_path: Path, two_urls: tuple[str, str]
) -> None:
    _, rows = load(tmp_path, two_urls[0], True, ZONE)
    by_id = dict(rows)
    assert str(by_id[1]) == "2024-05-01 10:00:00"  # TIMES[1]: naive, not shifted
    assert str(by_id[3]) == "2024-05-01 10:00:00.123456"
    assert str(by_id[4]) == "2024-05-01 06:00:00"  # TIMES[4]: 10:00Z, in New York (EDT)
    # TIMES[7]: 23:59:59.999999-08:00 is 02:59:59.999999 next day in New York (EST)
    assert str(by_id[7]) == "2025-01-01 02:59:59.999999"
