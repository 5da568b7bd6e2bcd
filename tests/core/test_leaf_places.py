"""A delta's page scan places this run's leaves in the kept page map without an index of every
kept leaf (:class:`ferry.sources.sqlitepages._Places`): in the kept order, then a sample of
the kept hashes, then an exact index of the few leaves neither placed. Whatever the edits,
the rows it gives (kept leaves as slices of the kept rows, changed ones parsed) and the map it
keeps must be a first scan's of the same file."""

from __future__ import annotations

import sqlite3
import tempfile
from array import array
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sqlitepages import make_db, scan

from ferry.sources.sqlitepages import _WANTED, PageMap, _Places


def one_leaf_a_row(path: Path, rows: int = 600) -> None:
    """A table whose every row fills most of a 4096-byte page (the benchmark's content),
    its keys every third integer (rows go between them)."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, body TEXT, n REAL)")
    with db:
        db.executemany(
            "INSERT INTO t VALUES (?, ?, ?, 0)",
            [(i * 3, f"row {i}", f"{i:06d}" + "b" * 2500) for i in range(1, rows + 1)],
        )
    db.close()


def rows_of(leaves: list, kept_keys: array[int], kept_prints: array[int]) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    """Every row a delta scan gives, in rowid order: kept leaves as the kept rows they stand for."""
    found: list[tuple[int, int]] = []
    for leaf in leaves:
        if leaf.kept >= 0:
            end = leaf.start + leaf.count
            found += zip(kept_keys[leaf.start : end], kept_prints[leaf.start : end], strict=True)
        else:
            found += zip(leaf.keys, leaf.prints, strict=True)
    return found


def test_leaves_past_a_deleted_stretch_are_found_as_kept(tmp_path: Path) -> None:
    # 300 leaves gone in the middle: the leaves after them sit far from where the kept order
    # expects them; only the stretch's edges may be parsed, not the leaves up to the next
    # sampled one
    path = tmp_path / "a.db"
    one_leaf_a_row(path)
    (whole,), kept = scan(path)
    db = sqlite3.connect(path)
    with db:
        db.execute("DELETE FROM t WHERE id BETWEEN 303 AND 1200")
    db.close()
    leaves, new = scan(path, kept)
    (fresh,), again = scan(path)
    parsed = [leaf for leaf in leaves if leaf.kept < 0]
    assert len(parsed) <= 4, len(parsed)
    assert rows_of(leaves, whole.keys, whole.prints) == list(
        zip(fresh.keys, fresh.prints, strict=True)
    )
    assert new == again


def test_the_unplaced_leaves_indexed_are_bounded() -> None:
    # every leaf changed (a new schema's seed): the index of leaves found neither in the
    # kept order nor in the sample holds at most _WANTED of them, not one a leaf
    kept = PageMap(array("q", range(_WANTED + 500)), array("q", [1] * (_WANTED + 500)))
    ours = array("q", range(-1, -(_WANTED + 501), -1))
    ours[7000] = 70  # one leaf as kept, far from where the kept order expects it
    places = _Places(kept, ours)
    assert len(places.wanted) == _WANTED and places.find(70, 0) == 70
    assert places.find(-(_WANTED + 400), 0) == -1


_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["update", "delete", "insert", "grow"]),
        st.integers(1, 900),
        st.integers(0, 120),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_EDITS, long_rows=st.booleans())
def test_a_delta_scan_gives_a_first_scans_rows_and_map(
    edits: list[tuple[str, int, int]], long_rows: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.db"
        if long_rows:
            one_leaf_a_row(path, rows=900)
        else:  # short rows, some overflowing
            make_db(path, rows=900)
        (whole,), kept = scan(path)
        db = sqlite3.connect(path)
        with db:
            for kind, first, span in edits:
                if kind == "update":
                    db.execute(
                        "UPDATE t SET name = name || 'u' WHERE id BETWEEN ? AND ?",
                        (first, first + span),
                    )
                elif kind == "delete":
                    db.execute("DELETE FROM t WHERE id BETWEEN ? AND ?", (first, first + span))
                elif kind == "grow":  # a longer value: cells move, overflow chains change
                    db.execute(
                        "UPDATE t SET body = body || ? WHERE id BETWEEN ? AND ?",
                        ("g" * 5000, first, first + span // 8),
                    )
                else:
                    db.executemany(
                        "INSERT OR IGNORE INTO t VALUES (?, 'new', ?, 1)",
                        [(3 * i + 1, "n" * 700) for i in range(first, first + span)],
                    )
        db.close()
        leaves, new = scan(path, kept)
        (fresh,), again = scan(path)
        assert rows_of(leaves, whole.keys, whole.prints) == list(
            zip(fresh.keys, fresh.prints, strict=True)
        )
        assert new == again
