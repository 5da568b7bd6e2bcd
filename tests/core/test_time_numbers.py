"""Numbers in a SQLite source's DATETIME/DATE columns (ferry.values.epochs): read as the plan says.

Real SQLite source files; targets are a real SQLite file and the real PostgreSQL server. The
text row of each source is mapped by SQLite itself (the native path), the number rows by Python:
both honour the column's ``integers`` setting, and without one a number is never taken as epoch
seconds silently.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakesource import run, sqlite_exec, sqlite_rows
from pgkit import pg_rows

from ferry.check import check_plan
from ferry.plan import Plan, plan_from_dict
from ferry.scan.folder import scan_folder
from ferry.verify.run import verify


def source(folder: Path, *values: Any, declared: str = "DATETIME") -> Path:
    """``app.db`` with table ``events(id, at)``: row 1 ISO text, then one row per value."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.db"
    sqlite_exec(path, f"CREATE TABLE events (id INTEGER PRIMARY KEY, at {declared})")
    rows = [(1, "2024-03-01T10:00:00"), *[(i + 2, v) for i, v in enumerate(values)]]
    for row in rows:
        sqlite_exec(path, f"INSERT INTO events VALUES ({row[0]}, {row[1]!r})")
    return path


def plan(folder: Path, url: str, integers: str | None, **options: Any) -> Plan:
    column: dict[str, Any] = {"from": "at"}
    if integers is not None:
        column["integers"] = integers
    return plan_from_dict(
        {
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [{"name": "events", "source": "app.events", "columns": {"at": column}}],
            "options": options,
        },
        folder,
    )


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'target.db'}"


# -- each reading, into each target ---------------------------------------------------------

# a SQLite -> SQLite copy keeps the source's timestamp text as the app wrote it
_TEXT_ROW_SQLITE = (1, "2024-03-01T10:00:00")
_TEXT_ROW_PG = (1, datetime(2024, 3, 1, 10, 0, tzinfo=UTC))

READINGS = [
    ("epoch_s", 1709287200, "2024-03-01 10:00:00.000000", datetime(2024, 3, 1, 10, tzinfo=UTC)),
    (
        "epoch_ms",
        1709287200123,
        "2024-03-01 10:00:00.123000",
        datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC),
    ),
    ("year", 2024, "2024-01-01 00:00:00.000000", datetime(2024, 1, 1, tzinfo=UTC)),
    ("null", 2024, None, None),
]


@pytest.mark.parametrize(("integers", "value", "stored", "_pg"), READINGS)
def test_each_reading_into_sqlite(
    tmp_path: Path, integers: str, value: int, stored: str | None, _pg: Any
) -> None:
    source(tmp_path, value)
    migrated = plan(tmp_path, sqlite_url(tmp_path), integers)
    result = run(migrated)
    assert sqlite_rows(tmp_path / "target.db", "SELECT id, at FROM events ORDER BY id") == [
        _TEXT_ROW_SQLITE,
        (2, stored),
    ]
    assert result.table("events").mapped_by_sqlite == 1  # the text row: the native path
    assert result.warnings == []
    assert asyncio.run(verify(migrated)).verdict == "PASS"


@pytest.mark.parametrize(("integers", "value", "_sqlite", "stored"), READINGS)
def test_each_reading_into_postgres(
    tmp_path: Path, pg_url: str, integers: str, value: int, _sqlite: Any, stored: Any
) -> None:
    source(tmp_path, value)
    migrated = plan(tmp_path, pg_url, integers)
    result = run(migrated)
    assert pg_rows(pg_url, "SELECT id, at FROM events ORDER BY id") == [_TEXT_ROW_PG, (2, stored)]
    assert result.table("events").mapped_by_sqlite == 1
    assert result.warnings == []
    assert asyncio.run(verify(migrated)).verdict == "PASS"


def test_number_keeps_the_integer_in_sqlite(tmp_path: Path) -> None:
    source(tmp_path, 2024)
    migrated = plan(tmp_path, sqlite_url(tmp_path), "number")
    run(migrated)
    assert sqlite_rows(
        tmp_path / "target.db", "SELECT id, at, typeof(at) FROM events ORDER BY id"
    ) == [(*_TEXT_ROW_SQLITE, "text"), (2, 2024, "integer")]
    assert asyncio.run(verify(migrated)).verdict == "PASS"
    assert run(migrated).table("events").counts()["unchanged"] == 2


def test_number_into_a_postgres_timestamp_rejects_the_row_naming_its_key(
    tmp_path: Path, pg_url: str
) -> None:
    source(tmp_path, 2024)
    result = run(plan(tmp_path, pg_url, "number"))
    assert pg_rows(pg_url, "SELECT id, at FROM events ORDER BY id") == [_TEXT_ROW_PG]
    assert [(r.key, r.reason) for r in result.rejects] == [
        (
            "id=2",
            "column 'at': 2024 is kept as a number (integers = \"number\"), which a timestamp "
            "column of this target cannot hold",
        )
    ]


def test_python_mapping_reads_the_same_as_the_native_path(tmp_path: Path) -> None:
    source(tmp_path, 1709287200123)
    result = run(plan(tmp_path, sqlite_url(tmp_path), "epoch_ms", native=False))
    assert result.table("events").mapped_by_sqlite == 0
    assert sqlite_rows(tmp_path / "target.db", "SELECT id, at FROM events ORDER BY id") == [
        _TEXT_ROW_SQLITE,
        (2, "2024-03-01 10:00:00.123000"),
    ]


def test_a_date_column_reads_a_year(tmp_path: Path, pg_url: str) -> None:
    source(tmp_path, 1990, declared="DATE")
    run(plan(tmp_path, pg_url, "year"))
    assert pg_rows(pg_url, "SELECT id, at::text FROM events ORDER BY id") == [
        (1, "2024-03-01"),
        (2, "1990-01-01"),
    ]


# -- no setting: never a silent epoch ---------------------------------------------------------


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
def test_without_a_setting_a_number_rejects_its_row(
    tmp_path: Path, request: pytest.FixtureRequest, target: str
) -> None:
    url = sqlite_url(tmp_path) if target == "sqlite" else request.getfixturevalue("pg_url")
    source(tmp_path, 2024)
    result = run(plan(tmp_path, url, None))
    assert [(r.key, r.reason) for r in result.rejects] == [
        (
            "id=2",
            "column 'at': 2024 is a number in a timestamp column and the plan does not say how "
            'to read it (integers = "epoch_s", "epoch_ms", "year", "null" or "number")',
        )
    ]
    assert result.table("events").counts()["inserted"] == 1


def test_check_fails_a_number_column_the_plan_does_not_read(tmp_path: Path) -> None:
    source(tmp_path, 1709287200, 0)
    report = asyncio.run(check_plan(plan(tmp_path, sqlite_url(tmp_path), None)))
    found = [i for i in report.items if "holds" in i.detail]
    assert [(i.subject, i.ok, i.detail) for i in found] == [
        (
            "table events",
            False,
            "column at (DATETIME) holds 2 integers, e.g. 1709287200 at id=2, 0 at id=3: the "
            "plan does not say how to read them, so their rows would be rejected",
        )
    ]
    assert found[0].hint.startswith('Say how to read them with integers = "epoch_s"')
    assert not report.ok


def test_check_names_the_reading_the_plan_gives(tmp_path: Path) -> None:
    source(tmp_path, 1709287200, 0)
    report = asyncio.run(check_plan(plan(tmp_path, sqlite_url(tmp_path), "epoch_s")))
    found = [(i.ok, i.detail) for i in report.items if "holds" in i.detail]
    assert found == [
        (
            True,
            "column at (DATETIME) holds 2 integers, e.g. 1709287200 at id=2, 0 at id=3: read "
            'as integers = "epoch_s"',
        )
    ]


# -- implausible readings: warnings naming the key ---------------------------------------------


def test_an_implausible_reading_is_a_warning_naming_the_key_in_preview(tmp_path: Path) -> None:
    source(tmp_path, 1709287200, 0)
    result = run(plan(tmp_path, sqlite_url(tmp_path), "epoch_s"), preview=True)
    assert result.warnings == [
        "events: row id=3, column 'at': 0 read as epoch seconds is 1970-01-01 00:00:00, before 1971"
    ]
    assert not (tmp_path / "target.db").exists()


def test_a_year_outside_1900_to_2100_is_a_warning(tmp_path: Path) -> None:
    source(tmp_path, 2024, 3024)
    result = run(plan(tmp_path, sqlite_url(tmp_path), "year"))
    assert result.warnings == [
        "events: row id=3, column 'at': 3024 read as a year is outside 1900-2100"
    ]


# -- ferry init ---------------------------------------------------------------------------------


def test_init_writes_the_plausible_reading_and_a_note(tmp_path: Path) -> None:
    source(tmp_path / "state", 1709287200, 1709290800, 0)
    drafted = scan_folder(tmp_path / "state").plan.tables[0]
    assert drafted.columns["at"].integers == "epoch_s"
    assert drafted.notes == [
        "column at (DATETIME) holds 3 integers, e.g. 1709287200 at id=2, 1709290800 at id=3, "
        '0 at id=4: read as epoch seconds (integers = "epoch_s") because 2 of them give a '
        "plausible date; the others are warnings naming their rows: check this reading"
    ]


@pytest.mark.parametrize(
    ("values", "reading"),
    [((1709287200123, 1709290800000), "epoch_ms"), ((1990, 2024), "year")],
)
def test_init_tells_milliseconds_and_years(
    tmp_path: Path, values: tuple[int, ...], reading: str
) -> None:
    source(tmp_path / "state", *values)
    drafted = scan_folder(tmp_path / "state").plan.tables[0]
    assert drafted.columns["at"].integers == reading
    assert "because all of them give a plausible date" in drafted.notes[0]


def test_init_guesses_nothing_when_no_reading_is_plausible(tmp_path: Path, pg_url: str) -> None:
    source(tmp_path / "state", 5, 77)
    into_sqlite = scan_folder(tmp_path / "state").plan.tables[0]
    assert into_sqlite.columns["at"].integers == "number"
    assert into_sqlite.notes == [
        "column at (DATETIME) holds 2 integers, e.g. 5 at id=2, 77 at id=3: no reading makes "
        'them plausible dates: kept as numbers (integers = "number")'
    ]
    into_pg = scan_folder(tmp_path / "state", target_url=pg_url).plan.tables[0]
    assert "at" not in into_pg.columns
    assert into_pg.notes[0].endswith(
        "no reading makes them plausible dates: left unset, so their rows are rejected until "
        "integers is set"
    )
