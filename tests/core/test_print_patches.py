"""A delta run keeps a patch of the row prints it changed, not every print again
(ferry.load.printpatch): the kept prints with the patches applied are exactly the prints the
run would have written whole, and the patches are folded back into whole prints once they
are many or big.

The patch arithmetic is checked against :class:`PrintBook` itself on generated tables and
changes; the runs against real SQLite files and the real PostgreSQL server.
"""

from __future__ import annotations

import sqlite3
from array import array
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pgkit import pg_rows
from test_delta_sync import ROWS, change_source, pg_items, pg_prepared, run, source_rows

from ferry.load.printbook import PrintBook
from ferry.load.printfile import PrintFile
from ferry.load.printpatch import MAX_PATCHES, PATCH_BASE, apply_patches, patch_of


def _file(pairs: dict[int, int], chunk_rows: int = 3) -> PrintFile:
    found = PrintFile(chunk_rows)
    keys = sorted(pairs)
    found.extend(array("q", keys), array("q", map(pairs.__getitem__, keys)))
    return found


def _pairs(prints: PrintFile) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for keys, values in prints.chunks():
        found += zip(keys, values, strict=True)
    return found


def _delta(kept: dict[int, int], source: dict[int, int]) -> tuple[PrintBook, PrintFile]:
    """What a delta run's book makes of ``source`` against ``kept`` (rows in key order)."""
    book = PrintBook("id", kept=_file(kept))
    for key in sorted(source):
        book.note(key, source[key])
    result = book.result()
    assert result is not None
    return book, result


_tables = st.dictionaries(st.integers(-50, 200), st.integers(-(2**63), 2**63 - 1), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.lists(_tables, min_size=2, max_size=5))
def test_the_kept_prints_patched_are_the_prints_a_run_writes_whole(
    states: list[dict[int, int]],
) -> None:
    """Each state is the source at one run: the first run's prints, then patches of the
    deltas, applied to the first run's, equal the last run's prints."""
    base = _file(states[0])
    kept, patches = dict(states[0]), []
    for source in states[1:]:
        book, result = _delta(kept, source)
        patch = patch_of(book, result)
        assert patch is not None
        patches.append(patch)
        kept = dict(_pairs(result))
    assert _pairs(apply_patches(base, patches)) == sorted(kept.items())


def test_a_patch_holds_only_the_changed_new_and_gone_keys() -> None:
    kept = {k: k * 10 for k in range(1, 11)}
    source = {**kept, 3: 0, 11: 110}
    del source[7]
    book, result = _delta(kept, source)

    patch = patch_of(book, result)

    assert patch is not None
    assert (list(patch.keys), list(patch.prints), list(patch.gone)) == ([3, 11], [0, 110], [7])


def _patch_chunks(url: str) -> list[int]:
    rows = pg_rows(
        url, f"SELECT chunk FROM ferry.row_prints WHERE chunk >= {PATCH_BASE} ORDER BY chunk"
    )
    return [int(r[0]) - PATCH_BASE for r in rows]


def test_a_delta_keeps_a_patch_the_next_run_reads_its_prints_through(
    tmp_path: Path, pg_url: str
) -> None:
    plan, path = pg_prepared(tmp_path, pg_url, delete_missing=True)
    change_source(path, updated=[3, 150], inserted=[401], deleted=(9,))
    run(plan)
    whole = pg_rows(
        pg_url, "SELECT chunk, keys FROM ferry.row_prints WHERE chunk >= 0 AND chunk < 100"
    )

    assert _patch_chunks(pg_url) == [0, 1]  # changed and new keys; gone keys
    change_source(path, updated=[4], inserted=[])
    second = run(plan).tables[0]
    again = run(plan).tables[0]

    assert (second.updated, second.unchanged) == (1, ROWS - 1)
    assert again.counts()["unchanged"] == ROWS  # every print as the source's
    assert pg_items(pg_url) == source_rows(path)
    assert (
        pg_rows(pg_url, "SELECT chunk, keys FROM ferry.row_prints WHERE chunk >= 0 AND chunk < 100")
        == whole
    )


def test_a_delta_changing_an_eighth_of_the_rows_writes_the_prints_whole(
    tmp_path: Path, pg_url: str
) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    change_source(path, updated=list(range(1, ROWS // 8 + 2)), inserted=[])

    run(plan)

    assert _patch_chunks(pg_url) == []
    assert run(plan).tables[0].counts()["unchanged"] == ROWS


def test_the_patches_are_folded_into_whole_prints_after_the_last_one_allowed(
    tmp_path: Path, pg_url: str
) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    for n in range(MAX_PATCHES):
        change_source(path, updated=[n + 1], inserted=[])
        decision = run(plan).tables[0].decision
        assert decision is not None and decision.mode == "delta", (n, decision)
    assert len(_patch_chunks(pg_url)) == MAX_PATCHES

    change_source(path, updated=[ROWS], inserted=[])
    run(plan)

    assert _patch_chunks(pg_url) == []
    assert run(plan).tables[0].counts()["unchanged"] == ROWS


def test_a_sqlite_target_keeps_patches_too(tmp_path: Path) -> None:
    from test_delta_sync import plan_for, source_db

    path = source_db(tmp_path)
    plan = plan_for(tmp_path, f"sqlite:///{tmp_path / 'target.db'}")
    run(plan)
    change_source(path, updated=[5], inserted=[401])

    run(plan)

    db = sqlite3.connect(tmp_path / "target.db")
    try:
        chunks = db.execute(
            f"SELECT chunk FROM _ferry_row_prints WHERE chunk >= {PATCH_BASE}"
        ).fetchall()
    finally:
        db.close()
    assert chunks == [(PATCH_BASE,)]
    assert run(plan).tables[0].counts()["unchanged"] == ROWS + 1


@settings(max_examples=300, deadline=None)
@given(_tables, st.sets(st.integers(-60, 210)), st.integers(1, 5))
def test_the_prints_of_keys_are_those_a_lookup_finds(
    pairs: dict[int, int], keys: set[int], chunk_rows: int
) -> None:
    asked = sorted(keys)
    assert _file(pairs, chunk_rows).prints_of(asked) == [pairs.get(k) for k in asked]


@settings(max_examples=300, deadline=None)
@given(_tables, st.data(), st.integers(1, 5))
def test_the_vanished_keys_are_the_kept_ones_no_row_met(
    pairs: dict[int, int], data: st.DataObject, chunk_rows: int
) -> None:
    book = PrintBook("id", kept=_file(pairs, chunk_rows))
    met = data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    book.seen = bytearray(met)
    assert book.vanished() == [k for k, m in zip(sorted(pairs), met, strict=True) if not m]


@settings(max_examples=300, deadline=None)
@given(_tables, st.sets(st.integers(-60, 210)), st.integers(1, 5))
def test_the_places_of_keys_are_those_position_gives(
    pairs: dict[int, int], keys: set[int], chunk_rows: int
) -> None:
    prints, asked = _file(pairs, chunk_rows), sorted(keys)
    assert prints.places(asked) == [(prints.position(k), k in pairs) for k in asked]
