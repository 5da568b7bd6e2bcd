"""The SQLite page reader (ferry.sources.sqlitepages) against real files: its leaves, cells and
overflow pages must be SQLite's own (the ``dbstat`` virtual table), whatever the page size,
overflow, freelist or auto_vacuum; and a scan against its own map finds every leaf as kept."""

from __future__ import annotations

import sqlite3
from array import array
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.sources.sqlitepages import (
    PageFile,
    PageMap,
    PagesUnreadable,
    _leaves,
    rowid_blocker,
    scan_table,
    table_root,
)


def make_db(path: Path, page_size: int = 4096, auto_vacuum: str = "NONE", rows: int = 600) -> None:
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA page_size = {page_size}")
    db.execute(f"PRAGMA auto_vacuum = {auto_vacuum}")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, body TEXT, n REAL)")
    with db:
        db.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [
                # every 7th row far longer than a page: its payload overflows
                (i * 3, f"row {i}", ("x" * 9000 + str(i)) if i % 7 == 0 else "short", i / 3)
                for i in range(1, rows + 1)
            ],
        )
    db.close()


def scan(path: Path, kept: PageMap | None = None, parts: Any = None) -> tuple[list, PageMap]:  # type: ignore[type-arg]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    db.execute("BEGIN")
    root, seed = table_root(db, "t")
    pages = PageFile(path)
    try:
        return scan_table(pages, root, seed, kept, parts)
    finally:
        db.close()
        pages.close()


def dbstat(path: Path) -> tuple[list[int], set[int]]:
    """SQLite's own view: the leaves' cell counts in b-tree order, the overflow pages."""
    db = sqlite3.connect(path)
    try:
        found = db.execute(
            "SELECT pagetype, ncell, pageno FROM dbstat WHERE name = 't' ORDER BY path"
        ).fetchall()
    finally:
        db.close()
    return [n for kind, n, _ in found if kind == "leaf"], {
        p for kind, _, p in found if kind == "overflow"
    }


def rowids(path: Path) -> list[int]:
    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT rowid FROM t ORDER BY rowid")]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("page_size", "auto_vacuum"), [(1024, "NONE"), (4096, "FULL"), (65536, "NONE")]
)
def test_leaves_cells_and_overflow_are_sqlites(
    tmp_path: Path, page_size: int, auto_vacuum: str
) -> None:
    path = tmp_path / "a.db"
    make_db(path, page_size, auto_vacuum)
    db = sqlite3.connect(path)
    with db:  # a freelist (or, with auto_vacuum, moved pages)
        db.execute("DELETE FROM t WHERE id % 5 = 0")
    db.close()
    leaves, pages = scan(path)
    counts, overflow = dbstat(path)
    assert list(pages.counts) == counts
    assert set(pages.overflow) == overflow
    assert [k for leaf in leaves for k in leaf.keys] == rowids(path)


def test_a_scan_against_its_own_map_keeps_every_leaf(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path)
    _, pages = scan(path)
    again, same = scan(path, pages)
    assert all(leaf.kept >= 0 for leaf in again) and same == pages
    starts = [leaf.start for leaf in again]
    assert starts == [sum(leaf.count for leaf in again[:i]) for i in range(len(again))]
    assert sum(leaf.count for leaf in again) == sum(pages.counts)
    assert not any(leaf.keys for leaf in again)  # nothing parsed


def test_cell_prints_follow_the_values_not_the_pages(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path)
    before, _ = scan(path)
    db = sqlite3.connect(path)
    db.execute("VACUUM")  # other pages, same rows
    db.close()
    after, _ = scan(path)

    def prints(leaves: list) -> dict[int, int]:  # type: ignore[type-arg]
        return {k: p for leaf in leaves for k, p in zip(leaf.keys, leaf.prints, strict=True)}

    assert prints(before) == prints(after)


def test_same_size_overwrite_of_an_overflowing_value_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path)
    _, pages = scan(path)
    leaf_bytes_before = _leaf_pages(path)
    db = sqlite3.connect(path)
    with db:  # same length, changed past the page: SQLite overwrites overflow pages in place
        db.execute(
            "UPDATE t SET body = substr(body, 1, 6000) || 'y' || substr(body, 6002) WHERE id = 21"
        )
    db.close()
    # the scenario: every leaf page is byte for byte as it was, only overflow pages changed
    assert _leaf_pages(path) == leaf_bytes_before
    leaves, _ = scan(path, pages)
    parsed = [k for leaf in leaves for k in leaf.keys]
    assert 21 in parsed and all(leaf.kept >= 0 for leaf in leaves if 21 not in leaf.keys)


def _leaf_pages(path: Path) -> list[bytes]:
    db = sqlite3.connect(path)
    try:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        numbers = [
            r[0]
            for r in db.execute(
                "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' ORDER BY path"
            )
        ]
    finally:
        db.close()
    data = path.read_bytes()
    return [data[(n - 1) * size : n * size] for n in numbers]


def test_a_wal_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    with pytest.raises(PagesUnreadable, match="WAL"):
        scan(path)


def test_only_the_rowid_alias_is_a_page_key(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "b.db")
    db.execute("CREATE TABLE alias (id INTEGER PRIMARY KEY, v TEXT)")
    db.execute("CREATE TABLE other (id INT PRIMARY KEY, v TEXT)")
    db.execute("CREATE TABLE narrow (id INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID")
    db.execute("CREATE INDEX alias_v ON alias (v, id)")  # a covering index must not mislead
    assert rowid_blocker(db, "alias", "id") == ""
    assert "not the table's INTEGER PRIMARY KEY" in rowid_blocker(db, "other", "id")
    assert "not the table's INTEGER PRIMARY KEY" in rowid_blocker(db, "alias", "v")
    assert rowid_blocker(db, "narrow", "id") == "a WITHOUT ROWID table"
    db.execute("CREATE VIEW seen AS SELECT * FROM alias")
    assert "a view" in rowid_blocker(db, "seen", "id")
    db.close()


def test_an_empty_table_and_a_one_page_table(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path, rows=0)
    leaves, pages = scan(path)
    assert [k for leaf in leaves for k in leaf.keys] == [] and list(pages.counts) == [0]
    again, _ = scan(path, pages)
    assert [leaf.kept for leaf in again] == [0]
    write = sqlite3.connect(path)
    with write:
        write.execute("INSERT INTO t VALUES (5, 'one', 'short', 1)")
    write.close()
    leaves, _ = scan(path, pages)  # the root leaf changed: parsed
    assert [list(leaf.keys) for leaf in leaves] == [[5]]


def test_leaves_out_of_file_order_come_in_rowid_order(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path)
    db = sqlite3.connect(path)
    with db:  # rows between the others split leaves: the new ones go at the file's end
        db.executemany(
            "INSERT INTO t VALUES (?, 'mid', ?, 0)", [(i, "m" * 300) for i in range(31, 900, 3)]
        )
    found = [
        r[0]
        for r in db.execute(
            "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' ORDER BY path"
        )
    ]
    db.close()
    assert found != sorted(found)  # the case this test is about
    leaves, pages = scan(path)
    assert [k for leaf in leaves for k in leaf.keys] == rowids(path)
    assert list(pages.counts) == dbstat(path)[0]


def test_a_first_scan_gives_its_rows_a_window_at_a_time(tmp_path: Path) -> None:
    # a first run's page prints go to a file as parsed: no part holds more than a window
    # of leaves' rows (one leaf of every row held 16 bytes a row), and together they are
    # the rows and map of the one-leaf scan
    path = tmp_path / "t.db"
    make_db(path, page_size=512, rows=4000)
    parts: list[tuple[array[int], array[int]]] = []
    leaves, found = scan(path, parts=lambda keys, prints: parts.append((keys, prints)))
    (whole,), kept = scan(path)
    assert leaves == [] and found == kept
    assert len(parts) > 2 and max(len(k) for k, _ in parts) < len(whole.keys) / 2
    assert [k for part, _ in parts for k in part] == list(whole.keys)
    assert [p for _, part in parts for p in part] == list(whole.prints)


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(st.booleans(), min_size=1, max_size=400), page_size=st.sampled_from([512, 4096])
)
def test_leaves_in_file_order_hash_as_one_by_one(picks: list[bool], page_size: int) -> None:
    # leaves read with the pages between them (ascending_hashes) give what reading each
    # leaf by itself gives (leaf_hashes): any subset of a file's leaves, gaps of any width
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.db"
        make_db(path, page_size, rows=300)
        db = sqlite3.connect(path)
        root, seed = table_root(db, "t")
        db.close()
        pages = PageFile(path)
        try:
            pages.header()
            leaves = sorted(_leaves(pages, root).tolist())
            chosen = [n for n, keep in zip(leaves, picks * len(leaves), strict=False) if keep]
            hashes, counts = array("q"), array("H")
            pages.ascending_hashes(chosen, seed, hashes, counts)
            one_by_one = pages.leaf_hashes(chosen, seed)
        finally:
            pages.close()
    assert list(zip(hashes, counts, strict=True)) == [one_by_one[n] for n in chosen]


def test_interior_pages_give_sqlites_children(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    make_db(path, 512, rows=3000)  # three levels of interior pages
    db = sqlite3.connect(path)
    root, _ = table_root(db, "t")
    found = db.execute(
        "SELECT pageno FROM dbstat WHERE name = 't' AND pagetype = 'leaf' ORDER BY path"
    ).fetchall()
    db.close()
    pages = PageFile(path)
    try:
        pages.header()
        assert _leaves(pages, root).tolist() == [r[0] for r in found]
    finally:
        pages.close()
