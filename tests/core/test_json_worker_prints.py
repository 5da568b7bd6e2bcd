"""Worker processes keep a JSON file's row prints (ferry.load.inworker): the default plan, which
keeps the prints of a file laid out one record per line, is parsed and mapped in the workers,
and keeps the very prints the in-process read keeps, so the next run is a delta as exact as
after an in-process first run. Real worker processes (spawn) and real SQLite targets."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from array import array
from pathlib import Path
from typing import Any

import pytest
from test_json_workers import records, use_workers, write_lines

from ferry.events import Event, StepStarted
from ferry.load.printpatch import PATCH_BASE
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult


def items() -> list[dict[str, Any]]:
    """The workers' test records (warnings, a late field, nested objects) with nothing
    refused: a run that leaves a row out keeps no prints, whichever way it reads."""
    found = records()
    found[249]["id"] = 250
    for record in found:
        if record["m"] == "xyz":
            record["m"] = 0
    return found


def default_plan(folder: Path, source: Path) -> Any:
    """No row_prints option: a file laid out one record per line keeps its prints."""
    return plan_from_dict(
        {
            "name": "worker-prints",
            "target": {"url": f"sqlite:///{folder / 'app.db'}"},
            "options": {"batch_size": 100},
            "sources": [{"name": "items", "kind": "json", "path": str(source)}],
            "tables": [
                {
                    "name": "items",
                    "source": "items",
                    "key": ["id"],
                    "columns": {"n": {"from": "n", "on_error": "warn", "fallback": 0}},
                }
            ],
        },
        folder,
    )


def run_in(folder: Path, source: Path) -> RunResult:
    folder.mkdir(parents=True, exist_ok=True)
    return asyncio.run(migrate(default_plan(folder, source), write_reports=False))


def kept(db: Path) -> tuple[dict[str, dict[int, int]], list[tuple[Any, ...]]]:
    """The prints the target keeps (per table: key -> print, a delta run's patches applied,
    :mod:`ferry.load.printpatch`), and what it says of them (the run's own fields left out)."""
    with sqlite3.connect(db) as conn:
        chunks = conn.execute(
            "SELECT table_name, chunk, keys, prints FROM _ferry_row_prints WHERE chunk >= 0 "
            "ORDER BY 1, 2"
        ).fetchall()
        entries = conn.execute(
            "SELECT table_name, source, key_field, rows, form FROM _ferry_row_print_tables"
        ).fetchall()
    prints: dict[str, dict[int, int]] = {}
    for table, chunk, keys, values in chunks:
        pairs = prints.setdefault(table, {})
        keys = array("q", keys)
        if chunk >= PATCH_BASE and (chunk - PATCH_BASE) % 2:  # a patch's gone keys
            for key in keys:
                pairs.pop(key, None)
        else:  # the prints, then each patch's changed and new keys, in order
            pairs.update(zip(keys, array("q", values), strict=True))
    return prints, entries


def table_rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM items ORDER BY id").fetchall()


def in_process_first(tmp_path: Path, source: Path) -> RunResult:
    result = run_in(tmp_path / "alone", source)
    decision = result.tables[0].decision
    assert decision is not None and not decision.in_worker
    return result


@pytest.mark.parametrize("lead", [True, False])
def test_workers_keep_the_prints_the_in_process_read_keeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lead: bool
) -> None:
    source = write_lines(tmp_path / "items.json", items(), lead=lead)
    in_process_first(tmp_path, source)
    use_workers(monkeypatch)
    result = run_in(tmp_path / "workers", source)
    decision = result.tables[0].decision
    assert decision is not None and decision.in_worker
    chunks, entries = kept(tmp_path / "workers" / "app.db")
    assert entries == [("items", "items", "id", 600, "lines")]
    assert (chunks, entries) == kept(tmp_path / "alone" / "app.db")
    assert table_rows(tmp_path / "workers" / "app.db") == table_rows(tmp_path / "alone" / "app.db")


def test_a_delta_after_a_run_in_the_workers_is_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = items()
    source = write_lines(tmp_path / "items.json", found)
    use_workers(monkeypatch)
    first = run_in(tmp_path / "target", source)
    assert first.tables[0].decision is not None and first.tables[0].decision.in_worker
    for at in range(0, len(found), 100):  # 1%: six records edited
        found[at]["name"] = f"edited {at}"
    write_lines(tmp_path / "items.json", found)
    table = run_in(tmp_path / "target", source).tables[0]
    assert table.decision is not None and table.decision.mode == "delta"
    assert (table.updated, table.unchanged) == (6, len(found) - 6)
    fresh = run_in(tmp_path / "fresh", source)  # the edited file loaded from scratch
    assert fresh.tables[0].decision is not None and fresh.tables[0].decision.in_worker
    assert table_rows(tmp_path / "target" / "app.db") == table_rows(tmp_path / "fresh" / "app.db")
    assert kept(tmp_path / "target" / "app.db") == kept(tmp_path / "fresh" / "app.db")


def test_a_file_the_workers_give_up_on_keeps_the_prints_of_the_read_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = items()
    found[450]["name"] = "rocket \U0001f680"  # written as a surrogate pair: the workers give up
    source = tmp_path / "items.json"
    lines = [json.dumps(item, ensure_ascii=i == 450) for i, item in enumerate(found)]
    source.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    in_process_first(tmp_path, source)
    use_workers(monkeypatch)
    events: list[Event] = []
    folder = tmp_path / "workers"
    folder.mkdir()
    result = asyncio.run(
        migrate(default_plan(folder, source), write_reports=False, emit=events.append)
    )
    assert any(isinstance(e, StepStarted) and "again" in e.detail for e in events)
    decision = result.tables[0].decision
    assert decision is not None and not decision.in_worker
    assert kept(folder / "app.db") == kept(tmp_path / "alone" / "app.db")
    assert kept(folder / "app.db")[1] == [("items", "items", "id", 600, "lines")]
