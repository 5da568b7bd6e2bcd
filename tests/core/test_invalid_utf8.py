"""Text that is not valid UTF-8 in a SQLite source (issue 15, item 1).

A real SQLite file holds Latin-1 'félix' stored as TEXT (bytes 66 E9 6C 69 78) among good
rows. ``ferry init`` keeps the source and notes the bad values; the plan's ``invalid_text``
decides (reject / replace / bytes); migrate, verify and a re-run work on it into both targets,
through the Python mapping and SQLite's native load alike.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_rows

from ferry.check import check_plan
from ferry.errors import PlanError, RejectedRowsError
from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.results import RunResult
from ferry.scan.folder import scan_folder
from ferry.verify.run import verify

LATIN1 = b"f\xe9lix"  # 'félix' in Latin-1: not UTF-8
#: column ``name`` keeps the bytes (into a bytea column); the text column ``note`` cannot
BYTES_NAME = {"name": {"from": "name", "invalid_text": "bytes"}}


def source_db(folder: Path, rows: int = 3) -> Path:
    """``people`` (ids 1..rows, id 2 holds the bad text) and an all-good ``places``."""
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
    db.execute("CREATE TABLE places (id INTEGER PRIMARY KEY, city TEXT)")
    for i in range(1, rows + 1):
        if i == 2:
            db.execute("INSERT INTO people VALUES (2, CAST(? AS TEXT), 'b')", (LATIN1,))
        else:
            db.execute("INSERT INTO people VALUES (?, ?, ?)", (i, f"näme {i}", "ok"))
    db.execute("INSERT INTO places VALUES (1, 'Zürich')")
    db.commit()
    db.close()
    return path


def make_plan(folder: Path, url: str, native: bool = True, **table: Any) -> Plan:
    return plan_from_dict(
        {
            "name": "utf8",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [{"name": "people", "source": "app.people", **table}],
            "options": {"native": native},
        },
        folder,
    )


def run(plan: Plan) -> RunResult:
    return asyncio.run(migrate(plan, write_reports=False))


def sqlite_target(folder: Path) -> str:
    return f"sqlite:///{folder / 'out.db'}"


def target_rows(url: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.text_factory = bytes  # what is stored, byte for byte
        try:
            return db.execute("SELECT id, name, typeof(name) FROM people ORDER BY id").fetchall()
        finally:
            db.close()
    return pg_rows(url, "SELECT id, name, pg_typeof(name)::text FROM people ORDER BY id")


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_target(tmp_path)
    url: str = request.getfixturevalue("pg_url")
    return url


# -- ferry init ------------------------------------------------------------------------------


def test_init_keeps_the_source_and_every_table(tmp_path: Path) -> None:
    source_db(tmp_path)
    result = scan_folder(tmp_path)
    assert [s.name for s in result.plan.sources] == ["app"]
    assert sorted(t.source for t in result.plan.tables) == ["app.people", "app.places"]
    assert [s.problem for s in result.sources] == [""]


def test_init_writes_the_setting_and_a_note_naming_column_count_and_keys(tmp_path: Path) -> None:
    source_db(tmp_path)
    plan = scan_folder(tmp_path).plan
    people = next(t for t in plan.tables if t.source == "app.people")
    places = next(t for t in plan.tables if t.source == "app.places")
    assert people.invalid_text == "reject"
    assert people.notes == [
        "app.people.name: 1 value is text that is not valid UTF-8 (first: id=2); "
        "invalid_text decides: reject the row (the default, written here), "
        '"replace" bytes with U+FFFD, or keep the "bytes" (SQLite target, or a bytea column)'
    ]
    assert 'invalid_text = "reject"' in plan.to_toml()
    assert places.invalid_text is None and places.notes == []


def test_init_note_names_the_first_five_keys(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    db.executemany(
        "INSERT INTO t VALUES (?, CAST(? AS TEXT))",
        [(i, LATIN1 if i % 2 else b"ok") for i in range(1, 21)],
    )
    db.commit()
    db.close()
    (table,) = scan_folder(tmp_path).plan.tables
    assert table.notes[0].startswith(
        "app.t.name: 10 values are text that is not valid UTF-8 "
        "(first: id=1; id=3; id=5; id=7; id=9, ...)"
    )


# -- ferry check -----------------------------------------------------------------------------


def test_check_refuses_bytes_for_a_postgresql_text_column(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    report = asyncio.run(check_plan(make_plan(tmp_path, pg_url, invalid_text="bytes")))
    (item,) = [i for i in report.items if i.subject == "table people"]
    assert not item.ok
    assert "column 'name': invalid_text = \"bytes\"" in item.detail
    assert "holds UTF-8 text only" in item.detail


def test_migrate_refuses_bytes_for_a_postgresql_text_column(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    with pytest.raises(PlanError, match="column 'name': invalid_text = \"bytes\""):
        run(make_plan(tmp_path, pg_url, invalid_text="bytes"))
    assert pg_rows(pg_url, "SELECT to_regclass('people')::text") == [(None,)]


def test_check_takes_bytes_for_a_bytea_column(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    plan = make_plan(tmp_path, pg_url, columns=BYTES_NAME, types={"name": "bytes"})
    report = asyncio.run(check_plan(plan))
    assert all(item.ok for item in report.items), report.items


# -- each mode, each target, native and Python -----------------------------------------------


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_reject_loads_the_other_rows_and_names_key_and_column(
    tmp_path: Path, target_url: str, native: bool
) -> None:
    source_db(tmp_path)
    result = run(make_plan(tmp_path, target_url, native))
    table = result.tables[0]
    assert (table.rows_read, table.inserted, table.rejected) == (3, 2, 1)
    (reject,) = result.rejects
    assert reject.key == "id=2"
    assert reject.reason.startswith("column 'name': text is not valid UTF-8 (b'f\\xe9lix')")
    assert [row[:2] for row in target_rows(target_url)] in (
        [(1, b"n\xc3\xa4me 1"), (3, b"n\xc3\xa4me 3")],
        [(1, "näme 1"), (3, "näme 3")],
    )


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_replace_loads_every_row_with_u_fffd_and_warns_with_the_key(
    tmp_path: Path, target_url: str, native: bool
) -> None:
    source_db(tmp_path)
    result = run(make_plan(tmp_path, target_url, native, invalid_text="replace"))
    table = result.tables[0]
    assert (table.inserted, table.rejected) == (3, 0)
    assert [w for w in result.warnings if "UTF-8" in w] == [
        "people: row id=2, column 'name': text is not valid UTF-8 (b'f\\xe9lix'); "
        "invalid bytes replaced with U+FFFD: 'f\ufffdlix'"
    ]
    second = target_rows(target_url)[1][:2]
    assert second in ((2, "f\ufffdlix"), (2, "f\ufffdlix".encode()))


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_bytes_keeps_the_exact_bytes_in_a_sqlite_target(tmp_path: Path, native: bool) -> None:
    source_db(tmp_path)
    url = sqlite_target(tmp_path)
    result = run(make_plan(tmp_path, url, native, invalid_text="bytes"))
    assert (result.tables[0].inserted, result.tables[0].rejected) == (3, 0)
    assert target_rows(url) == [
        (1, b"n\xc3\xa4me 1", b"text"),
        (2, LATIN1, b"blob"),
        (3, b"n\xc3\xa4me 3", b"text"),
    ]


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_bytes_keeps_the_exact_bytes_in_a_bytea_column(
    tmp_path: Path, pg_url: str, native: bool
) -> None:
    source_db(tmp_path)
    plan = make_plan(tmp_path, pg_url, native, columns=BYTES_NAME, types={"name": "bytes"})
    result = run(plan)
    assert (result.tables[0].inserted, result.tables[0].rejected) == (3, 0)
    rows = pg_rows(pg_url, "SELECT id, name FROM people ORDER BY id")
    assert [(i, bytes(v)) for i, v in rows] == [
        (1, "näme 1".encode()),
        (2, LATIN1),
        (3, "näme 3".encode()),
    ]


def test_a_column_setting_overrides_the_tables(tmp_path: Path) -> None:
    source_db(tmp_path)
    url = sqlite_target(tmp_path)
    plan = make_plan(
        tmp_path,
        url,
        invalid_text="reject",
        columns={"name": {"from": "name", "invalid_text": "replace"}},
    )
    result = run(plan)
    assert (result.tables[0].inserted, result.tables[0].rejected) == (3, 0)
    assert target_rows(url)[1] == (2, "f\ufffdlix".encode(), b"text")


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_stop_names_table_column_and_key(tmp_path: Path, target_url: str, native: bool) -> None:
    source_db(tmp_path)
    with pytest.raises(RejectedRowsError) as raised:
        run(make_plan(tmp_path, target_url, native, on_reject="stop"))
    assert raised.value.message.startswith(
        "table people: row id=2 was rejected: column 'name': text is not valid UTF-8"
    )


# -- verify and re-runs ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reject", "replace"])
@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_verify_and_a_rerun_pass_after(
    tmp_path: Path, target_url: str, mode: str, native: bool
) -> None:
    source_db(tmp_path)
    plan = make_plan(tmp_path, target_url, native, invalid_text=mode)
    run(plan)
    assert asyncio.run(verify(plan, write_reports=False)).passed
    again = run(plan).tables[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3 if mode == "replace" else 2)
    assert asyncio.run(verify(plan, write_reports=False)).passed


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_verify_and_a_rerun_pass_after_bytes(tmp_path: Path, native: bool) -> None:
    source_db(tmp_path)
    plan = make_plan(tmp_path, sqlite_target(tmp_path), native, invalid_text="bytes")
    run(plan)
    assert asyncio.run(verify(plan, write_reports=False)).passed
    again = run(plan).tables[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert asyncio.run(verify(plan, write_reports=False)).passed


def test_verify_and_a_rerun_pass_after_bytes_into_bytea(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    plan = make_plan(tmp_path, pg_url, columns=BYTES_NAME, types={"name": "bytes"})
    run(plan)
    assert asyncio.run(verify(plan, write_reports=False)).passed
    again = run(plan).tables[0]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert asyncio.run(verify(plan, write_reports=False)).passed


def test_a_bad_value_in_a_later_native_chunk_goes_to_python(tmp_path: Path) -> None:
    """Thousands of good rows, one bad one far in: SQLite copies the good chunks itself."""
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
    db.executemany(
        "INSERT INTO people VALUES (?, CAST(? AS TEXT), ?)",
        [(i, LATIN1 if i == 4500 else f"n{i}".encode(), "x" * 2000) for i in range(1, 5001)],
    )
    db.commit()
    db.close()
    url = sqlite_target(tmp_path)
    result = run(make_plan(tmp_path, url))
    table = result.tables[0]
    assert (table.inserted, table.rejected) == (4999, 1)
    assert 0 < table.mapped_by_sqlite < 4999
    assert [r.key for r in result.rejects] == ["id=4500"]


def test_a_sqlite_target_holding_such_text_can_be_verified_and_migrated_again(
    tmp_path: Path,
) -> None:
    """The bytes as TEXT in the target (an older Ferry's native copy, or the app's own)."""
    source_db(tmp_path)
    url = sqlite_target(tmp_path)
    plan = make_plan(tmp_path, url, invalid_text="bytes")
    run(plan)
    db = sqlite3.connect(tmp_path / "out.db")
    with db:
        db.execute("UPDATE people SET name = CAST(name AS TEXT) WHERE id = 2")
    db.close()
    assert asyncio.run(verify(plan, write_reports=False)).passed
    again = run(plan).tables[0]
    # The same bytes: unchanged, and left as they are.
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert target_rows(url)[1] == (2, LATIN1, b"text")
    assert asyncio.run(verify(plan, write_reports=False)).passed


def test_verify_fails_when_the_target_holds_what_another_mode_gives(tmp_path: Path) -> None:
    source_db(tmp_path)
    url = sqlite_target(tmp_path)
    run(make_plan(tmp_path, url, invalid_text="bytes"))
    plan = make_plan(tmp_path, url, invalid_text="replace")
    result = asyncio.run(verify(plan, write_reports=False))
    assert not result.passed
    assert result.tables[0].mismatched == 1
