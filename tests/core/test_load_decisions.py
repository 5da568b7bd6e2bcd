"""Each table's load decision (ferry.load.decide) as data: which mode a run picks, and why.

One behaviour per test, on real SQLite files and a real PostgreSQL server: the decision is
read from the run's result (``TableResult.decision``), as the preview shows it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from pgkit import pg_exec

from ferry.load.decide import LoadDecision, LoadFacts, decide, refused
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

ROWS = 120


def source_db(folder: Path) -> Path:
    """A SQLite source of ROWS items, its file times older than the racy window."""
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?)", [(i, f"item {i}", i / 4) for i in range(ROWS)]
        )
    db.close()
    old = time.time() - 60
    os.utime(path, (old, old))
    return path


def plan_for(folder: Path, url: str, source: dict[str, Any] | None = None, **table: Any) -> Any:
    source = source or {"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}
    return plan_from_dict(
        {
            "name": "decisions",
            "target": {"url": url},
            "sources": [source],
            "tables": [
                {"name": "items", "source": f"{source['name']}.items", "key": ["id"], **table}
            ],
        },
        folder,
    )


def run(plan: Any, preview: bool = False) -> RunResult:
    return asyncio.run(migrate(plan, preview=preview, write_reports=False))


def decision(result: RunResult) -> LoadDecision:
    found = result.table("items").decision
    assert found is not None
    return found


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'out.db'}"


def test_an_empty_table_from_a_json_source_is_loaded_directly(tmp_path: Path) -> None:
    (tmp_path / "items.json").write_text(
        json.dumps([{"id": i, "name": f"item {i}"} for i in range(5)]), encoding="utf-8"
    )
    source = {"name": "feed", "kind": "json", "path": str(tmp_path / "items.json")}
    plan = plan_from_dict(
        {
            "name": "decisions",
            "target": {"url": sqlite_url(tmp_path)},
            "sources": [source],
            "tables": [{"name": "items", "source": "feed", "key": ["id"]}],
        },
        tmp_path,
    )
    found = decision(run(plan, preview=True))
    assert found.mode == "direct"
    assert found.facts.table_empty and found.facts.key_is_primary_key
    assert found.facts.native_blocker == "the source is not a SQLite file"
    assert str(found).startswith("direct: empty table fed by this table spec alone")


def test_sqlite_to_sqlite_without_a_transform_is_native(tmp_path: Path) -> None:
    source_db(tmp_path)
    result = run(plan_for(tmp_path, sqlite_url(tmp_path)))
    found = decision(result)
    assert (found.mode, found.facts.native_form) == (
        "native",
        "INSERT … SELECT from the attached source file",
    )
    assert result.table("items").mapped_by_sqlite == ROWS


def test_sqlite_to_postgres_is_native_by_binary_copy(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    pg_exec(
        pg_url,
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION)",
    )
    found = decision(run(plan_for(tmp_path, pg_url), preview=True))
    assert (found.mode, found.facts.native_form) == ("native", "binary COPY")


def test_a_table_holding_rows_keyed_by_one_column_is_compared_first(tmp_path: Path) -> None:
    source_db(tmp_path)
    target = tmp_path / "out.db"
    db = sqlite3.connect(target)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    with db:
        db.execute("INSERT INTO items VALUES (1, 'old', 0.25)")
    db.close()
    found = decision(run(plan_for(tmp_path, sqlite_url(tmp_path)), preview=True))
    assert found.mode == "compare-first"
    assert found.facts.table_empty is False


def test_a_table_holding_rows_keyed_by_two_columns_is_staged(tmp_path: Path) -> None:
    source_db(tmp_path)
    target = tmp_path / "out.db"
    db = sqlite3.connect(target)
    db.execute("CREATE TABLE items (id INTEGER, name TEXT, score REAL, PRIMARY KEY (id, name))")
    with db:
        db.execute("INSERT INTO items VALUES (1, 'old', 0.25)")
    db.close()
    found = decision(run(plan_for(tmp_path, sqlite_url(tmp_path), key=["id", "name"]), True))
    assert found.mode == "staged"
    assert found.why == "the table holds rows keyed by several columns: staged and merged by key"


def test_an_unchanged_rerun_is_unchanged(tmp_path: Path, pg_url: str) -> None:
    source_db(tmp_path)
    plan = plan_for(tmp_path, pg_url)
    assert decision(run(plan)).mode == "native"
    second = run(plan)
    found = decision(second)
    assert (found.mode, found.facts.unchanged) == ("unchanged", True)
    assert second.table("items").unchanged == ROWS


def test_text_ops_leave_the_table_native(tmp_path: Path) -> None:
    source_db(tmp_path)
    columns = {"name": {"from": "name", "ops": ["trim", "upper"]}}
    result = run(plan_for(tmp_path, sqlite_url(tmp_path), columns=columns))
    found = decision(result)
    assert found.mode == "native"
    assert "(or text ops)" in found.why
    assert result.table("items").mapped_by_sqlite == ROWS


def test_a_sqlite_target_attaches_ten_source_files_and_maps_the_rest_in_python(
    tmp_path: Path,
) -> None:
    sources, tables = [], []
    for i in range(12):
        path = tmp_path / f"s{i}.db"
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
        with db:
            db.executemany("INSERT INTO items VALUES (?, ?)", [(j, f"n{j}") for j in range(5)])
        db.close()
        sources.append({"name": f"s{i}", "kind": "sqlite", "path": str(path)})
        tables.append({"name": f"items{i}", "source": f"s{i}.items", "key": ["id"]})
    plan = {"name": "many", "target": {"url": sqlite_url(tmp_path)}, "sources": sources}
    result = run(plan_from_dict({**plan, "tables": tables}, tmp_path))
    assert result.status == "completed"
    modes = [t.decision.mode for t in result.tables if t.decision is not None]
    assert modes == ["native"] * 10 + ["direct"] * 2
    last = result.table("items11").decision
    assert last is not None and last.facts.native_blocker == (
        "the target attaches at most 10 SQLite source files"
    )
    assert [t.inserted for t in result.tables] == [5] * 12


def test_a_hook_keeps_sqlite_from_mapping_the_rows(tmp_path: Path) -> None:
    source_db(tmp_path)
    (tmp_path / "hooks.py").write_text("def fix(row):\n    return row\n", encoding="utf-8")
    found = decision(run(plan_for(tmp_path, sqlite_url(tmp_path), hook="hooks.py:fix"), True))
    assert found.mode == "direct"
    assert found.facts.native_blocker == (
        "a column is not a plain copy (a hook, a step other than text ops, a cast or JSON)"
    )


def test_a_refused_direct_load_is_staged_with_the_reason(tmp_path: Path) -> None:
    source_db(tmp_path)
    target = tmp_path / "out.db"
    db = sqlite3.connect(target)
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL CHECK (score < 10))"
    )
    db.close()
    plan = plan_for(tmp_path, sqlite_url(tmp_path))
    result = run(plan, preview=True)
    found = decision(result)
    assert found.mode == "staged"
    assert found.facts.refused is not None
    assert found.why.startswith(f"a direct load was refused ({found.facts.refused})")
    assert result.table("items").rejected == ROWS - 40  # scores 10 and up break the CHECK


def test_refusing_a_direct_decision_gives_a_staged_one_with_the_reason() -> None:
    facts = LoadFacts(key_is_primary_key=True, one_column_key=True, table_empty=True)
    first = decide("items", facts)
    assert first.mode == "direct"
    again = refused(first, "CHECK constraint failed")
    assert (again.mode, again.facts.refused) == ("staged", "CHECK constraint failed")
    assert str(again) == (
        "staged: a direct load was refused (CHECK constraint failed): staged and merged"
    )


def test_decisions_are_frozen_values() -> None:
    facts = LoadFacts(plan_mode="append", table_empty=False)
    found = decide("log", facts)
    assert found == decide("log", LoadFacts(plan_mode="append", table_empty=False))
    assert (
        found.mode == "staged" and found.why == "mode = append into a table that holds rows: staged"
    )


def test_a_column_with_a_default_is_still_mapped_by_sqlite_its_nulls_by_python(
    tmp_path: Path,
) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?)", [(1, "a"), (2, None), (3, "c")])
    db.close()
    columns = {"name": {"from": "name", "default": "none", "ops": ["upper"]}}
    plan = plan_for(tmp_path, sqlite_url(tmp_path), columns=columns)

    result = run(plan)

    assert decision(result).mode == "native"
    out = sqlite3.connect(tmp_path / "out.db")
    assert out.execute("SELECT id, name FROM items ORDER BY id").fetchall() == [
        (1, "A"),
        (2, "NONE"),
        (3, "C"),
    ]
