"""A SQLite target file a run creates keeps the app's journal mode: an app whose SQLite file is
in WAL mode (set once, a property of the file) finds its new file in WAL mode too, so its
readers still do not block its writer after the switch. Real files, ``ferry migrate``."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict


def _app(folder: Path, wal: bool) -> Plan:
    db = sqlite3.connect(folder / "app.db")
    if wal:
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
    with db:
        db.execute("INSERT INTO jobs VALUES (1, 'one')")
    db.close()
    return plan_from_dict(
        {
            "name": "wal",
            "target": {"url": "sqlite:///new.db"},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [{"name": "jobs", "source": "app.jobs", "key": ["id"]}],
        },
        folder,
    )


def _journal_mode(path: Path) -> str:
    db = sqlite3.connect(path)
    mode = str(db.execute("PRAGMA journal_mode").fetchone()[0])
    db.close()
    return mode


def test_a_new_target_from_a_source_in_wal_mode_is_in_wal_mode(tmp_path: Path) -> None:
    plan = _app(tmp_path, wal=True)

    asyncio.run(migrate(plan))

    assert _journal_mode(tmp_path / "new.db") == "wal"
    db = sqlite3.connect(tmp_path / "new.db")
    assert db.execute("SELECT * FROM jobs").fetchall() == [(1, "one")]
    db.close()
    again = asyncio.run(migrate(plan))  # and Ferry's own next run into it is as before
    assert [(t.name, t.unchanged) for t in again.tables] == [("jobs", 1)]


def test_a_new_target_from_a_source_in_rollback_mode_keeps_that_mode(tmp_path: Path) -> None:
    plan = _app(tmp_path, wal=False)

    asyncio.run(migrate(plan))

    assert _journal_mode(tmp_path / "new.db") == "delete"
