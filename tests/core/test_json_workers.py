"""A big JSON file parsed and mapped in worker processes (ferry.load.inworker) gives what the
in-process read gives: the same rows, rejects, warnings, added columns and errors; a file the
workers cannot vouch for is read again in process; a cancel leaves the target untouched and
no worker running. Real worker processes (spawn) and real SQLite files; the size threshold
and the chunk size are lowered so that a small file takes many chunks."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

import ferry.load.inworker
import ferry.load.mapworker
from ferry.errors import Cancelled, SourceError
from ferry.events import CancelToken, Event, StepStarted, TableProgress
from ferry.load.inworker import ArrayCheck
from ferry.load.mapworker import chunk_records
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult

COLUMNS = {"n": {"from": "n", "on_error": "warn", "fallback": 0}}


def records(count: int = 600) -> list[dict[str, Any]]:
    """Records with a few awkward ones: a value that warns, one refused, one key missing,
    a field that appears late (the table gains a column), nested objects, non-ASCII text."""
    out: list[dict[str, Any]] = []
    for i in range(1, count + 1):
        record: dict[str, Any] = {
            "id": i,
            "name": f"naïve 東京 {i}",
            "n": i,
            "m": i * 2,
            "at": f"2024-05-01T10:{i % 60:02d}:00+02:00",
            "meta": {"rev": i % 7, "tags": ["a", "b"]},
        }
        if i % 97 == 0 and i > 100:  # past the sample describe() reads
            record["n"] = "not a number"  # on_error = "warn": the fallback, and a warning
        if i % 89 == 0 and i > 100:
            record["m"] = "xyz"  # refused: m is an integer column
        if i == 250:
            record["id"] = None  # refused: the key is empty
        if 300 <= i < 305:
            record["late"] = f"late {i}"  # first seen past the sample: a new column
        out.append(record)
    return out


def write_lines(path: Path, items: list[Any], lead: bool = True) -> Path:
    """A JSON array one record per line (commas leading, as the benchmark's, or trailing)."""
    texts = [json.dumps(item, ensure_ascii=False) for item in items]
    if lead:
        body = "[\n" + "\n".join(("," if i else "") + t for i, t in enumerate(texts)) + "\n]\n"
    else:
        body = "[\n" + ",\n".join(texts) + "\n]\n"
    path.write_text(body, encoding="utf-8")
    return path


def plan_for(folder: Path, source: Path, columns: dict[str, Any] | None = None) -> Any:
    return plan_from_dict(
        {
            "name": "workers",
            "target": {"url": f"sqlite:///{folder / 'app.db'}"},
            "options": {
                "batch_size": 100,
                "row_prints": False,
            },  # prints: test_json_worker_prints.py
            "sources": [{"name": "items", "kind": "json", "path": str(source)}],
            "tables": [{"name": "items", "source": "items", "columns": columns or COLUMNS}],
        },
        folder,
    )


def migrate_in(folder: Path, source: Path, **kwargs: Any) -> RunResult:
    folder.mkdir(parents=True, exist_ok=True)
    return asyncio.run(migrate(plan_for(folder, source), write_reports=False, **kwargs))


def use_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every JSON file counts as big, cut into chunks of 2 KiB, on a machine with idle cores
    (the machine running the tests may be loaded: the workers give the same results)."""
    monkeypatch.setattr(ferry.load.inworker, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(ferry.load.inworker, "idle_cores", lambda: 2.0)
    monkeypatch.setattr(ferry.load.mapworker, "CHUNK_BYTES", 2048)


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> None:
    use_workers(monkeypatch)


def table_rows(db: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        names = [row[1] for row in conn.execute("PRAGMA table_info(items)")]
        return names, conn.execute("SELECT * FROM items ORDER BY id").fetchall()


def outcome(result: RunResult, db: Path) -> dict[str, Any]:
    return {
        "counts": [t.counts() for t in result.tables],
        "rejects": [(r.table, r.key, r.reason, r.row) for r in result.rejects],
        "warnings": result.warnings,
        "rows": table_rows(db),
    }


def in_process(tmp_path: Path, source: Path) -> tuple[RunResult, dict[str, Any]]:
    """The reference: the same file read in process (the threshold as shipped)."""
    result = migrate_in(tmp_path / "alone", source)
    assert not result.tables[0].decision.in_worker
    return result, outcome(result, tmp_path / "alone" / "app.db")


def test_workers_give_the_rows_rejects_warnings_and_columns_of_the_in_process_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_lines(tmp_path / "items.json", records())
    _, expected = in_process(tmp_path, source)
    use_workers(monkeypatch)
    result = migrate_in(tmp_path / "workers", source)
    assert result.tables[0].decision.in_worker
    assert "worker process" in str(result.tables[0].decision)
    assert outcome(result, tmp_path / "workers" / "app.db") == expected
    assert "late" in expected["rows"][0]  # the table gained the late field's column
    assert len(expected["rejects"]) >= 3 and expected["warnings"]
    assert multiprocessing.active_children() == []


def test_a_machine_with_no_idle_core_reads_in_process(
    tmp_path: Path, workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ferry.load.inworker, "idle_cores", lambda: 0.5)
    source = write_lines(tmp_path / "items.json", records(200))
    result = migrate_in(tmp_path / "busy", source)
    assert not result.tables[0].decision.in_worker


def test_trailing_commas_read_alike(tmp_path: Path, workers: None) -> None:
    source = write_lines(tmp_path / "items.json", records(300), lead=False)
    result = migrate_in(tmp_path / "workers", source)
    assert result.tables[0].decision.in_worker
    _, rows = table_rows(tmp_path / "workers" / "app.db")
    assert len(rows) == 300 - len(result.rejects)


def test_a_file_the_lines_cannot_vouch_for_is_read_again_in_process(
    tmp_path: Path, workers: None
) -> None:
    items = records(300)
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    lines[200] = lines[200] + ", " + lines[201]  # two records on one line: valid JSON
    del lines[201]
    source = tmp_path / "items.json"
    source.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    events: list[Event] = []
    result = migrate_in(tmp_path / "workers", source, emit=events.append)
    again = [e for e in events if isinstance(e, StepStarted) and "again" in e.detail]
    assert again and "read in this process" in again[0].detail
    assert not result.tables[0].decision.in_worker
    _, rows = table_rows(tmp_path / "workers" / "app.db")
    assert len(rows) == 300 - len(result.rejects)


def test_an_error_past_the_first_chunks_is_the_in_process_error(
    tmp_path: Path, workers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = records(300)
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    lines[220] = lines[220][:-1] + ', "id": 5}'  # a duplicate key
    source = tmp_path / "items.json"
    source.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    with pytest.raises(SourceError) as workers_error:
        migrate_in(tmp_path / "workers", source)
    monkeypatch.setattr(ferry.load.inworker, "WORKER_MIN_BYTES", 1 << 62)
    with pytest.raises(SourceError) as alone_error:
        migrate_in(tmp_path / "alone", source)
    assert str(workers_error.value) == str(alone_error.value)
    assert "duplicate key 'id'" in str(workers_error.value)
    assert not (tmp_path / "workers" / "app.db").exists()


def test_a_cancel_mid_file_leaves_no_target_and_no_worker(tmp_path: Path, workers: None) -> None:
    source = write_lines(tmp_path / "items.json", records(3000))
    token = CancelToken()
    seen: list[int] = []

    def emit(event: Event) -> None:
        if isinstance(event, TableProgress):
            seen.append(event.rows_done)
            if len(seen) == 3:
                token.cancel()

    with pytest.raises(Cancelled):
        migrate_in(tmp_path / "workers", source, emit=emit, cancel=token)
    assert 0 < seen[-1] < 3000
    assert not (tmp_path / "workers" / "app.db").exists()
    assert multiprocessing.active_children() == []


# -- the array's layout, chunk by chunk ------------------------------------------------------


def layouts(text: bytes, cuts: list[int]) -> str:
    """Why ``text`` cut at ``cuts`` (line starts) is not one array, as the run judges it."""
    check = ArrayCheck()
    bounds = [0, *cuts, len(text)]
    for index, (start, end) in enumerate(pairwise(bounds)):
        try:
            layout, _ = chunk_records(text[start:end], first=index == 0)
        except Exception as exc:
            return str(exc)
        why = check.take(layout)
        if why:
            return why
    return check.finish()


def test_records_split_over_chunks_make_one_array() -> None:
    text = b'[\n{"id": 1}\n,{"id": 2}\n,{"id": 3}\n]\n'
    for cut in range(1, 5):
        starts = [i + 1 for i, b in enumerate(text) if b == 10][:cut]
        assert layouts(text, starts) == ""


@pytest.mark.parametrize(
    "text",
    [
        b'[\n{"id": 1}\n{"id": 2}\n]\n',  # no comma between
        b'[\n{"id": 1},\n,{"id": 2}\n]\n',  # two commas
        b'[\n{"id": 1},\n{"id": 2},\n]\n',  # a comma before the end
        b'[\n{"id": 1}\n,{"id": 2}\n',  # not closed
        b'[\n{"id": 1}\n]\n{"id": 2}\n',  # text after the array
        b'{"id": 1}\n',  # not an array
    ],
)
def test_a_broken_layout_is_caught_wherever_the_cut_falls(text: bytes) -> None:
    lines = [i + 1 for i, b in enumerate(text) if b == 10][:-1]
    for cut in lines:
        assert layouts(text, [cut]) != "", (text, cut)
    assert layouts(text, []) != ""


def test_a_chunk_decoded_as_one_array_gives_the_rows_of_its_lines(tmp_path: Path) -> None:
    from ferry.sources.json import JsonSource

    source = write_lines(tmp_path / "items.json", records(150))
    reader = JsonSource(plan_for(tmp_path, source).sources[0], tmp_path)
    texts = [json.dumps(r, ensure_ascii=False).encode() for r in records(150)]
    assert reader.rows_of_records(texts, "id", 50) == reader.rows_of_lines(texts, "id", 50)
    for bad in ([b'{"id": 1}, {"id": 2}'], [b'{"id": "\\ud800"}'], [b'{"x": 1}']):
        with pytest.raises(ValueError):
            reader.rows_of_records(bad, "id", 50)
