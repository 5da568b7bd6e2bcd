"""The fast path's worker process (ferry.verify.fastworker.SpanWorker) hashing SQLite source
spans beside the run's thread: the same fingerprint as one statement over the whole table, a
row it hashed that differs is found, a worker gone with a span leaves the table to the general
path, and the process is always ended. Real SQLite files and real processes; the run's own
thread is slowed so the worker takes spans."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ferry.events import CancelToken
from ferry.verify import fastsource
from ferry.verify.fastsource import HashedTable, SourceSide, digest_sum
from ferry.verify.fastsql import MOD, Cell, Fingerprint, sqlite_row_sql
from ferry.verify.fastworker import SpanWorker, worker_pays

CELLS = [Cell("id", "id", "integer", True), Cell("v", "v", "text", False)]
#: rowids from both ends of the range, so the first and last spans are open-ended
IDS = [-(2**63), -5, *range(1, 3001), 2**63 - 1]


def make_db(path: Path, ids: list[int], changed: int | None = None) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        rows = [(i, "changed" if i == changed else f"row {i}") for i in ids]
        conn.executemany("INSERT INTO t (id, v) VALUES (?, ?)", rows)
        conn.commit()
    finally:
        conn.close()
    return path


def whole_table(path: Path) -> Fingerprint:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(sqlite_row_sql("t", CELLS, source=True)).fetchall()
    finally:
        conn.close()
    return Fingerprint(len(rows), (digest_sum(rows) or 0) % MOD)


@pytest.fixture
def slow_own_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's thread waits before each span it reads, so the worker takes most of them."""
    own = SourceSide._hash

    def slowed(self: SourceSide, span: Any) -> int | None:
        time.sleep(0.3)
        return own(self, span)

    monkeypatch.setattr(SourceSide, "_hash", slowed)


def run(path: Path, worker: Any) -> tuple[Fingerprint | None, SourceSide]:
    item = HashedTable("t", path, 5.0, "t", sqlite_row_sql("t", CELLS, source=True), None)
    side = SourceSide([item], CancelToken(), threading.Event(), lambda event: None, worker)
    side.run()
    return item.fingerprint, side


class Started:
    """A worker factory that keeps the workers it started."""

    def __init__(self) -> None:
        self.workers: list[SpanWorker] = []

    def __call__(self) -> SpanWorker:
        self.workers.append(SpanWorker())
        return self.workers[-1]


def test_spans_hashed_by_the_worker_give_the_whole_tables_fingerprint(
    tmp_path: Path, slow_own_thread: None
) -> None:
    path = make_db(tmp_path / "t.db", IDS)
    started = Started()
    found, side = run(path, started)
    assert side.remote_spans > 0
    assert found == whole_table(path)
    assert [w.process.exitcode for w in started.workers] == [0]


def test_a_row_the_worker_hashed_that_differs_is_found(
    tmp_path: Path, slow_own_thread: None
) -> None:
    # The last rows are in the last spans, which the worker takes (the run's thread is slow).
    original = make_db(tmp_path / "a.db", IDS)
    changed = make_db(tmp_path / "b.db", IDS, changed=2999)
    found, side = run(changed, Started())
    assert side.remote_spans > fastsource.SPANS_PER_TABLE // 2
    assert found == whole_table(changed)
    assert found != whole_table(original)


class GoneWithASpan:
    """A worker that is up, takes a span and ends without an answer (it crashed)."""

    def __init__(self) -> None:
        self.jobs = 0
        self.closed = False

    def answer(self, wait: float) -> tuple[bool, Any]:
        if self.jobs:
            raise EOFError("gone")
        return True, "ready"

    def send(self, job: Any) -> None:
        self.jobs += 1

    def close(self) -> None:
        self.closed = True


def test_a_worker_gone_with_a_span_leaves_the_table_to_the_general_path(
    tmp_path: Path, slow_own_thread: None
) -> None:
    path = make_db(tmp_path / "t.db", IDS)
    gone = GoneWithASpan()
    found, _ = run(path, lambda: gone)
    assert found is None
    assert gone.jobs == 1  # it took no span after the one it was gone with
    assert gone.closed


def test_a_halted_run_ends_its_worker(tmp_path: Path, slow_own_thread: None) -> None:
    path = make_db(tmp_path / "t.db", IDS)
    item = HashedTable("t", path, 5.0, "t", sqlite_row_sql("t", CELLS, source=True), None)
    halt = threading.Event()
    started = Started()

    def then_halt() -> SpanWorker:
        worker = started()
        halt.set()  # the run stops (cancelled, or the other side failed) once it is started
        return worker

    side = SourceSide([item], CancelToken(), halt, lambda event: None, then_halt)
    begun = time.perf_counter()
    side.run()
    assert time.perf_counter() - begun < 3.0
    assert item.fingerprint is None
    assert [w.process.is_alive() for w in started.workers] == [False]


def test_a_worker_only_for_many_rows() -> None:
    assert worker_pays(10_000_000) is True
    assert worker_pays(1_000) is False
