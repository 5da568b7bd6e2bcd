"""The fast path's SQLite source spans read a chunk of rows at a time
(ferry.verify.fastchunks), as the source side reads them once the target's side is done: the
same fingerprint as a row at a time, rows holding a NUL or rows SQL cannot write included;
and, through a whole verification with both source workers reading chunks from the start, an
equal table proven and a row changed in the last span found and named by its key. Real SQLite
files and the real PostgreSQL server."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from test_verify_fast import LARGE_ROWS, both_ways, large_rows, legacy_plan, migrated, write_source
from test_verify_source_spans import fingerprint, whole_table

from ferry.verify import fastchunks, fastsource
from ferry.verify.fast import FastPath
from ferry.verify.fastchunks import CHUNK_ROWS


def make_db(path: Path, values: list[Any], key: str = "INTEGER") -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"CREATE TABLE t (id {key} PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t (id, v) VALUES (?, ?)", enumerate(values, start=1))
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize("chunk_rows", [1, 7, CHUNK_ROWS])
def test_chunks_give_the_fingerprint_of_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    monkeypatch.setattr(fastchunks, "CHUNK_ROWS", chunk_rows)  # several chunks a span
    path = tmp_path / "chunks.db"
    make_db(path, [f"row {i}" for i in range(3 * CHUNK_ROWS + 7)])
    assert fingerprint(path, second=True) == whole_table(path)


def test_a_nul_inside_a_row_is_hashed_as_a_row_at_a_time_would(tmp_path: Path) -> None:
    path = tmp_path / "nul.db"
    make_db(path, ["a", "b\x00c", "\x00", "d"] * 5)
    assert fingerprint(path, second=True) == whole_table(path)


def test_a_row_sql_cannot_write_leaves_the_table_to_the_general_path(tmp_path: Path) -> None:
    path = tmp_path / "unwritable.db"
    make_db(path, ["a", "b"] * CHUNK_ROWS, key="INT")  # (the rowid is not the key)
    conn = sqlite3.connect(path)
    try:
        conn.execute("INSERT INTO t (id, v) VALUES ('not a key', 'c')")  # the row SQL's NULL
        conn.commit()
    finally:
        conn.close()
    assert fingerprint(path, second=True) is None


@pytest.fixture
def chunked_spans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Both source workers read chunks from the start; the spans read so are listed."""
    init, read_chunks = FastPath.__init__, fastsource.read_chunks
    spans: list[tuple[int, int]] = []
    lock = threading.Lock()

    def let_in(self: FastPath, *args: Any) -> None:
        init(self, *args)
        self.second.set()

    def recorded(*args: Any) -> int | None:
        with lock:
            spans.append(args[3])
        return read_chunks(*args)

    monkeypatch.setattr(FastPath, "__init__", let_in)
    monkeypatch.setattr(fastsource, "read_chunks", recorded)
    return spans


@pytest.mark.pg
@pytest.mark.parametrize("changed", [False, True])
async def test_a_row_changed_in_the_last_span_is_found_with_its_key(
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    chunked_spans: list[tuple[int, int]],
    changed: bool,
) -> None:
    tmp_path.mkdir(exist_ok=True)
    write_source(tmp_path, large_rows())
    plan = await migrated(legacy_plan(tmp_path, pg_url))
    key = LARGE_ROWS - 5
    if changed:
        conn = sqlite3.connect(tmp_path / "legacy.db")
        try:
            conn.execute("UPDATE items SET name = 'changed' WHERE id = ?", (key,))
            conn.commit()
        finally:
            conn.close()
    result, detail = await both_ways(plan, monkeypatch)
    assert any(low <= key <= high for low, high in chunked_spans)  # read a chunk at a time
    assert len(chunked_spans) == fastsource.SPANS_PER_TABLE
    table = result.tables[0]
    if not changed:
        assert (detail, result.verdict) == ("items: equal", "PASS")
        return
    assert (detail, result.verdict) == ("items: to compare", "FAIL")
    assert [m["key"] for m in table.mismatches] == [f"id={key}"]
    assert table.mismatches[0]["problem"].startswith("differs: name"), table.mismatches
