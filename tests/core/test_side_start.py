"""The page scans' side processes (ferry.sources.sqlitepages: a delta's SideDelta, a first
run's side_scan) start without Python's site step: the parent hands them its whole path, and
site's work (.pth files, an editable install's import finder, sitecustomize) only slowed
every delta's start. Against real SQLite files: each process still scans its table."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from ferry.sources.sqlitepages import (
    PageFile,
    PageMap,
    SideDelta,
    scan_table,
    side_scan,
    table_root,
)


def source_db(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    db.executemany("INSERT INTO items VALUES (?, ?)", [(i, f"item {i}") for i in range(1, 2001)])
    db.commit()
    db.close()


def path_with_site_hook(tmp_path: Path) -> tuple[str, Path]:
    """The parent's path with a folder first whose sitecustomize leaves a file behind (site
    imports it at start-up)."""
    hook, marker = tmp_path / "hook", tmp_path / "site-ran"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    return os.pathsep.join([str(hook), *(p for p in sys.path if p)]), marker


def test_a_delta_s_side_process_skips_site(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    source_db(path)
    conn = sqlite3.connect(path)
    conn.execute("BEGIN")  # the caller's read lock, held while the process reads
    root, seed = table_root(conn, "items")
    pages = PageFile(str(path))
    kept = scan_table(pages, root, seed, None)[1]
    counter = pages.header().change_counter
    python_path, marker = path_with_site_hook(tmp_path)
    side = SideDelta(str(path), [("items", root, seed, kept)], counter, python_path)
    side.start()
    try:
        found = side.result("items")
    finally:
        side.close()
        pages.close()
        conn.close()
    assert not isinstance(found, str), found
    assert not marker.exists()


def test_a_first_run_s_side_scan_skips_site(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    source_db(path)
    python_path, marker = path_with_site_hook(tmp_path)
    keys: list[int] = []
    found = side_scan(
        f"file:{path}?mode=ro", ["items"], python_path, lambda table, k, p: keys.extend(k)
    )
    assert isinstance(found["items"], PageMap)
    assert keys == list(range(1, 2001))
    assert not marker.exists()
