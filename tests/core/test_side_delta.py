"""A delta run's page scans in a side process (ferry.sources.sqlitepages.SideDelta): each table
is compared with its kept page map by a process of its own, begun while the run is planned
(ferry.load.earlyscan). Against real SQLite files and the real PostgreSQL server: the run writes,
counts and keeps exactly what it does with every table scanned in the run's own process; the
side process reads only while the run's reader holds its read lock, and pages of another
snapshot are never taken."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgkit import migrated as run
from pgkit import pg_exec, pg_rows

from ferry.plan import plan_from_dict
from ferry.sources.sqlite import SqliteSource
from ferry.sources.sqlitepages import PageFile, SideDelta, scan_table, table_root

ROWS = 2000
LONG = 9000  # overflows a 4 KiB page
TABLES = ("parents", "items")


def source_db(path: Path) -> None:
    db = sqlite3.connect(path)
    for table in TABLES:  # every 500th body overflows; even ids leave room for inserts
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, body TEXT)")
        db.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?)",
            [
                (i * 2, f"{table} {i}", ("b" * LONG + str(i)) if i % 500 == 0 else f"body {i}")
                for i in range(1, ROWS + 1)
            ],
        )
    db.commit()
    db.close()
    old = time.time() - 60  # past the racy window: an untouched file may skip the table
    os.utime(path, (old, old))


def write(path: Path, statements: list[str]) -> None:
    db = sqlite3.connect(path)
    with db:
        for statement in statements:
            db.execute(statement)
    db.close()


def plan_for(folder: Path, url: str) -> Any:
    for table in TABLES:
        pg_exec(url, f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT, body TEXT)")
    return plan_from_dict(
        {
            "name": "side",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": t, "source": f"app.{t}", "key": ["id"], "delete_missing": True}
                for t in TABLES
            ],
            "options": {"row_prints": True},
        },
        folder,
    )


def kept(url: str) -> list[tuple[Any, ...]]:
    """Everything the run kept of the tables: rows, prints, page maps (bytes compared)."""
    found = []
    for table in TABLES:
        found += pg_rows(url, f"SELECT '{table}', id, name, body FROM {table} ORDER BY id")
    return found + [
        (r[0], r[1], bytes(r[2]), bytes(r[3]))
        for r in pg_rows(
            url, "SELECT table_name, chunk, keys, prints FROM ferry.row_prints ORDER BY 1, 2"
        )
    ]


def _no_side(self: SqliteSource, kept: Any) -> None:
    return None


_ids = st.integers(1, ROWS * 2 + 60)
_changes = st.lists(
    st.one_of(
        st.tuples(st.just("UPDATE {t} SET name = 'x' || name WHERE id = {i}"), _ids),
        st.tuples(st.just("DELETE FROM {t} WHERE id = {i}"), _ids),
        st.tuples(st.just("INSERT OR REPLACE INTO {t} VALUES ({i}, 'new', 'n')"), _ids),
        st.tuples(
            st.just(f"INSERT OR REPLACE INTO {{t}} VALUES ({{i}}, 'long', '{'L' * LONG}')"), _ids
        ),
        st.tuples(  # a same-size overwrite deep in an overflowing value (overflow page only)
            st.just(
                "UPDATE {t} SET body = substr(body, 1, 7000) || 'Z' || substr(body, 7002) "
                "WHERE id = {i} AND length(body) > 7002"
            ),
            st.sampled_from([1000, 2000, 3000, 4000]),  # (the long values' ids)
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.lists(st.tuples(st.sampled_from(TABLES), _changes), min_size=1, max_size=2))
def test_a_side_scan_gives_what_a_scan_in_the_run_gives(
    tmp_path_factory: pytest.TempPathFactory,
    two_urls: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    changes: list[tuple[str, list[tuple[str, int]]]],
) -> None:
    statements = [sql.format(t=t, i=i) for t, part in changes for sql, i in part]
    results = []
    for url, side in zip(two_urls, (True, False), strict=True):
        folder = tmp_path_factory.mktemp("side" if side else "here")
        source_db(folder / "app.db")
        for table in TABLES:
            pg_exec(url, f"DROP TABLE IF EXISTS {table}", "DROP SCHEMA IF EXISTS ferry CASCADE")
        plan = plan_for(folder, url)
        run(plan)
        write(folder / "app.db", statements)
        with monkeypatch.context() as patch:
            if not side:
                patch.setattr(SqliteSource, "side_delta", _no_side)
            result = run(plan)
        # (a table the change left as it was may be skipped unread: "unchanged")
        modes = {t.name: t.decision.mode for t in result.tables if t.decision}
        assert set(modes.values()) <= {"delta", "unchanged"}
        counts = [t.counts() for t in result.tables]
        results.append((modes, counts, result.warnings, kept(url)))
    assert results[0] == results[1]


def test_every_table_is_scanned_by_a_side_process(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_db(tmp_path / "app.db")
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    write(tmp_path / "app.db", ["UPDATE items SET name = 'x' WHERE id IN (4, 600)"])
    given_out: list[str] = []
    real = SideDelta.result

    def result(self: SideDelta, table: str) -> Any:
        found = real(self, table)
        given_out.append(table if not isinstance(found, str) else found)
        return found

    monkeypatch.setattr(SideDelta, "result", result)
    table = run(plan).tables[1]
    # the first one's too, begun while the run was planned (ferry.load.earlyscan); taken in
    # the order their comparisons end (ferry.load.earlyscan.first_compared)
    assert sorted(given_out) == ["items", "parents"]
    assert (table.name, table.updated) == ("items", 2)


def test_no_writer_commits_while_the_side_process_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.db"
    source_db(path)
    reader = SqliteSource(_spec(path), tmp_path)
    pages = PageFile(path)
    conn = sqlite3.connect(path)
    maps = {t: scan_table(pages, *table_root(conn, t), None)[1] for t in TABLES}
    conn.close()
    pages.close()
    tried: list[str] = []
    real = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> Any:
        if "--delta" in args[0]:  # the side process starts: a writer must not get in
            writer = sqlite3.connect(path, timeout=0)
            try:
                writer.execute("UPDATE items SET name = 'late' WHERE id = 2")
                writer.commit()
                tried.append("committed")
            except sqlite3.OperationalError as exc:
                tried.append(str(exc))
            finally:
                writer.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    try:
        side = reader.side_delta(maps)
        assert side is not None
        found = side.result("items")
        side.close()
    finally:
        reader.close()
    assert tried == ["database is locked"]
    assert not isinstance(found, str) and all(leaf.kept >= 0 for leaf in found[0])


def test_pages_of_another_snapshot_are_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    source_db(path)
    pages = PageFile(path)
    conn = sqlite3.connect(path)
    root, seed = table_root(conn, "items")
    counter = pages.header().change_counter
    kept = scan_table(pages, root, seed, None)[1]
    conn.close()
    # a commit after the caller's snapshot (as if its lock had not been held): the side
    # process must see the file is not that snapshot and give no leaves
    write(path, ["UPDATE items SET name = 'x' WHERE id = 4"])
    side = SideDelta(str(path), [("items", root, seed, kept)], counter, _path())
    side.start()
    found = side.result("items")
    side.close()
    pages.close()
    assert found == "the file changed since the run's read began"


def test_a_side_process_that_fails_leaves_the_scan_to_the_run(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_db(tmp_path / "app.db")
    plan = plan_for(tmp_path, pg_url)
    run(plan)
    write(tmp_path / "app.db", ["UPDATE items SET name = 'x' WHERE id IN (4, 600)"])
    monkeypatch.setattr(SideDelta, "_run", _broken)
    table = run(plan).tables[1]
    assert (table.name, table.updated, table.decision and table.decision.mode) == (
        "items",
        2,
        "delta",
    )


def _broken(self: SideDelta) -> None:
    for table in self.tables:
        self._found[table] = "the process reading the pages failed: broken"
        self._ready[table].set()


def _spec(path: Path) -> Any:
    from ferry.plan import SourceSpec

    return SourceSpec.model_validate({"name": "app", "kind": "sqlite", "path": str(path)})


def _path() -> str:
    import sys

    return os.pathsep.join(p for p in sys.path if p)
