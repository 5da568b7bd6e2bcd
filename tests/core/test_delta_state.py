"""What a delta run into PostgreSQL keeps as its tables' state, against real SQLite files and
the real PostgreSQL server: the row versions its recorded merge returned, not looked up again
(ferry.load.recordedmerge, DeltaLoad.table_state), are exactly the versions the table's rows
carry, so the next run is a delta again; a write by anyone else since still makes it compare
in full. And the kept prints and page maps read back through the binary cursor
(Target.fetch_binary) are the bytes kept."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from array import array
from pathlib import Path
from typing import Any

import pytest
from pgkit import migrated as run
from pgkit import parents_items_plan, pg_exec, pg_rows

from ferry.load.pagemaps import read_page_map
from ferry.load.rowprints import read_prints
from ferry.plan import Plan
from ferry.results import RunResult
from ferry.targets import open_target

pytestmark = pytest.mark.pg


def plan_for(folder: Path, url: str) -> Plan:
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
    return parents_items_plan(folder, url, "state")


def write(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


def modes(result: RunResult) -> dict[str, str]:
    return {t.name: t.decision.mode for t in result.tables if t.decision}


def kept_versions(url: str, table: str) -> list[str]:
    found = pg_rows(url, f"SELECT state FROM ferry.row_print_tables WHERE table_name = '{table}'")
    return sorted(json.loads(found[0][0])["xmins"])


def carried_versions(url: str, table: str) -> list[str]:
    return sorted(x for (x,) in pg_rows(url, f"SELECT DISTINCT xmin::text FROM {table}"))


def test_the_kept_state_is_the_versions_the_rows_carry(tmp_path: Path, pg_url: str) -> None:
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    write(tmp_path / "app.db", "UPDATE parents SET name = 'x' WHERE id = 4")
    write(tmp_path / "app.db", "UPDATE items SET label = 'y' WHERE id % 9 = 0")
    write(tmp_path / "app.db", "INSERT INTO items VALUES (900, 4, 'new')")

    result = run(plan)

    assert modes(result) == {"parents": "delta", "items": "delta"}
    for table in ("parents", "items"):
        assert kept_versions(pg_url, table) == carried_versions(pg_url, table)
        assert len(kept_versions(pg_url, table)) == 2  # the first run's and the delta's


def test_a_delta_after_a_delta_is_a_delta_again(tmp_path: Path, pg_url: str) -> None:
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    write(tmp_path / "app.db", "UPDATE items SET label = 'y' WHERE id % 9 = 0")
    run(plan)
    write(tmp_path / "app.db", "UPDATE items SET label = 'z' WHERE id = 5")

    result = run(plan)

    assert modes(result) == {"parents": "delta", "items": "delta"}
    assert result.table("items").counts()["updated"] == 1


def test_a_write_to_the_target_after_a_delta_is_compared_in_full(
    tmp_path: Path, pg_url: str
) -> None:
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    write(tmp_path / "app.db", "UPDATE items SET label = 'y' WHERE id % 9 = 0")
    run(plan)
    pg_exec(pg_url, "UPDATE items SET label = 'app' WHERE id = 9")  # one the delta wrote
    write(tmp_path / "app.db", "UPDATE items SET label = 'z' WHERE id = 5")

    result = run(plan)

    assert modes(result)["items"] == "compare-first"
    assert pg_rows(pg_url, "SELECT label FROM items WHERE id IN (5, 9) ORDER BY id") == [
        ("z",),
        ("y",),
    ]


async def _read_kept(plan: Plan, table: str) -> tuple[Any, ...]:
    target = open_target(plan.target, plan.base_dir)
    await target.open()
    try:
        prints = await read_prints(target, table)
        keys, values = array("q"), array("q")
        for part_keys, part_values in prints.chunks():
            keys.extend(part_keys)
            values.extend(part_values)
        prints.close()
        pages = await read_page_map(target, table)
    finally:
        await target.finish(commit=False)
    assert pages is not None
    return keys.tobytes(), values.tobytes(), pages.hashes.tobytes()


def test_kept_prints_and_page_maps_read_back_as_kept(tmp_path: Path, pg_url: str) -> None:
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    stored = pg_rows(
        pg_url,
        "SELECT chunk, keys, prints FROM ferry.row_prints WHERE table_name = 'items' "
        "ORDER BY chunk",
    )

    keys, prints, hashes = asyncio.run(_read_kept(plan, "items"))

    by_chunk = {chunk: (bytes(k), bytes(p)) for chunk, k, p in stored}
    assert (keys, prints) == by_chunk[0] and len(keys) == 399 * 8
    assert hashes == by_chunk[-1][1]
