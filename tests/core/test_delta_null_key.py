"""A delta run reads the changed rows back by their keys (``WHERE key IN (…)``); a row whose
key is NULL matches no such list, so a row the app added without a key (SQLite keeps a NULL
in any primary key but the rowid's: ``INT PRIMARY KEY``, ``INTEGER PRIMARY KEY DESC``) was
counted as read and went nowhere: not loaded, not rejected, not named. It is read and
rejected like on a first run. Real SQLite files, real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pgkit import settled

from ferry.api import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.results import RunResult


def _run(plan: Plan) -> RunResult:
    result = asyncio.run(migrate(plan, write_reports=False))
    if not plan.target.url.startswith("sqlite"):
        settled(plan.target.url)
    return result


@pytest.fixture
def plan(tmp_path: Path, target_url: str, monkeypatch: pytest.MonkeyPatch) -> Plan:
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE job (x INT PRIMARY KEY, name TEXT NOT NULL)")
        conn.executemany("INSERT INTO job VALUES (?, ?)", [(1, "a"), (2, "b")])
    conn.close()
    found = plan_from_dict(
        {
            "version": 1,
            "name": "nullkey",
            "target": {"url": target_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(tmp_path / "app.db")}],
            "tables": [{"name": "job", "source": "app.job", "key": ["x"]}],
            "options": {"row_prints": True},
        },
        base_dir=tmp_path,
    )
    _run(found)
    return found


def test_a_row_added_without_a_key_is_rejected_on_a_delta_run(plan: Plan, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("INSERT INTO job (name) VALUES ('no key')")
        conn.execute("UPDATE job SET name = 'B' WHERE x = 2")
    conn.close()
    [job] = _run(plan).tables
    assert (job.updated, job.rejected) == (1, 1)
