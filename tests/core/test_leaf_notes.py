"""A page scan's leaves noted against the kept prints (ferry.load.printbook.PrintBook.note_leaves):
leaves whose rows lie at the kept positions that follow each other are compared together, and
the outcome is exactly that of noting them one leaf at a time. Against real SQLite files: the
leaves come from ferry.sources.sqlitepages.scan_table over a file changed since its first
scan (updates, same-size overwrites, inserts in the middle and at the end, deletes, VACUUM)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.load.printbook import PrintBook
from ferry.load.printfile import PrintFile
from ferry.sources.sqlitepages import Leaf, PageFile, PageMap, scan_table, table_root

ROWS = 3000  # about 40 leaves of 4 KiB


def source_db(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, body TEXT)")
    db.executemany(
        "INSERT INTO items VALUES (?, ?, ?)",
        [(i * 2, f"item {i}", f"body {i}" * (1 + i % 5)) for i in range(1, ROWS + 1)],
    )
    db.commit()
    db.close()


def scan(path: Path, kept: PageMap | None) -> tuple[list[Leaf], PageMap]:
    conn = sqlite3.connect(path)
    pages = PageFile(str(path))
    try:
        conn.execute("BEGIN")
        root, seed = table_root(conn, "items")
        return scan_table(pages, root, seed, kept)
    finally:
        pages.close()
        conn.close()


def first_prints(path: Path) -> tuple[PrintFile, PageMap]:
    """The prints and page map a first run keeps (its scan: one leaf holding every row)."""
    leaves, pages = scan(path, None)
    kept = PrintFile(64)  # many small chunks: spans cross them
    for leaf in leaves:
        kept.extend(leaf.keys, leaf.prints)
    return kept, pages


def one_leaf_at_a_time(book: PrintBook, leaves: list[Leaf]) -> list[int]:
    """How a scan's leaves were noted before: a call per leaf."""
    changed: list[int] = []
    for leaf in leaves:
        if leaf.kept >= 0:
            book.note_kept(leaf.start, leaf.count)
        else:
            changed += book.note_sorted(leaf.keys.tolist(), leaf.prints.tolist())
    return changed


def state(book: PrintBook) -> tuple[Any, ...]:
    mine = [(list(k), list(p)) for k, p in book.mine.chunks()]
    flat = ([k for keys, _ in mine for k in keys], [p for _, ps in mine for p in ps])
    return (book.unchanged, book.changed, bytes(book.seen), book.repeated, book.ascending,
            book.vanished(), flat)  # fmt: skip


def noted_both_ways(path: Path, kept: PrintFile, pages: PageMap) -> tuple[Any, Any]:
    leaves, _ = scan(path, pages)
    together = PrintBook("id", kept, in_sql=True, cells=True)
    apart = PrintBook("id", kept, in_sql=True, cells=True)
    return (
        (together.note_leaves(leaves), state(together)),
        (one_leaf_at_a_time(apart, leaves), state(apart)),
    )


CHANGES = st.lists(
    st.one_of(
        st.tuples(st.just("update"), st.integers(1, ROWS)),
        st.tuples(st.just("same size"), st.integers(1, ROWS)),
        st.tuples(st.just("insert"), st.integers(0, ROWS + 50)),
        st.tuples(st.just("delete"), st.integers(1, ROWS)),
    ),
    max_size=40,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=CHANGES, vacuum=st.booleans())
def test_leaves_noted_together_as_one_at_a_time(
    tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[str, int]], vacuum: bool
) -> None:
    path = tmp_path_factory.mktemp("notes") / "app.db"
    source_db(path)
    kept, pages = first_prints(path)
    db = sqlite3.connect(path)
    with db:
        for kind, i in changes:
            if kind == "update":
                db.execute("UPDATE items SET name = name || ' (edited)' WHERE id = ?", (i * 2,))
            elif kind == "same size":  # (the same bytes but one: the leaf keeps its layout)
                db.execute(
                    "UPDATE items SET name = 'ITEM' || substr(name, 5) WHERE id = ?", (i * 2,)
                )
            elif kind == "insert":
                db.execute("INSERT OR IGNORE INTO items VALUES (?, 'new', 'b')", (i * 2 + 1,))
            else:
                db.execute("DELETE FROM items WHERE id = ?", (i * 2,))
    if vacuum:
        db.execute("VACUUM")
    db.close()
    try:
        together, apart = noted_both_ways(path, kept, pages)
        assert together == apart
    finally:
        kept.close()


def test_updated_leaves_are_compared_together_not_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.db"
    source_db(path)
    kept, pages = first_prints(path)
    db = sqlite3.connect(path)
    with db:  # a row in every fifth leaf or so: many parsed leaves between leaves as kept
        db.executemany(
            "UPDATE items SET name = name || ' (edited)' WHERE id = ?",
            [(i * 2,) for i in range(1, ROWS + 1, 350)],
        )
    db.close()
    leaves, _ = scan(path, pages)
    assert sum(leaf.kept < 0 for leaf in leaves) >= 5
    calls: list[int] = []
    book = PrintBook("id", kept, in_sql=True, cells=True)
    sorted_one = book.note_sorted
    monkeypatch.setattr(
        book, "note_sorted", lambda keys, prints: calls.append(1) or sorted_one(keys, prints)
    )
    try:
        changed = book.note_leaves(leaves)
        assert changed == [i * 2 for i in range(1, ROWS + 1, 350)]
        assert calls == []
        assert book.unchanged == ROWS - len(changed)
    finally:
        kept.close()
