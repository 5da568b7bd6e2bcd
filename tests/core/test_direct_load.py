"""Loading straight into an empty target table (the fast path of ferry.migrate).

An empty table whose primary key is the plan's key is loaded without a stage and merge; any
row the database refuses makes the run start over with that table staged, so the result is
exactly a staged load's. Real SQLite source files, real SQLite and PostgreSQL targets.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_exec, pg_rows

from ferry.errors import RejectedRowsError
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult
from ferry.targets.base import Target

ROWS = 230
BAD_ID = 117

SQLITE_TABLE = (
    "CREATE TABLE items (id INTEGER {pk}, name TEXT NOT NULL, "
    "score REAL CHECK (score >= 0), at DATETIME)"
)
PG_TABLE = (
    "CREATE TABLE items (id BIGINT {pk}, name TEXT NOT NULL, "
    "score DOUBLE PRECISION CHECK (score >= 0), at TIMESTAMPTZ)"
)


def source_db(folder: Path, bad: bool = False, bad_time: bool = False) -> Path:
    """A SQLite source with ROWS items; ``bad``: one negative score (the target's CHECK
    refuses it); ``bad_time``: one timestamp that is not a timestamp (a transform reject)."""
    path = folder / "source.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL, at DATETIME)")
    rows = []
    for i in range(1, ROWS + 1):
        score = -1.0 if bad and i == BAD_ID else i / 4
        at = f"2024-05-{i % 28 + 1:02d}T10:00:{i % 60:02d}Z"
        if bad_time and i == BAD_ID:
            at = "not a time"
        rows.append((i, f"item {i} – naïve ☃", score if i % 10 else None, at))
    with db:
        db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", rows)
    db.close()
    return path


def plan_for(folder: Path, source: Path, target_url: str, **table: Any) -> Any:
    return plan_from_dict(
        {
            "name": "direct",
            "target": {"url": target_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(source)}],
            "tables": [{"name": "items", "source": "app.items", "key": ["id"], **table}],
            # Python maps the rows here (batches of 50 are counted); test_native_load.py
            # covers SQLite mapping them itself.
            "options": {"batch_size": 50, "native": False},
        },
        folder,
    )


def _target_classes() -> list[type[Target]]:
    from ferry.targets.postgres import PostgresTarget
    from ferry.targets.sqlite import SqliteTarget

    return [SqliteTarget, PostgresTarget]


def _wrap(original: Callable[..., Any], kind: str, counted: dict[str, int]) -> Callable[..., Any]:
    async def wrapper(self: Target, *args: Any, **kwargs: Any) -> Any:
        counted[kind] += 1
        return await original(self, *args, **kwargs)

    return wrapper


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counted = {"direct": 0, "stage": 0}
    for cls in _target_classes():
        monkeypatch.setattr(cls, "load_direct", _wrap(cls.load_direct, "direct", counted))
        monkeypatch.setattr(cls, "write_stage", _wrap(cls.write_stage, "stage", counted))
    return counted


def run(plan: Any, **kwargs: Any) -> RunResult:
    return asyncio.run(migrate(plan, write_reports=False, **kwargs))


def sqlite_target(folder: Path, name: str, pk: bool) -> str:
    path = folder / name
    db = sqlite3.connect(path)
    db.execute(SQLITE_TABLE.format(pk="PRIMARY KEY" if pk else ""))
    db.close()
    return f"sqlite:///{path}"


def sqlite_items(url: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return db.execute("SELECT * FROM items ORDER BY id").fetchall()
    finally:
        db.close()


def counts(result: RunResult) -> dict[str, int]:
    return result.tables[0].counts()


# -- SQLite ----------------------------------------------------------------------------------


def test_sqlite_direct_load_matches_a_staged_load(tmp_path: Path, spied: dict[str, int]) -> None:
    source = source_db(tmp_path)
    staged_url = sqlite_target(tmp_path, "staged.db", pk=False)  # no primary key: staged
    staged = run(plan_for(tmp_path, source, staged_url))
    assert spied == {"direct": 0, "stage": 5}
    direct_url = sqlite_target(tmp_path, "direct.db", pk=True)
    direct = run(plan_for(tmp_path, source, direct_url))
    assert spied == {"direct": 5, "stage": 5}
    assert counts(direct) == counts(staged)
    assert counts(direct)["inserted"] == ROWS
    assert sqlite_items(direct_url) == sqlite_items(staged_url)


def test_sqlite_row_refused_in_a_direct_load_is_rejected_alone(
    tmp_path: Path, spied: dict[str, int]
) -> None:
    source = source_db(tmp_path, bad=True)
    url = sqlite_target(tmp_path, "direct.db", pk=True)
    result = run(plan_for(tmp_path, source, url))
    assert spied["direct"] >= 1 and spied["stage"] == 5  # tried directly, then staged
    assert counts(result)["inserted"] == ROWS - 1
    assert counts(result)["rejected"] == 1
    [reject] = result.rejects
    assert reject.kind == "constraint" and "CHECK" in reject.reason
    assert reject.key_values == {"id": BAD_ID}
    assert result.warnings == []
    assert [r[0] for r in sqlite_items(url)] == [i for i in range(1, ROWS + 1) if i != BAD_ID]


def test_sqlite_preview_of_a_direct_load_counts_exactly_and_writes_nothing(
    tmp_path: Path, spied: dict[str, int]
) -> None:
    source = source_db(tmp_path)
    url = sqlite_target(tmp_path, "direct.db", pk=True)
    before = Path(url.removeprefix("sqlite:///")).read_bytes()
    result = run(plan_for(tmp_path, source, url), preview=True)
    assert spied["direct"] == 5
    assert counts(result)["inserted"] == ROWS
    assert Path(url.removeprefix("sqlite:///")).read_bytes() == before


def test_sqlite_non_empty_table_is_staged(tmp_path: Path, spied: dict[str, int]) -> None:
    source = source_db(tmp_path)
    url = sqlite_target(tmp_path, "t.db", pk=True)
    run(plan_for(tmp_path, source, url))
    spied.update(direct=0, stage=0)
    again = run(plan_for(tmp_path, source, url))
    assert spied == {"direct": 0, "stage": 5}
    assert counts(again)["unchanged"] == ROWS


# -- PostgreSQL ------------------------------------------------------------------------------


@pytest.mark.pg
def test_pg_direct_load_matches_a_staged_load(
    tmp_path: Path, pg_url: str, spied: dict[str, int]
) -> None:
    source = source_db(tmp_path)
    pg_exec(pg_url, PG_TABLE.format(pk=""))  # no primary key: staged
    staged = run(plan_for(tmp_path, source, pg_url))
    staged_rows = pg_rows(pg_url, "SELECT * FROM items ORDER BY id")
    assert spied == {"direct": 0, "stage": 5}
    pg_exec(pg_url, "DROP TABLE items", PG_TABLE.format(pk="PRIMARY KEY"))
    direct = run(plan_for(tmp_path, source, pg_url))
    assert spied == {"direct": 5, "stage": 5}
    assert counts(direct) == counts(staged)
    assert pg_rows(pg_url, "SELECT * FROM items ORDER BY id") == staged_rows
    assert len(staged_rows) == ROWS


@pytest.mark.pg
def test_pg_row_refused_in_a_direct_load_is_rejected_alone(
    tmp_path: Path, pg_url: str, spied: dict[str, int]
) -> None:
    source = source_db(tmp_path, bad=True)
    pg_exec(pg_url, PG_TABLE.format(pk="PRIMARY KEY"))
    result = run(plan_for(tmp_path, source, pg_url))
    assert spied["direct"] >= 1 and spied["stage"] == 5
    assert counts(result)["inserted"] == ROWS - 1
    [reject] = result.rejects
    assert reject.kind == "constraint" and "check constraint" in reject.reason
    assert reject.key_values == {"id": BAD_ID}
    ids = [r[0] for r in pg_rows(pg_url, "SELECT id FROM items ORDER BY id")]
    assert ids == [i for i in range(1, ROWS + 1) if i != BAD_ID]


@pytest.mark.pg
def test_pg_run_stopped_after_direct_batches_leaves_the_table_empty(
    tmp_path: Path, pg_url: str, spied: dict[str, int]
) -> None:
    source = source_db(tmp_path, bad_time=True)
    pg_exec(pg_url, PG_TABLE.format(pk="PRIMARY KEY"))
    with pytest.raises(RejectedRowsError, match=f"row id={BAD_ID}"):
        run(plan_for(tmp_path, source, pg_url, on_reject="stop"))
    assert spied["direct"] >= 2  # batches before the bad row were in the table
    assert pg_rows(pg_url, "SELECT count(*) FROM items") == [(0,)]


# -- re-runs: unchanged rows staged as their key alone ---------------------------------------


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows of each staged batch were found unchanged before staging (a spy)."""
    seen: list[int] = []
    for cls in _target_classes():
        original = cls.encode_rows

        def encode(
            self: Any,
            stage: Any,
            rows: Any,
            direct: bool,
            same: Any = None,
            *,
            _original: Any = original,
        ) -> Any:
            if not direct:
                seen.append(sum(same) if same else 0)
            return _original(self, stage, rows, direct, same)

        monkeypatch.setattr(cls, "encode_rows", encode)
    return seen


def edit_source(source: Path) -> None:
    """One row changed, one deleted, one repeated later with other values (no primary key
    in the source, so a key may repeat)."""
    db = sqlite3.connect(source)
    with db:
        db.execute("CREATE TABLE copy AS SELECT * FROM items")
        db.execute("DROP TABLE items")
        db.execute("ALTER TABLE copy RENAME TO items")
        db.execute("UPDATE items SET score = 99 WHERE id = 3")
        db.execute("DELETE FROM items WHERE id = 4")
        db.execute("INSERT INTO items SELECT id, 'repeated', score, at FROM items WHERE id = 8")
    db.close()


def test_sqlite_rerun_on_unchanged_data_stages_only_keys(tmp_path: Path, marked: list[int]) -> None:
    source = source_db(tmp_path)
    url = sqlite_target(tmp_path, "t.db", pk=True)
    run(plan_for(tmp_path, source, url))
    before = sqlite_items(url)
    marked.clear()
    again = run(plan_for(tmp_path, source, url))
    assert sum(marked) == ROWS  # every row was found unchanged before staging
    assert counts(again)["unchanged"] == ROWS and counts(again)["updated"] == 0
    assert sqlite_items(url) == before


@pytest.mark.parametrize("target", ["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def test_rerun_with_changes_counts_what_a_staged_run_counts(
    tmp_path: Path, target: str, request: pytest.FixtureRequest, marked: list[int]
) -> None:
    source = source_db(tmp_path)
    options = {"delete_missing": True}
    if target == "pg":
        pg_url = request.getfixturevalue("pg_url")
        pg_exec(pg_url, PG_TABLE.format(pk="PRIMARY KEY"))
        urls = {"keyed": pg_url}
    else:
        urls = {"keyed": sqlite_target(tmp_path, "keyed.db", pk=True)}
    urls["staged"] = sqlite_target(tmp_path, "staged.db", pk=False)  # no key lookups there
    for url in urls.values():
        run(plan_for(tmp_path, source, url, **options))
    edit_source(source)
    results = {}
    for name, url in urls.items():
        if name == "keyed" and target == "pg":
            pg_exec(url, "UPDATE items SET name = 'edited by the app' WHERE id = 5")
        else:
            db = sqlite3.connect(url.removeprefix("sqlite:///"))
            with db:
                db.execute("UPDATE items SET name = 'edited by the app' WHERE id = 5")
            db.close()
        marked.clear()
        results[name] = run(plan_for(tmp_path, source, url, **options))
        if name == "keyed":
            assert sum(marked) == ROWS - 3  # all but rows 3, 5 and the repeat of 8
    keyed, staged = results["keyed"], results["staged"]
    assert counts(keyed) == counts(staged)
    assert counts(keyed)["updated"] == 3  # 3 and 5, and 8 (its later repeat)
    assert counts(keyed)["deleted"] == 1 and counts(keyed)["duplicates"] == 1
    assert counts(keyed)["unchanged"] == ROWS - 4
