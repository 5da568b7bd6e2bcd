"""Row prints in temporary files a chunk at a time (ferry.load.printfile): pairs spanning
several chunks read back exactly, kept and written through real targets; delta runs whose
kept prints span several chunks find exactly the changed rows (JSON lines into SQLite, a
SQLite file's pages into PostgreSQL); the files are gone after a run, a failed one too; a
first run's side scan of a SQLite file hands its rows over a part at a time.

The chunks are made small (``CHUNK_ROWS``) so a few hundred rows span many of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
from array import array
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_exec, pg_rows

import ferry.load.printfile
from ferry.errors import Cancelled, FerryError
from ferry.events import CancelToken, Event, StepStarted
from ferry.load.linescan import line_print, record_line_blocks
from ferry.load.printfile import PrintFile
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult, TableResult
from ferry.sources.sqlitepages import PageFile, PageMap, scan_table, side_scan, table_root

COUNT = 200
SMALL = 16  # pairs per chunk in these tests: 200 rows span 13 chunks


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ferry.load.printfile, "CHUNK_ROWS", SMALL)


# -- the file itself ---------------------------------------------------------------------------


def filled(keys: list[int]) -> PrintFile:
    found = PrintFile(SMALL)
    for key in keys[:50]:
        found.append(key, key * 7)
    found.extend(array("q", keys[50:]), array("q", [k * 7 for k in keys[50:]]))
    return found


def test_pairs_spanning_chunks_read_back_in_order() -> None:
    keys = list(range(3, 3 + 3 * COUNT, 3))
    found = filled(keys)
    try:
        read = [
            (k, p) for mine, theirs in found.chunks() for k, p in zip(mine, theirs, strict=True)
        ]
        assert read == [(k, k * 7) for k in keys]
        assert found.span(10, 150) == (
            array("q", keys[10:150]),
            array("q", [k * 7 for k in keys[10:150]]),
        )
    finally:
        found.close()


def test_every_key_is_found_whatever_its_chunk() -> None:
    keys = list(range(3, 3 + 3 * COUNT, 3))
    found = filled(keys)
    try:
        assert [found.find(k, 0) for k in keys] == list(range(COUNT))
        assert [found.find(k + 1, 0) for k in keys] == [-1] * COUNT
        assert [found.position(k - 1) for k in keys] == list(range(COUNT))
    finally:
        found.close()


def test_pairs_out_of_order_come_out_sorted() -> None:
    keys = [(i * 7919) % 1009 for i in range(COUNT)]  # distinct, scattered
    found = filled(keys)
    ordered = found.sorted()
    try:
        assert ordered is not None
        pairs = [(k, p) for a, b in ordered.chunks() for k, p in zip(a, b, strict=True)]
        assert pairs == sorted((k, k * 7) for k in keys)
    finally:
        found.close()
        if ordered is not None:
            ordered.close()


# -- JSON lines into SQLite --------------------------------------------------------------------


def records() -> list[dict[str, Any]]:
    return [{"id": i, "name": f"r{i}", "size": i * 10} for i in range(1, COUNT + 1)]


def write(folder: Path, items: list[dict[str, Any]]) -> Path:
    path = folder / "rec.json"
    path.write_bytes(("[\n" + ",\n".join(json.dumps(r) for r in items) + "\n]\n").encode())
    return path


def json_plan(folder: Path) -> Any:
    return plan_from_dict(
        {
            "name": "print-files",
            "target": {"url": f"sqlite:///{folder / 'out.db'}"},
            "sources": [{"name": "rec", "kind": "json", "path": str(folder / "rec.json")}],
            "tables": [{"name": "records", "source": "rec", "key": ["id"], "delete_missing": True}],
            "options": {"row_prints": True},
        },
        folder,
    )


def run(plan: Any, **options: Any) -> TableResult:
    result: RunResult = asyncio.run(migrate(plan, write_reports=False, **options))
    return result.tables[0]


def kept_chunks(db: Path) -> list[tuple[int, bytes, bytes]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT chunk, keys, prints FROM _ferry_row_prints WHERE chunk >= 0 ORDER BY chunk"
        ).fetchall()
    finally:
        conn.close()


def test_prints_kept_in_several_chunks_are_each_line_s(tmp_path: Path, small_chunks: None) -> None:
    items = records()
    items.reverse()  # out of key order in the file: kept in key order all the same
    path = write(tmp_path, items)
    run(json_plan(tmp_path))
    chunks = kept_chunks(tmp_path / "out.db")
    assert [c[0] for c in chunks] == list(range(-(-COUNT // SMALL)))
    keys, prints = array("q"), array("q")
    for _, k, p in chunks:
        keys.frombytes(k)
        prints.frombytes(p)
    lines = [line for block in record_line_blocks(path) for line in block]
    by_key = {json.loads(line.strip(b",")).get("id"): line_print(line) for line in lines}
    assert list(zip(keys, prints, strict=True)) == sorted(by_key.items())


def test_a_json_delta_over_several_chunks_finds_exactly_the_changes(
    tmp_path: Path, small_chunks: None
) -> None:
    items = records()
    write(tmp_path, items)
    plan = json_plan(tmp_path)
    run(plan)
    for at in (0, 17, 33, 120, 199):  # in five chunks, the first and the last among them
        items[at]["size"] += 1
    del items[64]  # the first row of a chunk
    items.append({"id": 500, "name": "new", "size": 1})
    write(tmp_path, items)
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.inserted, table.updated, table.deleted) == (1, 5, 1)
    assert table.counts()["unchanged"] == COUNT - 6
    conn = sqlite3.connect(tmp_path / "out.db")
    try:
        rows = conn.execute("SELECT id, name, size FROM records ORDER BY id").fetchall()
    finally:
        conn.close()
    assert rows == sorted((r["id"], r["name"], r["size"]) for r in items)


# -- a SQLite file's pages into PostgreSQL -----------------------------------------------------

ROWS = 300


def sqlite_plan(folder: Path, url: str) -> Any:
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?)", [(i * 2, f"item {i}") for i in range(1, ROWS + 1)]
        )
    db.close()
    old = os.path.getmtime(path) - 60  # past the racy window
    os.utime(path, (old, old))
    pg_exec(url, "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
    return plan_from_dict(
        {
            "name": "print-pages",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(path)}],
            "tables": [{"name": "items", "source": "app.items", "key": ["id"]}],
            "options": {"row_prints": True},
        },
        folder,
    )


def versions(url: str) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in pg_rows(url, "SELECT id, xmin::text FROM items")}


def test_a_page_delta_over_several_chunks_finds_exactly_the_changes(
    tmp_path: Path, pg_url: str, small_chunks: None
) -> None:
    plan = sqlite_plan(tmp_path, pg_url)
    assert run(plan).inserted == ROWS
    before = versions(pg_url)
    db = sqlite3.connect(tmp_path / "app.db")
    with db:  # rows in the first, middle and last chunks; one new between two
        db.execute("UPDATE items SET name = 'x' WHERE id IN (2, 66, 300, 600)")
        db.execute("INSERT INTO items VALUES (255, 'new')")
    db.close()
    table = run(plan)
    assert table.decision is not None and "from the file's pages" in table.decision.why
    after = versions(pg_url)
    touched = {i for i in set(after) | set(before) if after.get(i) != before.get(i)}
    assert touched == {2, 66, 300, 600, 255}
    assert (table.updated, table.inserted) == (4, 1)


# -- the files are gone after the run ----------------------------------------------------------


def open_in(folder: Path) -> int:
    """This process's open files in ``folder`` (unnamed temporary files included)."""
    found = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            found += os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder))
        except OSError:
            continue
    return found


@pytest.fixture
def own_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("open files are told from /proc")
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def changed_file(tmp_path: Path) -> Any:
    items = records()
    write(tmp_path, items)
    plan = json_plan(tmp_path)
    run(plan)
    items[5]["size"] += 1
    write(tmp_path, items)
    return plan


def test_no_print_file_stays_open_after_a_delta_run(
    tmp_path: Path, small_chunks: None, own_temp: Path
) -> None:
    plan = changed_file(tmp_path)
    during: list[int] = []

    def emit(event: Event) -> None:
        if isinstance(event, StepStarted) and event.step == "merge":
            during.append(open_in(own_temp))

    assert run(plan, emit=emit).updated == 1
    assert during[0] > 0  # this run's prints and the kept ones were in files there
    assert open_in(own_temp) == 0
    assert os.listdir(own_temp) == []


def test_no_print_file_stays_open_after_a_failed_run(
    tmp_path: Path, small_chunks: None, own_temp: Path
) -> None:
    plan = changed_file(tmp_path)
    token = CancelToken()
    during: list[int] = []

    def emit(event: Event) -> None:
        if isinstance(event, StepStarted) and event.step == "merge":
            during.append(open_in(own_temp))
            token.cancel()

    with pytest.raises(Cancelled):
        run(plan, emit=emit, cancel=token)
    assert during[0] > 0
    assert open_in(own_temp) == 0
    assert os.listdir(own_temp) == []


# -- a first run's side scan of a SQLite file's pages ------------------------------------------


def test_a_side_scan_gives_every_row_in_order_a_part_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    ids = list(range(1, 1501))
    random.Random(5).shuffle(ids)  # inserted out of order: leaves out of file order
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT)")
    with db:  # three rows a page: some 500 leaves, two windows and more
        db.executemany("INSERT INTO items VALUES (?, ?)", [(i, "b" * 1200 + str(i)) for i in ids])
    db.close()
    parts: list[tuple[array[int], array[int]]] = []
    found = side_scan(
        f"file:{path}?mode=ro",
        ["items"],
        os.pathsep.join(sys.path),
        lambda table, keys, prints: parts.append((keys, prints)),
    )
    assert isinstance(found["items"], PageMap) and len(parts) > 1
    keys = [k for part, _ in parts for k in part]
    assert keys == list(range(1, 1501))
    conn = sqlite3.connect(path)
    conn.execute("BEGIN")
    pages = PageFile(path)
    try:
        (leaf,), kept = scan_table(pages, *table_root(conn, "items"), None)
    finally:
        pages.close()
        conn.close()
    assert [p for _, part in parts for p in part] == list(leaf.prints)
    assert found["items"] == kept


def test_a_temporary_folder_that_cannot_take_the_prints_is_named(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, records())
    missing = tmp_path / "no-such-folder"
    monkeypatch.setattr(tempfile, "tempdir", str(missing))
    with pytest.raises(FerryError) as failed:
        run(json_plan(tmp_path))
    assert f"the temporary folder {missing} could not take the run's row prints" in str(
        failed.value
    )


def test_a_delta_of_rows_printed_as_read_over_several_chunks_finds_exactly_the_changes(
    tmp_path: Path, small_chunks: None
) -> None:
    items = records()
    items.insert(150, items.pop(3))  # one record far from its key's place
    path = tmp_path / "rec.json"
    path.write_text(json.dumps(items), encoding="utf-8")  # one line: printed as read
    plan = json_plan(tmp_path)
    run(plan)
    for at in (0, 40, 150, 199):
        items[at]["size"] += 1
    del items[100]
    path.write_text(json.dumps(items), encoding="utf-8")
    table = run(plan)
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.deleted) == (4, 1)
    assert table.counts()["unchanged"] == COUNT - 5
