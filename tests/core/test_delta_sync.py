"""Delta runs: after a completed run, a re-run maps and stages only the source rows whose print
changed (ferry.load.delta), and gives exactly what a full re-run gives.

Real SQLite files, a real JSON file and the real PostgreSQL server. Every case compares the
target's rows with the source's after the run, and asserts the decision as data.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

ROWS = 400


def _old(path: Path) -> None:
    # Older than the racy window, so an unchanged file could skip the table whole
    old = time.time() - 60
    os.utime(path, (old, old))


def source_db(folder: Path, rows: int = ROWS) -> Path:
    path = folder / "app.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, score REAL, at TEXT)")
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?)",
            [
                (i, f"item {i}", i / 7, f"2024-05-01T10:00:{i % 60:02d}Z")
                for i in range(1, rows + 1)
            ],
        )
    db.close()
    _old(path)
    return path


def change_source(
    path: Path, updated: list[int], inserted: list[int], deleted: tuple[int, ...] = ()
) -> None:
    db = sqlite3.connect(path)
    with db:
        for i in updated:
            db.execute("UPDATE items SET name = ? WHERE id = ?", (f"changed {i}", i))
        for i in inserted:
            db.execute(
                "INSERT INTO items VALUES (?, ?, ?, ?)",
                (i, f"new {i}", 0.5, "2024-06-01T00:00:00Z"),
            )
        for i in deleted:
            db.execute("DELETE FROM items WHERE id = ?", (i,))
    db.close()


def source_rows(path: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, name, score FROM items ORDER BY id").fetchall()
    finally:
        db.close()


def plan_for(folder: Path, url: str, options: dict[str, Any] | None = None, **table: Any) -> Any:
    """The plan of ``items`` (row prints on unless ``options`` says otherwise)."""
    return plan_from_dict(
        {
            "name": "delta",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "items", "source": "app.items", "key": ["id"], **table}],
            "options": {"row_prints": True} if options is None else options,
        },
        folder,
    )


def pg_table(url: str) -> None:
    pg_exec(
        url,
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE PRECISION, "
        "at TIMESTAMPTZ)",
    )


def run(plan: Any, preview: bool = False) -> RunResult:
    return asyncio.run(migrate(plan, preview=preview, write_reports=False))


def pg_items(url: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in pg_rows(url, "SELECT id, name, score FROM items ORDER BY id")]


def pg_versions(url: str) -> dict[int, str]:
    return {int(r[0]): str(r[1]) for r in pg_rows(url, "SELECT id, xmin::text FROM items")}


def pg_prepared(tmp_path: Path, pg_url: str, **table: Any) -> tuple[Any, Path]:
    path = source_db(tmp_path)
    pg_table(pg_url)
    plan = plan_for(tmp_path, pg_url, **table)
    first = run(plan)
    assert first.tables[0].inserted == ROWS
    return plan, path


def test_first_run_keeps_a_print_per_row(tmp_path: Path, pg_url: str) -> None:
    pg_prepared(tmp_path, pg_url)
    kept = pg_rows(pg_url, "SELECT table_name, rows, key_field FROM ferry.row_print_tables")
    assert [tuple(r) for r in kept] == [("items", ROWS, "id")]
    chunks = pg_rows(
        pg_url, "SELECT length(keys), length(prints) FROM ferry.row_prints WHERE chunk >= 0"
    )
    assert [tuple(r) for r in chunks] == [(ROWS * 8, ROWS * 8)]


def test_one_percent_changed_maps_only_the_changed_rows(tmp_path: Path, pg_url: str) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    before = pg_versions(pg_url)
    change_source(path, updated=[3, 150, 399], inserted=[401, 402])
    result = run(plan)
    table = result.tables[0]
    assert table.decision is not None and table.decision.mode == "delta"
    assert "print" in table.decision.why
    counts = table.counts()
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (2, 3, ROWS - 3)
    assert counts["read"] == ROWS + 2
    assert pg_items(pg_url) == source_rows(path)
    after = pg_versions(pg_url)
    touched = {i for i in after if after[i] != before.get(i)}
    assert touched == {3, 150, 399, 401, 402}  # every other row untouched
    # the next run starts from this one's prints: nothing changed, nothing staged
    again = run(plan)
    assert again.tables[0].decision.mode in ("delta", "unchanged")
    assert again.tables[0].counts()["unchanged"] == ROWS + 2
    assert pg_versions(pg_url) == after


def test_a_delta_leaves_a_fingerprint_the_next_unchanged_run_skips_by(
    tmp_path: Path, pg_url: str
) -> None:
    plan = plan_for(tmp_path, pg_url, delete_missing=True)
    source_db(tmp_path)
    run(plan)
    change_source(tmp_path / "app.db", updated=[3], inserted=[401], deleted=(5, 6))
    _old(tmp_path / "app.db")  # past the racy window: the delta journals a fingerprint
    delta = run(plan).tables[0]
    assert delta.decision is not None and delta.decision.mode == "delta"
    assert (delta.inserted, delta.deleted) == (1, 2)

    again = run(plan).tables[0]

    assert again.decision is not None and again.decision.mode == "unchanged"
    assert again.counts()["unchanged"] == ROWS - 1


def test_an_app_write_after_a_delta_is_not_skipped(tmp_path: Path, pg_url: str) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    change_source(path, updated=[3], inserted=[])
    _old(path)
    assert run(plan).tables[0].decision.mode == "delta"
    pg_exec(pg_url, "INSERT INTO items (id, name) VALUES (9999, 'the app wrote this')")

    again = run(plan).tables[0]

    assert again.decision is not None and again.decision.mode not in ("unchanged", "delta")
    assert pg_items(pg_url)[-1][0] == 9999  # merged around, not deleted (no delete_missing)


def test_a_row_the_app_changed_in_the_target_is_not_skipped(tmp_path: Path, pg_url: str) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    pg_exec(pg_url, "UPDATE items SET name = 'app wrote this' WHERE id = 7")
    change_source(path, updated=[9], inserted=[])
    result = run(plan)
    decision = result.tables[0].decision
    assert decision is not None and decision.mode == "compare-first"
    assert "no delta" in decision.why and "written to since" in decision.why
    assert result.tables[0].updated == 2  # the app's row put back, the changed one updated
    assert pg_items(pg_url) == source_rows(path)
    # that run kept fresh prints: the next one is a delta again
    change_source(path, updated=[11], inserted=[])
    assert run(plan).tables[0].decision.mode == "delta"
    assert pg_items(pg_url) == source_rows(path)


def test_deleted_source_rows_go_only_with_delete_missing(tmp_path: Path, pg_url: str) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    change_source(path, updated=[], inserted=[], deleted=[5, 6])
    result = run(plan)
    assert result.tables[0].decision.mode == "delta"
    assert result.tables[0].deleted == 0
    assert {5, 6} <= {r[0] for r in pg_items(pg_url)}  # kept: the plan does not delete
    deleting = plan_for(tmp_path, pg_url, delete_missing=True)
    pg_exec(pg_url, "DELETE FROM ferry.row_print_tables")  # (another plan: no prints yet)
    run(deleting)
    change_source(path, updated=[], inserted=[], deleted=[8])
    result = run(deleting)
    assert result.tables[0].decision.mode == "delta"
    assert result.tables[0].deleted == 1
    assert pg_items(pg_url) == source_rows(path)


def test_preview_of_a_delta_counts_what_the_run_does(tmp_path: Path, pg_url: str) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    change_source(path, updated=[1, 2], inserted=[500])
    before = pg_items(pg_url)
    preview = run(plan, preview=True)
    assert preview.tables[0].decision.mode == "delta"
    assert pg_items(pg_url) == before
    done = run(plan)
    assert preview.tables[0].counts() == done.tables[0].counts()
    assert (done.tables[0].inserted, done.tables[0].updated) == (1, 2)


def test_a_source_written_seconds_ago_is_a_cheap_delta(tmp_path: Path, pg_url: str) -> None:
    plan, path = pg_prepared(tmp_path, pg_url)
    change_source(path, updated=[], inserted=[])  # a write that changes no row, just now
    os.utime(path)
    result = run(plan)
    assert result.tables[0].decision.mode == "delta"
    assert result.tables[0].counts()["unchanged"] == ROWS
    assert (result.tables[0].inserted, result.tables[0].updated) == (0, 0)


# -- JSON source, SQLite target -------------------------------------------------------------


def write_records(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")


def json_plan(folder: Path) -> Any:
    return plan_from_dict(
        {
            "name": "delta-json",
            "target": {"url": f"sqlite:///{folder / 'out.db'}"},
            "sources": [
                {
                    "name": "rec",
                    "kind": "json",
                    "path": str(folder / "rec.json"),
                    "shape": "records",
                }
            ],
            "tables": [{"name": "records", "source": "rec", "key": ["id"]}],
            "options": {"row_prints": True},
        },
        folder,
    )


def sqlite_records(path: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, name, size FROM records ORDER BY id").fetchall()
    finally:
        db.close()


def test_json_source_delta_into_sqlite(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"r{i}", "size": i * 10} for i in range(1, 301)]
    write_records(tmp_path / "rec.json", records)
    plan = json_plan(tmp_path)
    assert run(plan).tables[0].inserted == 300
    records[9]["name"] = "changed"
    records.append({"id": 301, "name": "new", "size": 1})
    write_records(tmp_path / "rec.json", records)
    result = run(plan)
    table = result.tables[0]
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.inserted, table.updated, table.unchanged) == (1, 1, 299)
    want = [(r["id"], r["name"], r["size"]) for r in records]
    assert sqlite_records(tmp_path / "out.db") == want
    # the app writes to the target: the next run compares in full and puts the row back
    db = sqlite3.connect(tmp_path / "out.db")
    with db:
        db.execute("UPDATE records SET name = 'app' WHERE id = 20")
    db.close()
    result = run(plan)
    assert result.tables[0].decision.mode == "compare-first"
    assert result.tables[0].updated == 1
    assert sqlite_records(tmp_path / "out.db") == want


def test_sqlite_to_sqlite_delta(tmp_path: Path) -> None:
    path = source_db(tmp_path)
    plan = plan_for(tmp_path, f"sqlite:///{tmp_path / 'out.db'}")
    assert run(plan).tables[0].inserted == ROWS
    change_source(path, updated=[4], inserted=[777])
    result = run(plan)
    assert result.tables[0].decision.mode == "delta"
    assert (result.tables[0].inserted, result.tables[0].updated) == (1, 1)
    out = sqlite3.connect(tmp_path / "out.db")
    try:
        got = out.execute("SELECT id, name, score FROM items ORDER BY id").fetchall()
    finally:
        out.close()
    assert got == source_rows(path)


def print_form(db_path: Path) -> str:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT form FROM _ferry_row_print_tables").fetchone()[0]
    finally:
        db.close()


def test_json_one_record_per_line_prints_its_lines(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"r{i}", "size": i} for i in range(1, 101)]
    # leading commas, a BOM-free array whose brackets share lines with records
    text = "[" + "\n,".join(json.dumps(r) for r in records) + "]\n"
    (tmp_path / "rec.json").write_text(text)
    plan = json_plan(tmp_path)
    run(plan)
    assert print_form(tmp_path / "out.db") == "lines"
    records[49]["size"] = -1
    del records[10]
    records.append({"id": 500, "name": "new", "size": 5})
    (tmp_path / "rec.json").write_text("[" + "\n,".join(json.dumps(r) for r in records) + "]\n")
    result = run(plan)
    table = result.tables[0]
    assert table.decision.mode == "delta"
    assert (table.inserted, table.updated, table.unchanged) == (1, 1, 98)
    kept = {r[0] for r in sqlite_records(tmp_path / "out.db")}
    assert 11 in kept  # no delete_missing: the record gone from the file stays
    want = {(r["id"], r["name"], r["size"]) for r in records}
    assert want <= set(sqlite_records(tmp_path / "out.db"))


def test_pretty_printed_json_prints_its_records(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"r{i}", "size": i} for i in range(1, 51)]
    (tmp_path / "rec.json").write_text(json.dumps(records, indent=2))
    plan = json_plan(tmp_path)
    run(plan)
    assert print_form(tmp_path / "out.db") == "values"
    records[3]["name"] = "changed"
    (tmp_path / "rec.json").write_text(json.dumps(records, indent=2))
    result = run(plan)
    assert result.tables[0].decision.mode == "delta"
    assert (result.tables[0].updated, result.tables[0].unchanged) == (1, 49)
    assert sqlite_records(tmp_path / "out.db") == [(r["id"], r["name"], r["size"]) for r in records]


def test_a_file_no_longer_one_record_per_line_is_compared_in_full(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"r{i}", "size": i} for i in range(1, 51)]
    write_records(tmp_path / "rec.json", records)
    plan = json_plan(tmp_path)
    run(plan)
    records[0]["name"] = "changed"
    # the first records still one per line, a later one spread over lines
    text = "[\n" + ",\n".join(json.dumps(r) for r in records[:5]) + ",\n"
    text += ",\n".join(json.dumps(r, indent=1) for r in records[5:]) + "\n]\n"
    (tmp_path / "rec.json").write_text(text)
    result = run(plan)
    decision = result.tables[0].decision
    assert decision.mode == "compare-first" and "not one record per line" in decision.why
    assert (result.tables[0].updated, result.tables[0].unchanged) == (1, 49)
    assert sqlite_records(tmp_path / "out.db") == [(r["id"], r["name"], r["size"]) for r in records]


def test_sqlite_target_state_moves_on_with_each_delta(tmp_path: Path) -> None:
    path = source_db(tmp_path)
    plan = plan_for(tmp_path, f"sqlite:///{tmp_path / 'out.db'}", delete_missing=True)
    run(plan)
    for step in range(3):  # each delta's state, moved on without a scan, is the next one's
        change_source(path, updated=[10 + step], inserted=[900 + step], deleted=(50 + step,))
        result = run(plan)
        assert result.tables[0].decision.mode == "delta", result.tables[0].decision
        assert (result.tables[0].inserted, result.tables[0].deleted) == (1, 1)
    out = sqlite3.connect(tmp_path / "out.db")
    try:
        got = out.execute("SELECT id, name, score FROM items ORDER BY id").fetchall()
    finally:
        out.close()
    assert got == source_rows(path)


def test_row_prints_are_unset_by_default() -> None:
    # Unset: kept for JSON files one record per line (test_json_delta), where they cost a first
    # run a few percent, and from the second run on elsewhere: printing a SQLite source's rows
    # costs a first run more than that (docs/benchmarks.md), and a one-off migration nothing.
    assert (
        plan_from_dict(
            {"name": "p", "target": {"url": "sqlite:///t.db"}}, Path()
        ).options.row_prints
        is None
    )


@pytest.mark.parametrize("options", [{"row_prints": False}, {}])
def test_row_prints_off_keeps_and_uses_none(
    tmp_path: Path, pg_url: str, options: dict[str, Any]
) -> None:
    path = source_db(tmp_path)
    pg_table(pg_url)
    plan = plan_for(tmp_path, pg_url, options)
    run(plan)
    assert pg_rows(pg_url, "SELECT to_regclass('ferry.row_print_tables')") == [(None,)]
    change_source(path, updated=[2], inserted=[])
    result = run(plan)
    assert result.tables[0].decision.mode == "compare-first"
    assert pg_items(pg_url) == source_rows(path)


def test_unset_row_prints_are_kept_from_a_tables_second_run(tmp_path: Path, pg_url: str) -> None:
    path = source_db(tmp_path)
    pg_table(pg_url)
    plan = plan_for(tmp_path, pg_url, options={})
    run(plan)  # a first run: no prints
    change_source(path, updated=[2], inserted=[])
    assert run(plan).tables[0].decision.mode == "compare-first"  # compares, keeps prints
    change_source(path, updated=[3], inserted=[ROWS + 1])

    third = run(plan).tables[0]

    assert third.decision.mode == "delta"
    assert (third.updated, third.inserted) == (1, 1)
    assert pg_items(pg_url) == source_rows(path)


def test_a_sync_from_scratch_keeps_prints_at_its_first_load(tmp_path: Path, pg_url: str) -> None:
    from ferry.sync.loop import sync

    path = source_db(tmp_path)
    plan = plan_for(tmp_path, pg_url, options={})
    asyncio.run(sync(plan, every=0, cycles=1, write_reports=False))  # a first load
    change_source(path, updated=[3], inserted=[])

    second = asyncio.run(migrate(plan, write_reports=False, syncing=True)).tables[0]

    assert second.decision is not None and second.decision.mode == "delta"
    assert pg_items(pg_url) == source_rows(path)


def test_a_first_run_whose_side_printing_fails_loads_and_keeps_no_prints(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the processes that print a first run's rows beside its load cannot start (an app
    # writing to the file can make them fail the same way: "database is locked")
    plan, path = plan_for(tmp_path, pg_url), source_db(tmp_path)
    monkeypatch.setattr("ferry.load.stream.ASIDE_ROWS", 0)  # printed aside, however small
    monkeypatch.setattr(sys, "executable", "/bin/false")

    first = run(plan).tables[0]

    assert first.inserted == ROWS
    assert pg_items(pg_url) == source_rows(path)
    assert pg_rows(pg_url, "SELECT to_regclass('ferry.row_print_tables')") == [(None,)]


def test_a_small_tables_first_run_prints_on_the_reader_and_keeps_its_prints(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # under ASIDE_ROWS rows no process is started beside the load: none could start here
    plan, path = plan_for(tmp_path, pg_url), source_db(tmp_path)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    run(plan)
    change_source(path, updated=[3], inserted=[])

    second = run(plan).tables[0]

    assert second.decision is not None and second.decision.mode == "delta"
    assert pg_items(pg_url) == source_rows(path)
