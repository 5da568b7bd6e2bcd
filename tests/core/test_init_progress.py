"""`ferry init` on a big source tells how far its read has got: a TableProgress per batch
of each source table, so the command and the wizard can show it (a 1 GB database takes a
minute to scan)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ferry.api import scan
from ferry.events import Event, TableProgress

ROWS = 12_000  # three batches of 5,000


def _database(folder: Path) -> Path:
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?)", [(i, f"n{i}") for i in range(ROWS)])
    db.close()
    return path


def _progress(events: list[Event]) -> list[TableProgress]:
    return [e for e in events if isinstance(e, TableProgress)]


def test_a_database_scan_tells_rows_read_out_of_its_count(tmp_path: Path) -> None:
    path = _database(tmp_path)
    events: list[Event] = []

    scan(path, emit=events.append, plan_dir=tmp_path / "plan")

    told = _progress(events)
    done = [e.rows_done for e in told]
    assert len(done) >= 3 and done == sorted(set(done)) and done[-1] == ROWS  # batch by batch
    assert {(e.table, e.rows_total) for e in told} == {("app.items", ROWS)}


def test_a_json_file_scan_counts_its_records_with_no_total(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"n{i}"} for i in range(7000)]
    (tmp_path / "items.json").write_text(json.dumps(records))
    events: list[Event] = []

    scan(tmp_path, emit=events.append, plan_dir=tmp_path / "plan")

    told = _progress(events)
    assert told and told[-1].rows_done == 7000
    assert {e.rows_total for e in told} == {None}
