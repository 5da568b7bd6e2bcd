"""Tables without a primary key (issue 17 item 5): ``ferry init`` finds a key in the data or
drafts ``mode = "append"``; the run loads them without blocking the other tables, refuses a
second append, and ``mode = "replace"`` replaces the rows. Real SQLite files, real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pgkit import pg_rows

from ferry.check import check_plan
from ferry.errors import PlanError
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.results import RunResult
from ferry.scan.folder import scan_folder
from ferry.verify.run import verify

SCHEMA = """
CREATE TABLE genre (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE log (at TEXT, msg TEXT);
CREATE TABLE tags (code TEXT NOT NULL, label TEXT);
CREATE TABLE pairs (a INTEGER, b INTEGER, note TEXT, UNIQUE (a, b));
INSERT INTO genre VALUES (1, 'rock'), (2, 'jazz');
INSERT INTO log VALUES ('09:00', 'start'), ('09:00', 'start'), ('09:05', 'stop');
INSERT INTO tags VALUES ('r', 'Rock'), ('j', 'Jazz');
INSERT INTO pairs VALUES (1, 1, 'x'), (1, 2, 'y');
"""


def drafted(folder: Path, url: str) -> Plan:
    """``ferry init`` on a SQLite file with keyless tables, written and read back."""
    db = sqlite3.connect(folder / "app.db")
    db.executescript(SCHEMA)
    db.close()
    result = scan_folder(folder, url)
    (folder / "ferry.toml").write_text(result.plan.to_toml())
    return load_plan(folder / "ferry.toml")


def run(plan: Plan, preview: bool = False) -> RunResult:
    return asyncio.run(migrate(plan, preview=preview, write_reports=False))


def spec(plan: Plan, name: str) -> tuple[list[str], str, list[str]]:
    table = next(t for t in plan.tables if t.name == name)
    return table.key, table.mode, table.notes


def test_init_takes_a_unique_not_null_column_as_the_key(tmp_path: Path) -> None:
    key, mode, notes = spec(drafted(tmp_path, "sqlite:///target.db"), "tags")
    assert (key, mode) == (["code"], "merge")
    assert notes == [
        "tags has no primary key: key = ['code'] (NOT NULL, 2 distinct values in 2 rows)"
    ]


def test_init_takes_a_unique_constraint_as_the_key(tmp_path: Path) -> None:
    key, mode, notes = spec(drafted(tmp_path, "sqlite:///target.db"), "pairs")
    assert (key, mode) == (["a", "b"], "merge")
    assert "unique index sqlite_autoindex_pairs_1" in notes[0]


def test_init_drafts_append_and_reports_identical_rows(tmp_path: Path) -> None:
    key, mode, notes = spec(drafted(tmp_path, "sqlite:///target.db"), "log")
    assert (key, mode) == ([], "append")
    assert "no column set identifies its 3 rows" in notes[0]
    assert notes[1] == (
        "1 rows are identical in every column to another row (loaded as they are; "
        "first: at='09:00', msg='start')"
    )


def test_keyless_tables_load_beside_the_keyed_ones_and_verify(tmp_path: Path) -> None:
    plan = drafted(tmp_path, "sqlite:///target.db")
    result = run(plan)
    assert {t.name: t.inserted for t in result.tables} == {
        "genre": 2,
        "log": 3,
        "tags": 2,
        "pairs": 2,
    }
    assert any("log: 1 rows are identical in every column" in w for w in result.warnings)
    target = sqlite3.connect(tmp_path / "target.db")
    assert sorted(target.execute("SELECT at, msg FROM log")) == [
        ("09:00", "start"),
        ("09:00", "start"),
        ("09:05", "stop"),
    ]
    target.close()
    report = asyncio.run(verify(plan))
    assert {t.name: t.verdict for t in report.tables} == {
        "genre": "PASS",
        "log": "PASS",
        "tags": "PASS",
        "pairs": "PASS",
    }


def test_second_append_is_refused_and_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    plan = drafted(tmp_path, "sqlite:///target.db")
    run(plan)
    before = (tmp_path / "target.db").read_bytes()
    with pytest.raises(PlanError, match=r"table 'log' was already loaded with mode = \"append\""):
        run(plan)
    assert (tmp_path / "target.db").read_bytes() == before


@pytest.mark.pg
def test_replace_replaces_the_rows_and_the_preview_says_so(tmp_path: Path, pg_url: str) -> None:
    plan = drafted(tmp_path, pg_url)
    run(plan)
    next(t for t in plan.tables if t.name == "log").mode = "replace"
    preview = run(plan, preview=True)
    log = next(t for t in preview.tables if t.name == "log")
    assert (log.deleted, log.inserted) == (3, 3)
    assert "log: mode = replace: its 3 rows are replaced by the source's" in preview.warnings
    result = run(plan)
    assert [t.counts()["deleted"] for t in result.tables if t.name == "log"] == [3]
    assert pg_rows(pg_url, "SELECT count(*) FROM log") == [(3,)]
    report = asyncio.run(verify(plan))
    assert report.verdict == "PASS"


def test_check_reports_the_identical_rows_of_an_appended_table(tmp_path: Path) -> None:
    plan = drafted(tmp_path, "sqlite:///target.db")
    report = asyncio.run(check_plan(plan))
    assert [(i.subject, i.detail) for i in report.items if i.warning] == [
        (
            "table log",
            "1 rows are identical in every column to another row (loaded as they are; "
            "first: at='09:00', msg='start')",
        )
    ]
    assert all(i.ok for i in report.items)


def test_an_existing_table_without_a_key_is_appended_to_once(tmp_path: Path) -> None:
    target = sqlite3.connect(tmp_path / "target.db")
    target.execute("CREATE TABLE log (at TEXT, msg TEXT)")
    target.execute("INSERT INTO log VALUES ('08:00', 'app row')")
    target.commit()
    target.close()
    plan = drafted(tmp_path, "sqlite:///target.db")
    assert spec(plan, "log")[:2] == ([], "append")
    result = run(plan)
    assert [t.inserted for t in result.tables if t.name == "log"] == [3]
    target = sqlite3.connect(tmp_path / "target.db")
    assert target.execute("SELECT count(*) FROM log").fetchall() == [(4,)]
    target.close()
