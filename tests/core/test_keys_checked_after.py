"""A new SQLite table loaded in native chunks with its foreign keys checked once at the end
(ferry.targets.sqlitekeys) gives exactly what the row-by-row load gives.

Each test migrates a real SQLite source into a new SQLite file twice — with text ``ops`` on a
column, so the table is loaded in native chunks (not copied whole), and with ``native =
false`` (Python maps every row) — and compares the target's rows (with their storage
classes), counts, rejects and warnings. A row without its parent sends the run back to the
staged load, which rejects it, as the enforced key would have.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult
from ferry.targets import sqlitekeys

SCHEMA = """
CREATE TABLE content (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'note'
);
CREATE TABLE steps (
    id INTEGER PRIMARY KEY,
    content_id INTEGER REFERENCES content (id) ON DELETE CASCADE,
    step TEXT NOT NULL
);
CREATE INDEX steps_content_step ON steps (content_id, step);
"""


def source_db(folder: Path, parents: list[Any], schema: str = SCHEMA) -> Path:
    """``content`` rows 1–6 and one ``steps`` row per value of ``parents``."""
    path = folder / "app.db"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(schema)
    with db:
        db.executemany(
            "INSERT INTO content VALUES (?, ?, ?)", [(i, f"title {i}", "note") for i in range(1, 7)]
        )
        db.executemany(
            "INSERT INTO steps VALUES (?, ?, ?)",
            [(i, p, f"step {i % 3}") for i, p in enumerate(parents, start=1)],
        )
    db.close()
    return path


def load(folder: Path, source: Path, native: bool) -> tuple[RunResult, dict[str, Any]]:
    target = folder / f"target-{native}.db"
    for suffix in ("", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    ops = {"from": "step", "ops": ["upper"]}  # not copied whole: loaded in native chunks
    plan = plan_from_dict(
        {
            "name": "keys",
            "target": {"url": f"sqlite:///{target}"},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(source)}],
            "tables": [
                {"name": "content", "source": "app.content", "key": ["id"]},
                {"name": "steps", "source": "app.steps", "key": ["id"], "columns": {"step": ops}},
            ],
            "options": {"native": native},
        },
        folder,
    )
    result = asyncio.run(migrate(plan, write_reports=False))
    db = sqlite3.connect(target)
    try:
        state = {
            "steps": db.execute(
                "SELECT *, typeof(content_id), typeof(step) FROM steps ORDER BY id"
            ).fetchall(),
            "keys_on": db.execute("PRAGMA foreign_keys").fetchone(),
        }
    finally:
        db.close()
    return result, state


def same_as_python(folder: Path, source: Path) -> RunResult:
    chunks, chunks_state = load(folder, source, True)
    python, python_state = load(folder, source, False)
    assert chunks_state == python_state
    counts = [[(t.name, t.counts()) for t in r.tables] for r in (chunks, python)]
    assert counts[0] == counts[1]
    rejects = [sorted((j.table, j.key, j.reason) for j in r.rejects) for r in (chunks, python)]
    assert rejects[0] == rejects[1]
    assert sorted(chunks.warnings) == sorted(python.warnings)
    return chunks


@pytest.fixture
def switched(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[bool]]:
    """Per table, whether each load switched its foreign keys off (a run may start over)."""
    seen: dict[str, list[bool]] = {}
    original = sqlitekeys.keys_checked_after

    @asynccontextmanager
    async def spy(driver: Any, conn: Any, table: str) -> AsyncIterator[bool]:
        async with original(driver, conn, table) as off:
            seen.setdefault(table, []).append(off)
            yield off

    from ferry.targets import sqlite as sqlite_target

    monkeypatch.setattr(sqlite_target, "keys_checked_after", spy)
    return seen


def test_a_child_table_is_loaded_with_its_keys_checked_after(
    tmp_path: Path, switched: dict[str, list[bool]]
) -> None:
    same_as_python(tmp_path, source_db(tmp_path, [1, 2, 3, 6, None, 2]))
    assert switched["steps"] == [True]
    assert "content" not in switched  # copied whole (no ops): no chunks


def test_a_missing_parent_starts_the_run_over_staged_and_is_rejected(
    tmp_path: Path, switched: dict[str, list[bool]]
) -> None:
    result = same_as_python(tmp_path, source_db(tmp_path, [1, 2, 99, 3]))
    assert switched["steps"] == [True]  # the staged attempt loads no native chunks
    assert [(r.table, r.key) for r in result.rejects] == [("steps", "id=3")]


def test_a_deferred_key_stays_enforced_row_by_row(
    tmp_path: Path, switched: dict[str, list[bool]]
) -> None:
    schema = SCHEMA.replace("ON DELETE CASCADE", "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED")
    same_as_python(tmp_path, source_db(tmp_path, [1, 3, 2], schema))
    assert switched["steps"] == [False]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parents=st.lists(
        st.one_of(st.integers(0, 8), st.sampled_from(["1", "x", 1.0, 2.5, b"\x01", None])),
        max_size=8,
    )
)
def test_any_parent_values_give_the_row_by_row_result(tmp_path: Path, parents: list[Any]) -> None:
    same_as_python(tmp_path, source_db(tmp_path, parents))


def test_keys_are_enforced_again_after_the_block_and_a_missing_parent_raises(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with aiosqlite.connect(
            tmp_path / "t.db", isolation_level=None, check_same_thread=False
        ) as driver:
            await driver.executescript(
                "PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY);"
                "CREATE TABLE c (p INTEGER REFERENCES p (id)); INSERT INTO p VALUES (1);"
                "BEGIN IMMEDIATE;"
            )
            with pytest.raises(sqlitekeys.MissingParent):
                async with sqlitekeys.keys_checked_after(driver, driver._conn, "c") as off:
                    assert off
                    await driver.execute("INSERT INTO c VALUES (1), (2)")  # 2: allowed now
            with pytest.raises(sqlite3.IntegrityError):
                await driver.execute("INSERT INTO c VALUES (3)")
            await driver.execute("ROLLBACK")

    asyncio.run(scenario())
