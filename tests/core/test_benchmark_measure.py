"""The benchmark's measuring parts: the launcher's memory figure, the data's shape, and the
check that a loaded target has the source's indexes and foreign keys (fast, small inputs)."""

from __future__ import annotations

import resource
import sqlite3
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.data import (  # noqa: E402
    PG_AFTER_LOAD,
    PG_TABLES,
    SQLITE_INDEXES,
    SQLITE_TABLES,
    TABLES,
    ensure,
)
from benchmarks.launcher import run_process  # noqa: E402
from benchmarks.shape import ForeignKey, Index, compare, pg_shape, sqlite_shape  # noqa: E402


def test_peak_rss_of_a_tiny_command_is_not_the_large_parents() -> None:
    ballast = bytearray(b"x") * (300 * 2**20)  # written, so resident
    parent_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert parent_mib > 300

    done = run_process(["true"])

    assert done.code == 0
    assert 0 < done.rss_mib < 50  # a child spawned from this process would show > 300
    del ballast


def test_cpu_time_counts_the_commands_children() -> None:
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"

    done = run_process([sys.executable, "-c", child])

    assert done.code == 0
    assert done.cpu_seconds >= 0.3  # the grandchild's busy loop, waited for by the child


def test_a_command_past_its_timeout_is_killed() -> None:
    started = time.perf_counter()

    done = run_process(["sleep", "30"], timeout=0.5)

    assert done.code == -9
    assert time.perf_counter() - started < 10


def test_the_data_has_an_apps_indexes_and_foreign_key(tmp_path: Path) -> None:
    data = ensure("small", log=lambda _msg: None, root=tmp_path)

    shape = sqlite_shape(data.sqlite, TABLES)

    assert shape.indexes == {
        Index("content", True, (("source_url", False),)),
        Index("content", False, (("kind", False), ("created_at", True))),
        Index("execution_steps", False, (("content_id", False), ("step", False))),
        Index("execution_steps", False, (("started_at", True),)),
    }
    assert shape.foreign_keys == {
        ForeignKey("execution_steps", ("content_id",), "content", ("id",), "CASCADE")
    }


def _sqlite_file(path: Path, *scripts: str) -> Path:
    db = sqlite3.connect(path)
    for script in scripts:
        db.executescript(script)
    db.close()
    return path


def test_a_sqlite_target_without_the_indexes_fails_the_check(tmp_path: Path) -> None:
    source = _sqlite_file(tmp_path / "source.db", SQLITE_TABLES, SQLITE_INDEXES)
    target = _sqlite_file(tmp_path / "target.db", SQLITE_TABLES)

    ok, detail = compare(sqlite_shape(target, TABLES), sqlite_shape(source, TABLES))

    assert not ok
    assert "missing index execution_steps (started_at DESC)" in detail


def test_the_floors_postgresql_ddl_builds_the_sources_indexes_and_foreign_key(
    tmp_path: Path, pg_url: str
) -> None:
    source = _sqlite_file(tmp_path / "source.db", SQLITE_TABLES, SQLITE_INDEXES)
    with psycopg.connect(pg_url) as conn:
        conn.execute(PG_TABLES)
        conn.execute(PG_AFTER_LOAD)

    assert compare(pg_shape(pg_url, TABLES), sqlite_shape(source, TABLES)) == (True, "")


def test_a_postgresql_target_without_the_foreign_key_fails_the_check(
    tmp_path: Path, pg_url: str
) -> None:
    source = _sqlite_file(tmp_path / "source.db", SQLITE_TABLES, SQLITE_INDEXES)
    with psycopg.connect(pg_url) as conn:
        conn.execute(PG_TABLES)
        conn.execute(PG_AFTER_LOAD)
        conn.execute("ALTER TABLE execution_steps DROP CONSTRAINT execution_steps_content_id_fkey")

    ok, detail = compare(pg_shape(pg_url, TABLES), sqlite_shape(source, TABLES))

    assert not ok
    assert detail == (
        "missing foreign key execution_steps (content_id) → content (id) ON DELETE CASCADE"
    )


def test_data_in_copied_blocks_keeps_ids_keys_and_urls_unique(tmp_path: Path) -> None:
    # huge's shape (ten blocks of full) on three blocks of a few rows
    import json

    from benchmarks.data import SIZES, Size

    SIZES["three-blocks"] = Size("three-blocks", 30, 300, 30, copies=3)
    try:
        data = ensure("three-blocks", log=lambda _msg: None, root=tmp_path)
    finally:
        del SIZES["three-blocks"]

    db = sqlite3.connect(data.sqlite)
    assert db.execute("SELECT count(*), max(id) FROM content").fetchone() == (30, 30)
    assert db.execute("SELECT count(*), max(id) FROM execution_steps").fetchone() == (300, 300)
    urls = db.execute("SELECT source_url FROM content WHERE source_url IS NOT NULL").fetchall()
    assert len(urls) == len(set(urls)) > 0
    titles = db.execute("SELECT id, title FROM content").fetchall()
    assert all(title.endswith(f"#{i}") for i, title in titles)
    # every copied step points at the copied content of its own block
    assert db.execute(
        "SELECT count(*) FROM execution_steps WHERE (id - 1) / 100 != (content_id - 1) / 10"
    ).fetchone() == (0,)
    records = json.loads(data.records.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == list(range(1, 31))
    assert all(r["name"].endswith(f" {r['id']}") for r in records)
