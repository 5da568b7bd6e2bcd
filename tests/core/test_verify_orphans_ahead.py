"""Foreign-key orphans counted while the fast path still hashes the sources
(ferry.verify.integrity.OrphanCounts, FastPath.run's ``meanwhile``): the same result, orphans
and warnings as when the integrity step counts them, against a real PostgreSQL target."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_verify_fast import both_ways, migrated

from ferry.plan import Plan, load_plan
from ferry.shape.schema import ForeignKey, TableInfo
from ferry.targets import open_target
from ferry.verify.fast import FastPath
from ferry.verify.integrity import OrphanCounts, find_orphans

pytestmark = pytest.mark.pg

SCHEMA = (
    "CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT NOT NULL);"
    "CREATE TABLE steps (id INTEGER PRIMARY KEY, job_id INTEGER REFERENCES jobs (id), "
    "name TEXT NOT NULL);"
    "INSERT INTO jobs VALUES (1, 'one'), (2, 'two');"
    "INSERT INTO steps VALUES (1, 1, 'probe'), (2, 2, 'mux'), (3, NULL, 'loose');"
)


def jobs_plan(folder: Path, url: str) -> Plan:
    conn = sqlite3.connect(folder / "legacy.db")
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()
    (folder / "ferry.toml").write_text(
        f"""name = "jobs"
[target]
url = "{url}"

[[sources]]
name = "legacy"
kind = "sqlite"
path = "legacy.db"

[[tables]]
name = "jobs"
source = "legacy.jobs"

[[tables]]
name = "steps"
source = "legacy.steps"
""",
        encoding="utf-8",
    )
    return load_plan(folder / "ferry.toml")


def add_orphan(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("SET session_replication_role = replica")  # past the foreign key's check
        pg.execute("INSERT INTO steps VALUES (99, 42, 'ghost')")


@pytest.fixture
def sources_last(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources' side waits until the target's is done (the server is first), and the
    orphans counted ahead are recorded: the tables counted."""
    targets_done = threading.Event()
    counted: list[str] = []
    fingerprint, sources, ahead = (
        FastPath._fingerprint_targets,
        FastPath._sources,
        OrphanCounts.count_ahead,
    )

    async def fingerprint_then_say(self: FastPath, fast: Any) -> None:
        await fingerprint(self, fast)
        targets_done.set()

    def sources_after(self: FastPath, *args: Any) -> None:
        assert targets_done.wait(30)
        sources(self, *args)

    async def count_ahead(self: OrphanCounts, infos: list[TableInfo]) -> None:
        counted.extend(info.name for info in infos)
        await ahead(self, infos)

    monkeypatch.setattr(FastPath, "_fingerprint_targets", fingerprint_then_say)
    monkeypatch.setattr(FastPath, "_sources", sources_after)
    monkeypatch.setattr(OrphanCounts, "count_ahead", count_ahead)
    return counted


async def test_an_orphan_counted_ahead_fails_the_table_as_the_general_path_does(
    tmp_path: Path, pg_url: str, sources_last: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(jobs_plan(tmp_path, pg_url))
    add_orphan(pg_url)
    result, detail = await both_ways(plan, monkeypatch)
    assert sources_last == ["jobs", "steps"]
    assert detail == "jobs: equal; steps: to compare"  # the extra row
    jobs, steps = result.tables
    assert jobs.verdict == "PASS"
    assert (steps.verdict, steps.orphans, steps.extra, steps.matched) == ("FAIL", 1, 1, 3)
    assert steps.mismatches == [{"key": "job_id=42", "problem": "orphan: no row in jobs holds it"}]


async def test_equal_tables_counted_ahead_pass(
    tmp_path: Path, pg_url: str, sources_last: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(jobs_plan(tmp_path, pg_url))
    result, detail = await both_ways(plan, monkeypatch)
    assert sources_last == ["jobs", "steps"]
    assert detail == "jobs: equal; steps: equal"
    assert result.verdict == "PASS"
    assert [t.orphans for t in result.tables] == [0, 0]


# -- OrphanCounts itself ---------------------------------------------------------------------

LACKING = TableInfo("steps", foreign_keys=[ForeignKey(("job_id",), "gone", ("id",))])


async def counts_of(plan: Plan, ahead: bool) -> tuple[Any, list[tuple[str, str]]]:
    target = open_target(plan.target, plan.base_dir)
    await target.open(read_only=True)
    try:
        tables = await target.reflect()
        orphans = OrphanCounts(target, tables)
        if ahead:
            await orphans.count_ahead([LACKING, tables["steps"]])
        warned: list[tuple[str, str]] = []
        found = [await orphans.of(info, lambda *w: warned.append(w)) for info in (LACKING,)]
        found.append(await find_orphans(target, tables["steps"], tables, lambda *w: None))
        return found, warned
    finally:
        await target.finish(commit=False)


async def test_warnings_counted_ahead_are_given_when_asked(tmp_path: Path, pg_url: str) -> None:
    plan = await migrated(jobs_plan(tmp_path, pg_url))
    add_orphan(pg_url)
    assert await counts_of(plan, ahead=True) == await counts_of(plan, ahead=False)
    found, warned = await counts_of(plan, ahead=True)
    # without its parent table every non-NULL job_id counts; with it, only the ghost's
    assert [count for count, _ in found] == [3, 1]
    assert warned == [
        ("table steps: its foreign key (job_id) references gone, which the target lacks", "steps")
    ]


async def test_a_failed_count_ahead_keeps_nothing(tmp_path: Path, pg_url: str) -> None:
    plan = await migrated(jobs_plan(tmp_path, pg_url))
    target = open_target(plan.target, plan.base_dir)
    await target.open(read_only=True)
    try:
        tables = await target.reflect()
        orphans = OrphanCounts(target, tables)
        broken = TableInfo("nowhere", foreign_keys=[ForeignKey(("x",), "jobs", ("id",))])
        await orphans.count_ahead([tables["steps"], broken])  # no table "nowhere": an error
        assert orphans._ahead == {}
        # the transaction is still usable: the savepoint was rolled back
        assert await orphans.of(tables["steps"], lambda *w: None) == (0, [])
    finally:
        await target.finish(commit=False)
