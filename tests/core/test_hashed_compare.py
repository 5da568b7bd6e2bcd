"""Compare-first by row hashes (ferry.load.hashload): a re-run with no kept row prints compares
each row's hash in SQLite and PostgreSQL before reading it, and gives exactly what the ordinary
compare-first gives. Real SQLite files and the real PostgreSQL server, one behaviour per test.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hashkit import counts, items_plan, on_source, run
from pgkit import pg_exec, pg_rows

from ferry.api import undo
from ferry.targets.postgres import PostgresTarget

ROWS = 300
HASHED = "rows compared by their hashes in SQL first"


def _items(url: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in pg_rows(url, "SELECT id, name, score, at FROM items ORDER BY id")]


def _versions(url: str) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in pg_rows(url, "SELECT id, xmin::text FROM items")}


def _loaded(tmp_path: Path, url: str, **table: Any) -> Any:
    """A target loaded once from ``ROWS`` source rows (no prints kept)."""
    on_source(
        tmp_path,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL, at TEXT);"
        + "".join(
            f"INSERT INTO items VALUES ({i}, 'item {i}', {i / 7!r}, "
            f"'2024-05-01T10:00:{i % 60:02d}Z');"
            for i in range(1, ROWS + 1)
        ),
    )
    pg_exec(
        url,
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, "
        "at TIMESTAMPTZ)",
    )
    plan = items_plan(tmp_path, url, **table)
    assert run(plan).tables[0].inserted == ROWS
    return plan


def test_only_changed_and_new_rows_are_written(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url)
    before = _versions(pg_url)
    on_source(
        tmp_path,
        "UPDATE items SET name = 'changed' WHERE id IN (5, 77);"
        "INSERT INTO items VALUES (1000, 'new', 0.5, '2024-06-01T00:00:00Z');",
    )

    table = run(plan).tables[0]

    assert table.decision is not None and table.decision.mode == "compare-first"
    assert HASHED in table.decision.why
    assert counts(table) == (ROWS - 2, 2, 1, 0)
    after = _versions(pg_url)
    assert {k for k, v in after.items() if before.get(k) != v} == {5, 77, 1000}


#: a time SQL leaves to Python (years 1001-9998 only: the target's side writes no hash either)
EARLY = "0999-05-01T10:00:09Z"


def test_a_row_differing_in_a_value_sql_cannot_write_is_updated(
    tmp_path: Path, pg_url: str
) -> None:
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, f"UPDATE items SET at = '{EARLY}' WHERE id = 8;")

    table = run(plan).tables[0]

    assert HASHED in table.decision.why  # type: ignore[union-attr]
    assert counts(table) == (ROWS - 1, 1, 0, 0)
    moment = dict((r[0], r[3]) for r in _items(pg_url))[8]
    assert moment.isoformat() == "0999-05-01T10:00:09+00:00"


def test_a_row_sql_cannot_write_but_equal_is_unchanged(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, f"UPDATE items SET at = '{EARLY}' WHERE id = 8;")
    run(plan)
    pg_exec(pg_url, "UPDATE items SET name = name WHERE id = 1")  # (no delta: compared again)
    on_source(tmp_path, "UPDATE items SET name = name WHERE id = 1;")
    before = _versions(pg_url)

    table = run(plan).tables[0]

    # no hash on either side: read, staged and compared by the merge, which keeps it
    assert HASHED in table.decision.why  # type: ignore[union-attr]
    assert counts(table) == (ROWS, 0, 0, 0)
    assert _versions(pg_url) == before


def test_a_deleted_source_row_is_deleted_with_delete_missing(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url, delete_missing=True)
    on_source(tmp_path, "DELETE FROM items WHERE id IN (3, 300);")

    table = run(plan).tables[0]

    assert HASHED in table.decision.why  # type: ignore[union-attr]
    assert counts(table) == (ROWS - 2, 0, 0, 2)
    assert [r[0] for r in _items(pg_url)] == [i for i in range(1, ROWS + 1) if i not in (3, 300)]


def test_a_deleted_source_row_is_kept_without_delete_missing(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, "DELETE FROM items WHERE id = 3;")

    table = run(plan).tables[0]

    assert counts(table) == (ROWS - 1, 0, 0, 0)
    assert len(_items(pg_url)) == ROWS


def test_undo_brings_back_the_rows_deleted_by_key(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url, delete_missing=True)
    before = _items(pg_url)
    on_source(
        tmp_path, "DELETE FROM items WHERE id IN (3, 300); UPDATE items SET score = 1 WHERE id = 9;"
    )
    second = run(plan)
    assert second.tables[0].deleted == 2

    done = asyncio.run(undo(plan))

    assert done.undone_run == second.run_id and done.status == "completed"
    assert _items(pg_url) == before


def test_the_next_run_is_a_delta(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, "UPDATE items SET name = 'changed' WHERE id = 5;")
    run(plan)  # compared by hashes: keeps a print per row
    kept = pg_rows(pg_url, "SELECT table_name, rows FROM ferry.row_print_tables")
    assert [tuple(r) for r in kept] == [("items", ROWS)]
    on_source(tmp_path, "UPDATE items SET name = 'again' WHERE id = 6;")

    table = run(plan).tables[0]

    assert table.decision is not None and table.decision.mode == "delta"
    assert counts(table) == (ROWS - 1, 1, 0, 0)
    assert dict((r[0], r[1]) for r in _items(pg_url))[6] == "again"


def test_differing_buckets_are_read_as_key_lookups(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned by the target for lookups (test_key_lookups.py: no JIT, no parallel scans)."""
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, "UPDATE items SET name = 'changed' WHERE id IN (5, 200);")
    entered = []
    lookups = PostgresTarget.key_lookups

    @contextlib.asynccontextmanager
    async def watched(self: PostgresTarget) -> AsyncIterator[None]:
        async with lookups(self):
            entered.append(True)
            yield

    monkeypatch.setattr(PostgresTarget, "key_lookups", watched)

    table = run(plan).tables[0]

    assert counts(table) == (ROWS - 2, 2, 0, 0)
    assert entered == [True]


def test_a_key_that_is_not_an_integer_compares_the_usual_way(tmp_path: Path, pg_url: str) -> None:
    plan = _loaded(tmp_path, pg_url)
    # a rowid table's key is an integer: a second table whose key column is untyped
    on_source(tmp_path, "UPDATE items SET name = 'changed' WHERE id = 5;")
    db = sqlite3.connect(tmp_path / "app.db")
    db.executescript(
        "CREATE TABLE copy AS SELECT * FROM items; DROP TABLE items;"
        "CREATE TABLE items (id, name TEXT, score REAL, at TEXT);"
        "INSERT INTO items SELECT * FROM copy; DROP TABLE copy;"
        "CREATE UNIQUE INDEX ix ON items (id);"
        "UPDATE items SET id = '7' WHERE id = 7;"
    )
    db.close()

    table = run(plan).tables[0]

    assert table.decision is not None and table.decision.mode == "compare-first"
    assert HASHED not in table.decision.why and "not a 64-bit integer" in table.decision.why
    assert counts(table) == (ROWS - 1, 1, 0, 0)
