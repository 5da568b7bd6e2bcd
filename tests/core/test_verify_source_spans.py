"""The fast path's SQLite source side read in rowid spans (ferry.verify.fastsource.SourceSide):
one worker, or two once the second is let in, give the fingerprint one statement over the
whole table gives; a table without a usable rowid is one span; a write committed while the
spans are read leaves the table to the general path. Real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.events import CancelToken
from ferry.verify import fastsource
from ferry.verify.fastsource import HashedTable, SourceSide, digest_sum
from ferry.verify.fastsql import MOD, Cell, Fingerprint, sqlite_row_sql, sqlite_row_value

CELLS = [Cell("id", "id", "integer", True), Cell("v", "v", "text", False)]


def make_db(path: Path, ids: list[int], *, ddl: str = "") -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(ddl or "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t (id, v) VALUES (?, ?)", [(i, f"row {i}") for i in ids])
        conn.commit()
    finally:
        conn.close()


def whole_table(path: Path) -> Fingerprint:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(sqlite_row_sql("t", CELLS, source=True)).fetchall()
    finally:
        conn.close()
    return Fingerprint(len(rows), (digest_sum(rows) or 0) % MOD)


def table(path: Path) -> HashedTable:
    return HashedTable("t", path, 5.0, "t", sqlite_row_value(CELLS, source=True), None)


def fingerprint(path: Path, *, second: bool) -> Fingerprint | None:
    item = table(path)
    let_in = threading.Event()
    if second:
        let_in.set()
    SourceSide([item], CancelToken(), threading.Event(), let_in, lambda event: None).run()
    return item.fingerprint


IDS = st.lists(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-50, 5000)), unique=True, max_size=60
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(IDS, st.booleans())
def test_spans_give_the_whole_tables_fingerprint(
    tmp_path: Path, ids: list[int], second: bool
) -> None:
    path = tmp_path / f"spans-{abs(hash((tuple(ids), second)))}.db"
    make_db(path, ids)
    try:
        assert fingerprint(path, second=second) == whole_table(path)
    finally:
        path.unlink()


def test_a_big_table_is_read_in_several_spans(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    make_db(path, list(range(1, 5001)))
    conn = sqlite3.connect(path)
    try:
        spans = fastsource._spans(conn, table(path))
    finally:
        conn.close()
    assert len(spans) == fastsource.SPANS_PER_TABLE
    assert fingerprint(path, second=True) == whole_table(path)


def test_a_table_without_rowid_is_one_span(tmp_path: Path) -> None:
    path = tmp_path / "norowid.db"
    make_db(path, [3, 1, 2], ddl="CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID")
    conn = sqlite3.connect(path)
    try:
        spans = fastsource._spans(conn, table(path))
        assert [(span.sql, span.params) for span in spans] == [(table(path).row_sql, ())]
    finally:
        conn.close()
    assert fingerprint(path, second=True) == whole_table(path)


def test_a_column_named_rowid_does_not_split_by_it(tmp_path: Path) -> None:
    path = tmp_path / "shadow.db"
    make_db(path, [], ddl="CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, rowid TEXT)")
    conn = sqlite3.connect(path)
    try:
        conn.executemany(
            "INSERT INTO t (id, v, rowid) VALUES (?, ?, 'x')", [(i, str(i)) for i in range(300)]
        )
        conn.commit()
        assert "_rowid_ BETWEEN" in fastsource._spans(conn, table(path))[0].sql
    finally:
        conn.close()
    assert fingerprint(path, second=True) == whole_table(path)


def test_without_the_signal_one_worker_reads_every_span(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "one.db"
    make_db(path, list(range(1, 2001)))
    readers: set[int] = set()
    hash_span = SourceSide._hash

    def recorded(self: SourceSide, span: Any) -> int | None:
        readers.add(threading.get_ident())
        return hash_span(self, span)

    monkeypatch.setattr(SourceSide, "_hash", recorded)
    assert fingerprint(path, second=False) == whole_table(path)
    assert readers == {threading.get_ident()}


def test_a_write_between_spans_leaves_the_table_to_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "written.db"
    make_db(path, list(range(1, 2001)))
    hash_span = SourceSide._hash
    spans_read: list[int | None] = []

    def then_write(self: SourceSide, span: Any) -> int | None:
        part = hash_span(self, span)
        if not spans_read:  # another connection commits after the first span
            with sqlite3.connect(path) as other:
                other.execute("UPDATE t SET v = 'changed' WHERE id = 2000")
        spans_read.append(part)
        return part

    monkeypatch.setattr(SourceSide, "_hash", then_write)
    assert fingerprint(path, second=False) is None
    assert len(spans_read) == fastsource.SPANS_PER_TABLE  # every span read, none trusted
