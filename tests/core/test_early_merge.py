"""A delta's tables merged while the tables after them are still read (ferry.load.earlymerge),
against real SQLite files and the real PostgreSQL server: the parent is finished before the
run's merge step, a child read first waits for its parent's merge (its new rows point at a
new parent), and what a delta writes and records is what the merge step wrote."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import parents_items_plan, pg_exec, pg_rows, settled

from ferry.events import StepStarted, TableFinished
from ferry.load import earlymerge
from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.results import RunResult

pytestmark = pytest.mark.pg


def make_source(folder: Path, url: str) -> None:
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER, label TEXT)")
    db.executemany("INSERT INTO parents VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 31)])
    db.executemany(
        "INSERT INTO items VALUES (?, ?, ?)", [(i, i % 30 + 1, f"i{i}") for i in range(1, 400)]
    )
    db.commit()
    db.close()
    pg_exec(
        url,
        "CREATE TABLE parents (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE TABLE items (id BIGINT PRIMARY KEY, parent_id BIGINT REFERENCES parents (id), "
        "label TEXT)",
    )


def change(path: Path) -> None:
    """Updates in both tables, a new parent and new items that point at it."""
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE parents SET name = name || '!' WHERE id % 7 = 0")
        db.execute("INSERT INTO parents VALUES (31, 'new')")
        db.execute("UPDATE items SET label = 'y' WHERE id % 9 = 0")
        db.executemany("INSERT INTO items VALUES (?, 31, 'n')", [(i,) for i in range(900, 905)])
    db.close()


def run(plan: Plan, events: list[Any] | None = None) -> RunResult:
    emit = events.append if events is not None else (lambda event: None)
    result = asyncio.run(migrate(plan, emit=emit, write_reports=False))
    settled(plan.target.url)
    return result


def children_first(folder: Path, url: str) -> Plan:
    """The same two tables with ``items`` listed (and read) before ``parents``."""
    return plan_from_dict(
        {
            "name": "early",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": t, "source": f"app.{t}", "key": ["id"]} for t in ("items", "parents")
            ],
            "options": {"row_prints": True},
        },
        folder,
    )


def counts(result: RunResult) -> dict[str, tuple[int, int, int]]:
    return {t.name: (t.inserted, t.updated, t.unchanged) for t in result.tables}


def modes(result: RunResult) -> dict[str, str]:
    return {t.name: t.decision.mode for t in result.tables if t.decision}


WANT = {"parents": (1, 4, 26), "items": (5, 44, 355)}


def test_a_delta_finishes_the_parent_before_the_merge_step(tmp_path: Path, pg_url: str) -> None:
    make_source(tmp_path, pg_url)
    plan = parents_items_plan(tmp_path, pg_url, "early")
    run(plan)
    change(tmp_path / "app.db")
    events: list[Any] = []

    result = run(plan, events)

    assert modes(result) == {"parents": "delta", "items": "delta"}
    assert counts(result) == WANT
    order = [
        e.table if isinstance(e, TableFinished) else e.step
        for e in events
        if isinstance(e, TableFinished) or (isinstance(e, StepStarted) and e.step == "merge")
    ]
    assert order.index("parents") < order.index("merge")
    assert pg_rows(pg_url, "SELECT count(*) FROM items WHERE parent_id = 31") == [(5,)]


def test_a_child_read_first_waits_for_its_parents_merge(tmp_path: Path, pg_url: str) -> None:
    make_source(tmp_path, pg_url)
    plan = children_first(tmp_path, pg_url)
    run(plan)
    change(tmp_path / "app.db")

    result = run(plan)

    assert modes(result) == {"parents": "delta", "items": "delta"}
    assert counts(result) == WANT
    assert result.rejected_total == 0
    assert pg_rows(pg_url, "SELECT id FROM items WHERE parent_id = 31 ORDER BY id") == [
        (i,) for i in range(900, 905)
    ]


def written(url: str, run_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """The app's rows and the run's recorded changeset (its actions, keys, fingerprints)."""
    found = {t: pg_rows(url, f"SELECT * FROM {t} ORDER BY id") for t in ("parents", "items")}
    for table in ("parents", "items"):
        found[f"img_{table}"] = pg_rows(
            url,
            f"SELECT ferry_action, id, ferry_after FROM ferry.img_{table} "
            f"WHERE ferry_run = '{run_id}' ORDER BY id",
        )
    return found


def test_the_same_rows_and_changeset_as_the_merge_step(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = {}
    for name in ("early", "late"):  # the same database, made again for each way
        folder = tmp_path / name
        folder.mkdir()
        pg_exec(
            pg_url, "DROP TABLE IF EXISTS items, parents", "DROP SCHEMA IF EXISTS ferry CASCADE"
        )
        make_source(folder, pg_url)
        plan = parents_items_plan(folder, pg_url, "same")
        run(plan)
        change(folder / "app.db")
        with monkeypatch.context() as patch:
            if name == "late":  # the merge step finishes every table, as before early merges
                patch.setattr(earlymerge.EarlyMerge, "route_staged", _staged_only)
            result = run(plan)
        results[name] = (counts(result), written(pg_url, result.run_id))
    assert results["early"][0] == WANT
    assert results["early"][1]["img_items"]
    assert results["early"] == results["late"]


async def _staged_only(self: Any, route: Any) -> None:
    """Nothing finished during the read."""
