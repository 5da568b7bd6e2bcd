"""Compare-first by row hashes in one pass (ferry.load.hashrows): a table whose sampled buckets
mostly differ (a first sync right after a first run) has every row's hash compared once on
each side, merged by key, and gives exactly what the bucket path gives. Real SQLite files and
the real PostgreSQL server, one behaviour per test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hashkit import counts, items_plan, on_source, run
from pgkit import pg_exec, pg_rows

import ferry.load.hashload as hashload
import ferry.load.hashrows as hashrows

pytestmark = pytest.mark.pg

ROWS = 1200
#: keys 64 apart: 1200 rows span 600 buckets of 128 keys (enough to be sampled), 2 a bucket
STEP = 64
HASHED = "rows compared by their hashes in SQL first"
#: every third row: every bucket differs
EVERY_THIRD = "UPDATE items SET name = name || ' changed' WHERE (id / 64) % 3 = 0;"
CHANGED = ROWS // 3


def _versions(url: str) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in pg_rows(url, "SELECT id, xmin::text FROM items")}


def _loaded(tmp_path: Path, url: str, key: str = "id INTEGER PRIMARY KEY", **table: Any) -> Any:
    """A target loaded once from ``ROWS`` source rows (no prints kept)."""
    on_source(
        tmp_path,
        f"CREATE TABLE items ({key}, name TEXT, score REAL, at TEXT);"
        "CREATE INDEX items_id ON items (id);"
        + "".join(
            f"INSERT INTO items VALUES ({i * STEP}, 'item {i}', {i / 7!r}, "
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


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables compared in one pass (the function watched, not replaced)."""
    seen: list[str] = []
    compare = hashrows.compare_streams

    async def watched(*args: Any, **kwargs: Any) -> hashrows.HashDiff:
        seen.append(args[3])
        return await compare(*args, **kwargs)

    monkeypatch.setattr(hashload, "compare_streams", watched)
    return seen


@pytest.mark.parametrize("batch", [37, 5000], ids=["target-batches-small", "target-batches-large"])
def test_every_bucket_differing_gives_exact_counts_and_writes_only_changed_rows(
    tmp_path: Path, pg_url: str, streamed: list[str], monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """Target batches cut across the source's (1000 rows a fetch) either way."""
    plan = _loaded(tmp_path, pg_url)
    before = _versions(pg_url)
    last = (ROWS + 1) * STEP  # a new row past the target's last, one before its first
    on_source(
        tmp_path,
        EVERY_THIRD + f"INSERT INTO items VALUES (5, 'a', 0.5, NULL), ({last}, 'b', 1, NULL);",
    )
    monkeypatch.setattr(hashrows, "_TARGET_ROWS", batch)

    table = run(plan).tables[0]

    assert streamed == ["items"]
    assert table.decision is not None and HASHED in table.decision.why
    assert counts(table) == (ROWS - CHANGED, CHANGED, 2, 0)
    changed = {k for k, v in _versions(pg_url).items() if before.get(k) != v}
    assert changed == {i * STEP for i in range(1, ROWS + 1) if i % 3 == 0} | {5, last}


def test_rows_missing_from_the_source_are_deleted_with_delete_missing(
    tmp_path: Path, pg_url: str, streamed: list[str]
) -> None:
    plan = _loaded(tmp_path, pg_url, delete_missing=True)
    on_source(tmp_path, EVERY_THIRD + f"DELETE FROM items WHERE id IN ({STEP}, {ROWS * STEP});")

    table = run(plan).tables[0]

    assert streamed == ["items"]
    assert counts(table) == (ROWS - CHANGED - 1, CHANGED - 1, 0, 2)
    kept = {int(r[0]) for r in pg_rows(pg_url, "SELECT id FROM items")}
    assert kept == {i * STEP for i in range(2, ROWS)}


def test_a_row_sql_cannot_write_is_read_and_compared_by_the_merge(
    tmp_path: Path, pg_url: str, streamed: list[str]
) -> None:
    """A NULL hash on both sides proves nothing: read, staged, found unchanged by the merge."""
    plan = _loaded(tmp_path, pg_url)
    early = "0999-05-01T10:00:09Z"  # a time SQL leaves to Python on both sides
    on_source(tmp_path, f"UPDATE items SET at = '{early}' WHERE id = {7 * STEP};")
    run(plan)  # (bucket path: one bucket differs) the row's value is carried
    pg_exec(pg_url, "DELETE FROM ferry.row_print_tables")  # no delta: compared again
    on_source(tmp_path, EVERY_THIRD)
    before = _versions(pg_url)

    table = run(plan).tables[0]

    assert streamed == ["items"]
    assert counts(table) == (ROWS - CHANGED, CHANGED, 0, 0)
    assert before[7 * STEP] == _versions(pg_url)[7 * STEP]


def test_a_repeated_source_key_compares_the_usual_way(
    tmp_path: Path, pg_url: str, streamed: list[str]
) -> None:
    plan = _loaded(tmp_path, pg_url, key="id INTEGER")
    on_source(tmp_path, EVERY_THIRD + f"INSERT INTO items VALUES ({3 * STEP}, 'twin', 1, NULL);")

    table = run(plan).tables[0]

    assert streamed == ["items"]  # (the pass found the repeat, and the run started over)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert HASHED not in table.decision.why and "repeats" in table.decision.why


def test_a_few_differing_buckets_are_compared_by_bucket_sums(
    tmp_path: Path, pg_url: str, streamed: list[str]
) -> None:
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, f"UPDATE items SET name = 'changed' WHERE id = {9 * STEP};")

    table = run(plan).tables[0]

    assert streamed == []
    assert counts(table) == (ROWS - 1, 1, 0, 0)


def test_the_next_run_after_a_pass_is_a_delta(
    tmp_path: Path, pg_url: str, streamed: list[str]
) -> None:
    plan = _loaded(tmp_path, pg_url)
    on_source(tmp_path, EVERY_THIRD)
    run(plan)
    on_source(tmp_path, f"UPDATE items SET name = 'again' WHERE id = {STEP};")

    table = run(plan).tables[0]

    assert streamed == ["items"]  # the first re-run only
    assert table.decision is not None and table.decision.mode == "delta"
    assert counts(table) == (ROWS - 1, 1, 0, 0)
