"""JSON → SQLite delta runs over a file laid out one record per line (ferry.load.jsonlines),
and the SQLite target's state kept by its file change counter (ferry.targets.sqliteheader):
every kind of change to the file is found, and a target written to since the last run is
never trusted.

Real JSON files and real SQLite targets; each case compares the target with the file.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from array import array
from itertools import compress, pairwise
from operator import eq
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.load import jsonlines, linescan
from ferry.load.printfile import PrintFile
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult, TableResult

COUNT = 200


def records() -> list[dict[str, Any]]:
    return [{"id": i, "name": f"r{i}", "size": i * 10} for i in range(1, COUNT + 1)]


def write(folder: Path, items: list[dict[str, Any]], newline: str = "\n") -> None:
    text = "[" + newline + ("," + newline).join(json.dumps(r) for r in items) + newline + "]"
    (folder / "rec.json").write_bytes((text + newline).encode())


def plan_of(folder: Path, **table: Any) -> Any:
    return plan_from_dict(
        {
            "name": "json-delta",
            "target": {"url": f"sqlite:///{folder / 'out.db'}"},
            "sources": [
                {"name": "rec", "kind": "json", "path": str(folder / "rec.json")},
            ],
            "tables": [{"name": "records", "source": "rec", "key": ["id"], **table}],
            "options": {"row_prints": True},
        },
        folder,
    )


def run(plan: Any) -> TableResult:
    result: RunResult = asyncio.run(migrate(plan))
    return result.tables[0]


def target_rows(folder: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(folder / "out.db")
    try:
        return db.execute("SELECT id, name, size FROM records ORDER BY id").fetchall()
    finally:
        db.close()


def rows_of(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((r["id"], r["name"], r["size"]) for r in items)


def first_run(folder: Path, newline: str = "\n", **table: Any) -> tuple[Any, list[dict]]:
    items = records()
    write(folder, items, newline)
    plan = plan_of(folder, **table)
    assert run(plan).inserted == COUNT
    return plan, items


def app_writes(folder: Path, sql: str) -> None:
    db = sqlite3.connect(folder / "out.db")
    with db:
        db.execute(sql)
    db.close()


def test_an_edit_of_the_same_length_is_found(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path)
    items[41]["size"] = 421  # 420 → 421: the line keeps its length
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.unchanged) == (1, COUNT - 1)
    assert target_rows(tmp_path) == rows_of(items)


def test_a_line_moved_elsewhere_is_unchanged(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path)
    items.insert(150, items.pop(3))
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.inserted, table.updated, table.unchanged) == (0, 0, COUNT)
    assert target_rows(tmp_path) == rows_of(items)


def test_a_record_gone_from_the_file_is_deleted_with_delete_missing(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path, delete_missing=True)
    del items[77]
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.deleted, table.unchanged) == (1, COUNT - 1)
    assert target_rows(tmp_path) == rows_of(items)


def test_an_appended_record_is_inserted(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path)
    items.append({"id": 999, "name": "new", "size": 1})  # the last line gains its comma
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert table.inserted == 1
    assert target_rows(tmp_path) == rows_of(items)


def test_an_edit_in_a_crlf_file_is_found(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path, newline="\r\n")
    items[0]["name"] = "first"
    items[-1]["name"] = "last"
    write(tmp_path, items, newline="\r\n")
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.unchanged) == (2, COUNT - 2)
    assert target_rows(tmp_path) == rows_of(items)


@pytest.mark.parametrize("at", [6, COUNT])  # next to the first copy, or far from it
def test_a_repeated_line_ends_the_delta(tmp_path: Path, at: int) -> None:
    plan, items = first_run(tmp_path)
    items.insert(at, items[5])
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert "repeat" in table.decision.why  # the full compare reports the repeated key


def test_a_line_repeated_where_the_next_block_begins_ends_the_delta(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, items = first_run(tmp_path)
    items.insert(6, items[5])
    write(tmp_path, items)
    # a block size that ends one block with the first copy and begins the next with the
    # second: the next block lines up on kept rows the last one met already
    copy = json.dumps(items[5]).encode()
    for size in range(100, 2000):
        monkeypatch.setattr(linescan, "BLOCK_BYTES", size)
        blocks = list(linescan.record_line_blocks(tmp_path / "rec.json"))
        ends = [
            (linescan.record_text(b[-1]), linescan.record_text(c[0])) for b, c in pairwise(blocks)
        ]
        if (copy, copy) in ends:
            break
    else:
        raise AssertionError("no block size puts the copies in two blocks")
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert "repeat" in table.decision.why


def test_an_app_write_to_the_table_means_no_delta(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path)
    app_writes(tmp_path, "UPDATE records SET name = 'app' WHERE id = 20")
    items[5]["name"] = "changed"
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert "written to" in (table.decision.facts.delta_blocker or "")
    assert table.updated == 2  # the app's row is put back as the file says
    assert target_rows(tmp_path) == rows_of(items)


def test_an_app_write_to_another_table_means_no_delta(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path)
    app_writes(tmp_path, "CREATE TABLE app_notes (note TEXT)")
    items[5]["name"] = "changed"
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert target_rows(tmp_path) == rows_of(items)


def test_a_delta_that_changed_nothing_keeps_the_next_one_a_delta(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path)
    assert run(plan).decision.mode == "delta"  # nothing changed: the commit moved the counter
    items[9]["name"] = "changed"
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.unchanged) == (1, COUNT - 1)


def kept_state(folder: Path) -> dict[str, Any]:
    db = sqlite3.connect(folder / "out.db")
    try:
        found = db.execute("SELECT state FROM _ferry_row_print_tables").fetchone()[0]
    finally:
        db.close()
    state: dict[str, Any] = json.loads(found)
    return state


def test_the_kept_counter_is_the_one_the_run_left_in_the_file(tmp_path: Path) -> None:
    first_run(tmp_path)
    header = (tmp_path / "out.db").read_bytes()[:100]
    assert kept_state(tmp_path) == {"rows": COUNT, "counter": int.from_bytes(header[24:28], "big")}


def wal_target(folder: Path) -> None:
    db = sqlite3.connect(folder / "out.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()


def test_a_wal_target_keeps_sums_and_its_deltas(tmp_path: Path) -> None:
    wal_target(tmp_path)
    plan, items = first_run(tmp_path)
    assert set(kept_state(tmp_path)) == {"rows", "low", "high"}
    items[30]["name"] = "changed"
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.unchanged) == (1, COUNT - 1)
    assert target_rows(tmp_path) == rows_of(items)


def test_an_app_write_to_a_wal_target_means_no_delta(tmp_path: Path) -> None:
    wal_target(tmp_path)
    plan, items = first_run(tmp_path)
    app_writes(tmp_path, "UPDATE records SET size = -1 WHERE id = 7")
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert table.updated == 1
    assert target_rows(tmp_path) == rows_of(items)


def test_a_json_file_one_record_per_line_keeps_prints_by_default(tmp_path: Path) -> None:
    items = records()
    write(tmp_path, items)
    plan = plan_from_dict(
        {
            "name": "json-default",
            "target": {"url": f"sqlite:///{tmp_path / 'out.db'}"},
            "sources": [{"name": "rec", "kind": "json", "path": str(tmp_path / "rec.json")}],
            "tables": [{"name": "records", "source": "rec", "key": ["id"]}],
        },
        tmp_path,
    )
    run(plan)
    items[3]["name"] = "changed"
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.unchanged) == (1, COUNT - 1)


def test_the_prints_a_delta_keeps_describe_the_file_exactly(tmp_path: Path) -> None:
    plan, items = first_run(tmp_path, delete_missing=True)
    for step in range(2):  # a key between kept ones, one gone, one edited, one appended
        items.insert(50, {"id": 1000 + step, "name": "middle", "size": 0})
        del items[120]
        items[10]["size"] += 1
        items.append({"id": 5000 + step, "name": "end", "size": 0})
        write(tmp_path, items)
        table = run(plan)
        assert table.decision is not None and table.decision.mode == "delta"
        assert (table.inserted, table.updated, table.deleted) == (2, 1, 1)
    table = run(plan)  # the file as the last delta left it: every line met unchanged
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.unchanged, table.inserted, table.updated) == (len(items), 0, 0)
    assert target_rows(tmp_path) == rows_of(items)


def test_an_insert_and_a_delete_near_the_top_shift_no_more_than_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linescan, "BLOCK_BYTES", 1000)  # many blocks, each realigned
    # more lines out of place than this (and than 20% of the lines) would end the delta
    monkeypatch.setattr(jsonlines, "_MAX_ODD", 60)
    plan, items = first_run(tmp_path, delete_missing=True)
    items.insert(2, {"id": 1001, "name": "new", "size": 0})
    del items[150]  # the 148 lines between are one place off
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.inserted, table.deleted, table.unchanged) == (1, 1, COUNT - 1)
    assert target_rows(tmp_path) == rows_of(items)


def test_records_far_from_the_kept_order_are_compared_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonlines, "_MAX_ODD", 10)  # (100,000 lines in a real run)
    plan, items = first_run(tmp_path)
    items.reverse()
    items[0]["name"] = "changed"
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "compare-first"
    assert "far from the order" in table.decision.why
    assert target_rows(tmp_path) == rows_of(items)


FLAGS = st.one_of(
    st.lists(st.integers(0, 1), max_size=200),  # many ones: compress
    st.lists(st.sampled_from([0] * 40 + [1]), max_size=400),  # few: one find each
).map(bytes)


@settings(max_examples=300, deadline=None)
@given(FLAGS)
def test_the_flagged_places_are_those_compress_keeps(flags: bytes) -> None:
    values = [f"v{i}" for i in range(len(flags))]
    assert jsonlines.ones(flags) == list(compress(range(len(flags)), flags))
    assert jsonlines.picked(values, bytearray(flags)) == list(compress(values, flags))


def merged_first_way(
    kept: PrintFile, gone: list[int], added: list[tuple[int, int, int]]
) -> PrintFile:
    """How the prints were merged first: a kept slice up to each change."""
    events = sorted([(at, 1, 0, 0) for at in gone] + [(at, 0, k, v) for at, k, v in added])
    mine, start = PrintFile(), 0
    for at, left_out, key, value in events:
        if at > start:
            mine.extend_from(kept, start, at)
            start = at
        if left_out:
            start = at + 1
        else:
            mine.append(key, value)
    mine.extend_from(kept, start, len(kept))
    return mine


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 30), st.integers(1, 5), st.data())
def test_the_merged_prints_are_the_kept_ones_with_the_changes(
    count: int, chunk_rows: int, data: st.DataObject
) -> None:
    kept = PrintFile(chunk_rows)
    kept.extend(array("q", range(0, 10 * count, 10)), array("q", range(count)))
    gone = sorted(data.draw(st.sets(st.integers(0, count - 1))) if count else [])
    places = st.integers(0, count)
    signed = st.integers(-(2**63), 2**63 - 1)
    added = sorted(data.draw(st.lists(st.tuples(places, signed, signed))))
    got = jsonlines.merged_prints(kept, gone, added)
    want = merged_first_way(kept, gone, added)
    assert got.span(0, len(got)) == want.span(0, len(want))


# lengths over several strides of same_flags, prints mostly equal or mostly not
LENGTHS = st.integers(0, 5 * jsonlines._STRIDE)


@settings(max_examples=300, deadline=None)
@given(LENGTHS, LENGTHS, st.data())
def test_the_prints_at_their_place_compare_as_one_by_one(
    mine_count: int, kept_count: int, data: Any
) -> None:
    values = st.lists(st.integers(0, 2), min_size=mine_count, max_size=mine_count)
    mine = array("q", data.draw(values))
    kept = array("q", data.draw(values.map(lambda v: v[:kept_count])))
    assert jsonlines.same_flags(mine, kept) == bytes(map(eq, mine, kept))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5 * jsonlines._STRIDE), st.data())
def test_prints_equal_but_a_few_compare_as_one_by_one(count: int, data: Any) -> None:
    mine = array("q", range(count))
    kept = array("q", mine)
    for at in data.draw(st.sets(st.integers(0, count - 1), max_size=3)):
        kept[at] = -1
    assert jsonlines.same_flags(mine, kept) == bytes(map(eq, mine, kept))
