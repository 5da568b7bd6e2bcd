"""A SQLite source's snapshot holds while Ferry asks about its file: reading its header (is it
in WAL mode?) or its locks (is a writer there?) never closes a descriptor of it, which would drop
the locks of this process's readers. Found moving a live Buildbot master: the app's connection
closing checkpointed and deleted the -wal under Ferry's read, which then read later rows or a
"malformed" image. A real SQLite file and a real writer process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ferry.safety.sqlitelocks import probe
from ferry.sources import heldfiles
from ferry.sources.journalmode import in_wal_mode

WRITER = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("UPDATE t SET v = 'b' || substr(v, 2)")
print("ready", flush=True)
sys.stdin.readline()
c.execute("UPDATE t SET v = 'c' || substr(v, 2)")
c.execute("DELETE FROM t WHERE id % 3 = 0")
c.close()  # the last connection: a checkpoint, and the -wal deleted if nobody reads
print("closed", flush=True)
"""


def snapshot_after(path: Path, ask: Callable[[Path], object]) -> tuple[int, int]:
    """A reader's rows (count, rows as of its snapshot) after ``ask`` and the app's last
    connection closing while the reader's transaction is open."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(i, "a" * 200) for i in range(20000)])
    db.commit()
    db.close()
    app = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert app.stdin is not None and app.stdout is not None
    assert app.stdout.readline().strip() == "ready"
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    reader.execute(
        "PRAGMA cache_size = 1"
    )  # (its pages read again from the files, as a big read's)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM t WHERE v LIKE 'b%'").fetchone() == (20000,)
    ask(path)
    app.stdin.write("go\n")
    app.stdin.flush()
    assert app.stdout.readline().strip() == "closed"
    app.wait(timeout=30)
    found = reader.execute("SELECT count(*), sum(v LIKE 'b%') FROM t").fetchone()
    reader.close()
    return found


@pytest.mark.parametrize("ask", [in_wal_mode, probe], ids=["journal mode", "locks"])
def test_a_readers_snapshot_holds_while_ferry_asks_about_its_file(
    tmp_path: Path, ask: Callable[[Path], object]
) -> None:
    assert snapshot_after(tmp_path / "app.db", ask) == (20000, 20000)


def test_a_deleted_files_descriptor_is_let_go(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    for path in (first, second):
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    heldfiles.held_descriptor(first)
    gone = os.stat(first)
    first.unlink()
    heldfiles.held_descriptor(second)
    assert (gone.st_dev, gone.st_ino) not in heldfiles._HELD


def test_the_last_reader_closing_lets_go_of_the_kept_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    first, second = heldfiles.hold(path), heldfiles.hold(path)
    heldfiles.read_head(path, 20)
    heldfiles.let_go(first)
    assert first in heldfiles._HELD  # the other reader's connection still needs its locks
    heldfiles.let_go(second)
    assert first not in heldfiles._HELD
