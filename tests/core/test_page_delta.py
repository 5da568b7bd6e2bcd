"""Delta runs of a SQLite source table printed from its file's pages (ferry.load.pageprints):
each change SQLite can make to the pages must reach the target, exactly those rows, against
the real PostgreSQL server: updates in place, a same-size overwrite of a long value (overflow
pages rewritten, leaf untouched), deletes, inserts in the middle and page splits, VACUUM.
Files the pages cannot be read from fall back to SQL prints and say why."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult, TableResult

ROWS = 300
LONG = 9000  # a body this long overflows a 4 KiB page


def source_db(folder: Path, key: str = "INTEGER PRIMARY KEY") -> Path:
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE items (id {key}, name TEXT, body TEXT)")
    with db:  # even ids: room for inserts in the middle; every 10th body overflows
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [
                (i * 2, f"item {i}", ("b" * LONG + str(i)) if i % 10 == 0 else f"body {i}")
                for i in range(1, ROWS + 1)
            ],
        )
    db.close()
    _old(path)
    return path


def _old(path: Path) -> None:
    old = time.time() - 60  # past the racy window: an untouched file may skip the table
    os.utime(path, (old, old))


def write(path: Path, *sql: str) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in sql:
            db.execute(statement)
    db.close()


def prepared(folder: Path, url: str, key: str = "INTEGER PRIMARY KEY", **table: Any) -> Any:
    source_db(folder, key)
    pg_exec(url, "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, body TEXT)")
    plan = plan_from_dict(
        {
            "name": "pages",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "items", "source": "app.items", "key": ["id"], **table}],
            "options": {"row_prints": True},
        },
        folder,
    )
    assert run(plan).inserted == ROWS
    return plan


def run(plan: Any) -> TableResult:
    result: RunResult = asyncio.run(migrate(plan, write_reports=False))
    return result.tables[0]


def versions(url: str) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in pg_rows(url, "SELECT id, xmin::text FROM items")}


def same_rows(path: Path, url: str) -> bool:
    db = sqlite3.connect(path)
    try:
        source = db.execute("SELECT id, name, body FROM items ORDER BY id").fetchall()
    finally:
        db.close()
    return source == [
        tuple(r) for r in pg_rows(url, "SELECT id, name, body FROM items ORDER BY id")
    ]


def delta(
    tmp_path: Path, url: str, *sql: str, delete_missing: bool = False
) -> tuple[TableResult, set[int]]:
    """A first run, ``sql`` on the source, a re-run: its result and the ids it touched."""
    plan = prepared(tmp_path, url, delete_missing=delete_missing)
    before = versions(url)
    write(tmp_path / "app.db", *sql)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert "from the file's pages" in table.decision.why
    assert same_rows(tmp_path / "app.db", url)
    after = versions(url)
    return table, {i for i in set(after) | set(before) if after.get(i) != before.get(i)}


def test_updates_in_place_touch_only_those_rows(tmp_path: Path, pg_url: str) -> None:
    table, touched = delta(
        tmp_path, pg_url, "UPDATE items SET name = 'x' WHERE id IN (4, 200, 598)"
    )
    assert touched == {4, 200, 598}
    assert (table.updated, table.counts()["unchanged"]) == (3, ROWS - 3)


def test_a_same_size_overwrite_past_the_page_is_seen(tmp_path: Path, pg_url: str) -> None:
    # id 40's body overflows; one character deep in it changes, the length stays: SQLite
    # rewrites the overflow page in place and leaves the leaf page as it was
    table, touched = delta(
        tmp_path,
        pg_url,
        "UPDATE items SET body = substr(body, 1, 7000) || 'Z' || substr(body, 7002) WHERE id = 40",
    )
    assert touched == {40} and table.updated == 1


def test_deletes_go_with_delete_missing(tmp_path: Path, pg_url: str) -> None:
    table, touched = delta(
        tmp_path, pg_url, "DELETE FROM items WHERE id IN (10, 11, 400)", delete_missing=True
    )
    assert table.deleted == 2 and touched == {10, 400}


def test_inserts_in_the_middle_and_page_splits(tmp_path: Path, pg_url: str) -> None:
    # odd ids between the even ones, long enough to split the leaves they land on
    inserts = [f"INSERT INTO items VALUES ({i}, 'new', '{'n' * 900}')" for i in range(101, 301, 2)]
    table, touched = delta(tmp_path, pg_url, *inserts)
    assert touched == set(range(101, 301, 2))
    assert (table.inserted, table.updated) == (100, 0)


def test_vacuum_moves_rows_to_other_pages_and_changes_none(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    before = versions(pg_url)
    write(tmp_path / "app.db", "DELETE FROM items WHERE id = 2")
    table = run(plan)  # (the delete stays in the target: no delete_missing)
    db = sqlite3.connect(tmp_path / "app.db")
    db.execute("VACUUM")
    db.execute("UPDATE items SET name = 'after vacuum' WHERE id = 300")
    db.commit()
    db.close()
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.inserted) == (1, 0)
    after = versions(pg_url)
    assert {i for i in after if after[i] != before[i]} == {300}
    # the map kept after the VACUUM is the file's: the next run parses no leaf
    assert run(plan).counts()["unchanged"] == ROWS - 1


def test_a_wal_source_is_printed_in_sql_and_says_why(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url)
    path = tmp_path / "app.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("UPDATE items SET name = 'wal' WHERE id = 6")
    db.commit()
    db.close()
    table = run(plan)  # the kept prints are of cells: compared in full this once
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert same_rows(path, pg_url)
    write(path, "UPDATE items SET name = 'wal again' WHERE id = 8")
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert "in SQL (not from pages: the file is in WAL mode" in table.decision.why
    assert table.updated == 1 and same_rows(path, pg_url)


def test_a_key_that_is_not_the_rowid_is_printed_in_sql(tmp_path: Path, pg_url: str) -> None:
    plan = prepared(tmp_path, pg_url, key="INT PRIMARY KEY")
    write(tmp_path / "app.db", "UPDATE items SET name = 'x' WHERE id = 6")
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert "not the table's INTEGER PRIMARY KEY" in table.decision.why
    assert table.updated == 1 and same_rows(tmp_path / "app.db", pg_url)
