"""A delta's leaf pages hashed from the command's start (ferry.earlypages): the run takes
each table's early process when the file is the one its hashes were read from, ends the
ones it does not take, and a write between the early hashes and the run's own read is
caught. Real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from pgkit import migrated as run
from pgkit import pg_exec, pg_rows

from ferry import earlypages
from ferry.plan import plan_from_dict

TABLES = ("parents", "items")
HASHED = "its leaf pages hashed as the command started"


def plan_data(folder: Path, url: str) -> dict[str, Any]:
    """The plan (as its TOML reads) moving both tables of ``folder/app.db`` by ``id``."""
    return {
        "name": "early",
        "target": {"url": url},
        "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
        "tables": [{"name": t, "source": f"app.{t}", "key": ["id"]} for t in TABLES],
        "options": {"row_prints": True},
    }


def first_run(folder: Path, url: str) -> dict[str, Any]:
    """Both tables loaded once, then row 1500 of each changed in the source."""
    db = sqlite3.connect(folder / "app.db")
    for table in TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany(
            f"INSERT INTO {table} VALUES (?, ?)", [(i, f"{table} {i}") for i in range(1, 3001)]
        )
    db.commit()
    for table in TABLES:
        pg_exec(url, f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT)")
    data = plan_data(folder, url)
    run(plan_from_dict(data, folder))
    with db:
        for table in TABLES:
            db.execute(f"UPDATE {table} SET name = 'changed' WHERE id = 1500")
    db.close()
    return data


def begun(data: dict[str, Any], folder: Path) -> dict[str, bool]:
    """The early processes begun for ``data``, waited for until each hashed its table:
    table -> whether it holds the hashes."""
    assert earlypages.begin_early_hashes(data, folder) == len(TABLES)
    said = {}
    for (_, table), child in earlypages._started.items():
        assert child.stdout is not None
        kind, name, ok = pickle.load(child.stdout)
        assert (kind, name) == ("hashed", table)
        said[table] = ok
    return said


def decisions(result: Any) -> dict[str, tuple[int, bool]]:
    """table -> (rows updated, whether its leaves were hashed early)."""
    return {t.name: (t.updated, HASHED in t.decision.why) for t in result.tables}


def test_a_delta_takes_the_leaves_hashed_as_the_command_started(
    tmp_path: Path, pg_url: str
) -> None:
    data = first_run(tmp_path, pg_url)
    assert begun(data, tmp_path) == {"parents": True, "items": True}
    result = run(plan_from_dict(data, tmp_path))
    assert decisions(result) == {"parents": (1, True), "items": (1, True)}
    assert [t.decision.mode for t in result.tables] == ["delta", "delta"]
    assert pg_rows(pg_url, "SELECT name FROM items WHERE id = 1500") == [("changed",)]
    assert earlypages._started == {}


def test_a_write_after_the_early_hashes_is_caught_and_the_table_scanned_again(
    tmp_path: Path, pg_url: str
) -> None:
    data = first_run(tmp_path, pg_url)
    begun(data, tmp_path)
    db = sqlite3.connect(tmp_path / "app.db")
    with db:
        db.execute("UPDATE parents SET name = 'written' WHERE id = 100")  # (another leaf)
    db.close()
    result = run(plan_from_dict(data, tmp_path))
    # (items: in the same file, written to too: its hashes are not taken either)
    assert decisions(result) == {"parents": (2, False), "items": (1, False)}
    assert pg_rows(pg_url, "SELECT name FROM parents WHERE id = 100") == [("written",)]


def test_another_file_in_the_sources_place_is_not_taken(tmp_path: Path, pg_url: str) -> None:
    data = first_run(tmp_path, pg_url)
    shutil.copy2(tmp_path / "app.db", tmp_path / "copy.db")  # the same bytes, counter, time
    begun(data, tmp_path)
    os.replace(tmp_path / "copy.db", tmp_path / "app.db")
    result = run(plan_from_dict(data, tmp_path))
    assert decisions(result) == {"parents": (1, False), "items": (1, False)}


def test_a_run_that_takes_no_early_process_ends_them_with_its_reader(
    tmp_path: Path, pg_url: str
) -> None:
    data = first_run(tmp_path, pg_url)
    pg_exec(pg_url, "DROP TABLE parents", "DROP TABLE items")  # a first run again: no delta
    begun(data, tmp_path)
    children = list(earlypages._started.values())
    result = run(plan_from_dict(data, tmp_path))
    assert [t.decision.mode for t in result.tables] != ["delta", "delta"]
    assert earlypages._started == {}
    assert [child.returncode is not None for child in children] == [True, True]


def test_an_early_process_is_begun_only_for_a_plan_migrate_or_sync_runs(tmp_path: Path) -> None:
    (tmp_path / "app.db").touch()
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        'name = "p"\n[[sources]]\nname = "app"\nkind = "sqlite"\npath = "app.db"\n'
        '[[tables]]\nname = "t"\nsource = "app.t"\nkey = ["id"]\n'
    )
    try:
        assert earlypages.begin_early_hashes_for_command(["verify", str(plan)]) == 0
        assert (
            earlypages.begin_early_hashes_for_command(
                ["--debug", "migrate", "--target", "x", str(plan)]
            )
            == 1
        )
        assert list(earlypages._started) == [(str((tmp_path / "app.db").resolve()), "t")]
    finally:
        earlypages.discard()
