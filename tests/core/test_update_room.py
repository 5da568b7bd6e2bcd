"""A keyed table Ferry creates in PostgreSQL keeps room on its pages for updated rows
(``fillfactor``, ferry.targets.postgres.UPDATE_ROOM), against a real SQLite file and the real
PostgreSQL server: a later delta's updates stay on their rows' pages (HOT updates, no new index
entries); a table without a key (appended to or replaced) keeps no room."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pgkit import migrated as run
from pgkit import pg_rows

from ferry.plan import Plan, plan_from_dict
from ferry.targets.postgres import UPDATE_ROOM

pytestmark = pytest.mark.pg

ROWS = 3000


def plan_for(folder: Path, url: str) -> Plan:
    db = sqlite3.connect(folder / "app.db")
    db.execute(
        "CREATE TABLE steps (id INTEGER PRIMARY KEY, step TEXT NOT NULL, status TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX steps_step ON steps (step)")
    db.execute("CREATE TABLE log (at TEXT, line TEXT)")
    db.executemany(
        "INSERT INTO steps VALUES (?, ?, 'ok')", [(i, f"s{i % 50}") for i in range(1, ROWS + 1)]
    )
    db.executemany("INSERT INTO log VALUES (?, ?)", [(str(i), "x") for i in range(100)])
    db.commit()
    db.close()
    return plan_from_dict(
        {
            "name": "room",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": "steps", "source": "app.steps", "key": ["id"]},
                {"name": "log", "source": "app.log", "mode": "replace"},
            ],
            "options": {"row_prints": True},
        },
        folder,
    )


def pages(url: str) -> dict[int, int]:
    """Each ``steps`` row's page (the block of its ``ctid``)."""
    found = pg_rows(url, "SELECT id, (ctid::text::point)[0]::int FROM steps")
    return {int(key): int(block) for key, block in found}


def test_a_keyed_created_table_keeps_room_and_an_unkeyed_one_none(
    tmp_path: Path, pg_url: str
) -> None:
    run(plan_for(tmp_path, pg_url))
    options = dict(
        pg_rows(
            pg_url, "SELECT relname, reloptions FROM pg_class WHERE relname IN ('steps', 'log')"
        )
    )
    assert options == {"steps": [f"fillfactor={UPDATE_ROOM}"], "log": None}


def test_a_deltas_updates_stay_on_their_pages(tmp_path: Path, pg_url: str) -> None:
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    before = pages(pg_url)
    changed = list(range(7, ROWS // 2, 37))  # spread over the loaded pages, none the last
    db = sqlite3.connect(tmp_path / "app.db")
    with db:
        db.executemany("UPDATE steps SET status = 'edited' WHERE id = ?", [(i,) for i in changed])
    db.close()
    result = run(plan)
    assert {t.name: t.counts()["updated"] for t in result.tables}["steps"] == len(changed)
    after = pages(pg_url)
    assert pg_rows(pg_url, "SELECT count(*) FROM steps WHERE status = 'edited'") == [
        (len(changed),)
    ]
    assert {key: after[key] for key in changed} == {key: before[key] for key in changed}
