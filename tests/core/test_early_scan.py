"""A delta run's page scans begun while the run is planned (ferry.load.earlyscan): a table's
pages are compared with its kept map by a process of its own while the run reads its kept
prints from the target, and that process never outlives the run's read lock on the source,
even when the run fails before its load. Real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import migrated as run
from pgkit import parents_items_plan, pg_exec, settled

import ferry.load.earlyscan
from ferry.errors import FerryError
from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.sources.sqlitepages import SideDelta
from ferry.targets.postgres import PostgresTarget

TABLES = ("parents", "items")


def first_run(folder: Path, url: str) -> Plan:
    """Both tables loaded once, then a row of each changed in the source."""
    db = sqlite3.connect(folder / "app.db")
    for table in TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany(
            f"INSERT INTO {table} VALUES (?, ?)", [(i, f"{table} {i}") for i in range(1, 3001)]
        )
    db.commit()
    for table in TABLES:
        pg_exec(url, f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT)")
    plan = parents_items_plan(folder, url, "early")
    run(plan)
    with db:
        for table in TABLES:
            db.execute(f"UPDATE {table} SET name = 'changed' WHERE id = 1500")
    db.close()
    return plan


def test_each_tables_pages_are_compared_while_its_state_and_prints_are_read(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    events: list[str] = []
    start, fetch, dicts = SideDelta.start, PostgresTarget.fetch_binary, PostgresTarget.fetch_dicts

    def started(self: SideDelta) -> None:
        events.append(f"side {','.join(self.tables)}")
        start(self)

    async def fetched(self: PostgresTarget, query: Any, what: str) -> list[tuple[Any, ...]]:
        events.append(what)
        return await fetch(self, query, what)

    async def fetched_dicts(self: PostgresTarget, sql: str, what: str) -> Any:
        events.append(what)
        return await dicts(self, sql, what)

    monkeypatch.setattr(SideDelta, "start", started)
    monkeypatch.setattr(PostgresTarget, "fetch_dicts", fetched_dicts)
    monkeypatch.setattr(PostgresTarget, "fetch_binary", fetched)
    result = run(plan)
    assert [(t.decision.mode, t.updated) for t in result.tables if t.decision] == [
        ("delta", 1),
        ("delta", 1),
    ]
    for table in TABLES:  # (the state check is the first read of the row versions)
        side = events.index(f"side {table}")
        assert side < events.index(f"reading the row versions of {table}")
        assert side < events.index(f"reading the kept row prints of {table}")


def test_a_table_written_to_behind_ferrys_back_ends_its_side_process_unused(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    pg_exec(pg_url, "UPDATE parents SET name = 'app' WHERE id = 7")
    events: list[str] = []
    start, close, result = SideDelta.start, SideDelta.close, SideDelta.result

    def started(self: SideDelta) -> None:
        events.append(f"{self.tables[0]} started")
        start(self)

    def closed(self: SideDelta) -> None:
        events.append(f"{self.tables[0]} closed")
        close(self)

    def taken(self: SideDelta, table: str) -> Any:
        events.append(f"{table} taken")
        return result(self, table)

    monkeypatch.setattr(SideDelta, "start", started)
    monkeypatch.setattr(SideDelta, "close", closed)
    monkeypatch.setattr(SideDelta, "result", taken)
    tables = {t.name: t for t in run(plan).tables}
    assert tables["parents"].decision.mode == "compare-first"
    # the app's row is set back to the source's, the changed one written
    assert (tables["parents"].updated, tables["items"].updated) == (2, 1)
    # parents' process ended as soon as its state said no (before items' was even begun)
    assert events[:4] == ["parents started", "parents closed", "items started", "items taken"]


def test_a_run_failing_while_planned_ends_the_side_process_under_the_read_lock(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    read_prints = ferry.load.earlyscan.read_prints
    writes: list[str] = []  # per side process ended: could a writer commit to the source?
    close = SideDelta.close

    async def failing(target: Any, table: str) -> Any:
        if table == "items":  # (both side processes started by now)
            raise FerryError("the kept prints of items are unreadable")
        return await read_prints(target, table)

    def closed(self: SideDelta) -> None:
        if self not in ended:
            ended.append(self)
            writer = sqlite3.connect(tmp_path / "app.db", timeout=0)
            try:
                with writer:
                    writer.execute("UPDATE parents SET name = name WHERE id = 1")
                writes.append("committed")
            except sqlite3.OperationalError as exc:
                writes.append(str(exc))
            finally:
                writer.close()
        close(self)

    ended: list[SideDelta] = []
    monkeypatch.setattr(ferry.load.earlyscan, "read_prints", failing)
    monkeypatch.setattr(SideDelta, "close", closed)
    with pytest.raises(FerryError, match="unreadable"):
        asyncio.run(migrate(plan, write_reports=False))
    settled(plan.target.url)
    assert writes == ["database is locked"] * 2  # (parents' and items')
