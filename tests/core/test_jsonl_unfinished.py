"""A JSON Lines file's last line still being written (no newline, the JSON stops short) is
left for the next run and named, so `ferry sync` beside an app appending to its log does not
stop on it; a broken line is still refused. Real files and SQLite targets, one behaviour per
test."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import SourceError
from ferry.migrate import migrate
from ferry.plan import SourceSpec, plan_from_dict
from ferry.results import RunResult
from ferry.scan import scan_folder
from ferry.sources import open_source

DONE = b'{"id": 1, "msg": "a"}\n{"id": 2, "msg": "b"}\n'


def _rows(tmp_path: Path, content: bytes) -> tuple[list[Any], list[str]]:
    (tmp_path / "events.jsonl").write_bytes(content)
    reader = open_source(SourceSpec(name="events", kind="jsonl", path="events.jsonl"), tmp_path)
    found = [row for b in reader.batches(100) for row in b.rows]
    return found, reader.notices


def _run(tmp_path: Path) -> RunResult:
    plan = plan_from_dict(
        {
            "name": "log",
            "target": {"url": f"sqlite:///{tmp_path / 'out.db'}"},
            "sources": [{"name": "events", "kind": "jsonl", "path": "events.jsonl"}],
            "tables": [{"name": "events", "source": "events", "key": ["id"]}],
        },
        tmp_path,
    )
    return asyncio.run(migrate(plan, write_reports=False))


def _loaded(tmp_path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "out.db") as db:
        return db.execute("SELECT id, msg FROM events ORDER BY id").fetchall()


def test_a_last_line_that_stops_short_is_left_and_named(tmp_path: Path) -> None:
    found, notices = _rows(tmp_path, DONE + b'{"id": 3, "msg": "c')

    assert [r["id"] for r in found] == [1, 2]
    assert notices == [
        "events.jsonl: line 3 is not finished (no newline, the JSON stops short): not read "
        "this time; an app still appending to the file? The next run reads it once it is "
        "complete."
    ]


def test_a_last_line_cut_inside_a_character_is_left(tmp_path: Path) -> None:
    found, notices = _rows(tmp_path, DONE + '{"id": 3, "msg": "é'.encode()[:-1])

    assert [r["id"] for r in found] == [1, 2] and len(notices) == 1


def test_a_broken_last_line_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        _rows(tmp_path, DONE + b'{"id": 3 "msg": "c"}')

    assert "line 3, column 10: not valid JSON" in caught.value.message


def test_a_run_warns_and_the_next_reads_the_finished_line(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_bytes(DONE + b'{"id": 3, "msg": "c')
    first = _run(tmp_path)
    assert first.status == "completed" and _loaded(tmp_path) == [(1, "a"), (2, "b")]
    assert any("line 3 is not finished" in w for w in first.warnings)

    with (tmp_path / "events.jsonl").open("ab") as log:
        log.write(b'"}\n')
    second = _run(tmp_path)

    assert second.tables[0].inserted == 1
    assert _loaded(tmp_path) == [(1, "a"), (2, "b"), (3, "c")]


def test_init_notes_the_unfinished_line(tmp_path: Path) -> None:
    data = tmp_path / "app"
    data.mkdir()
    (data / "events.jsonl").write_bytes(DONE + b'{"id": 3, "msg": "c')

    result = scan_folder(data, f"sqlite:///{tmp_path / 'out.db'}", plan_dir=tmp_path)

    notes = [n for t in result.plan.tables for n in t.notes]
    assert any("line 3 is not finished" in n for n in notes)
