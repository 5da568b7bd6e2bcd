"""ferry init: a table of the app's schema no source feeds, whose rows a source's field and a
hook beside the plan could make, is asked about (``TABLE.feed``, ferry.scan.hookquestions)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan
from ferry.scan.questions import answer_and_save, question

SCHEMA = """
CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT);
CREATE TABLE note_summaries (
    id INTEGER PRIMARY KEY,
    note_id TEXT NOT NULL REFERENCES notes(id),
    variant TEXT NOT NULL DEFAULT 'short',
    html TEXT NOT NULL,
    UNIQUE (note_id, variant)
);
"""
NOTES = [
    {"id": "n1", "title": "A", "summary": "hello"},
    {"id": "n2", "title": "B", "summary": None},
]
HOOK = """
def add_summary_html(row):
    text = row.get("summary")
    return {**row, "summary_html": f"<p>{text}</p>" if text else None}
"""


def _init(tmp_path: Path, hook: str | None = HOOK) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.json").write_text(json.dumps(NOTES), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    if hook is not None:
        (tmp_path / "render.py").write_text(hook, encoding="utf-8")
    plan = tmp_path / "p.toml"
    command = ["init", str(data), "--schema", str(tmp_path / "schema.sql"), "-o", str(plan)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    return plan


def _rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        got = conn.execute(sql).fetchall()
    conn.close()
    return got


def test_a_hook_beside_the_plan_is_offered_for_a_table_no_source_feeds(tmp_path: Path) -> None:
    plan = _init(tmp_path)

    asked = question(load_plan(plan), "note_summaries.feed")
    assert (asked.choices, asked.default) == (["render.py:add_summary_html", "leave"], "leave")
    assert "render.py:add_summary_html: a function of one argument adding 'summary_html' " in (
        "\n".join(asked.evidence)
    )
    assert "1 of 2 rows hold it" in asked.evidence[1]


def test_answering_with_the_hook_adds_the_table_and_fills_it(tmp_path: Path) -> None:
    plan = _init(tmp_path)
    answer_and_save(plan, "note_summaries.feed", "render.py:add_summary_html")

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "-q"])
    assert result.exit_code == 0, result.output
    assert _rows(tmp_path, "SELECT note_id, variant, html FROM note_summaries") == [
        ("n1", "short", "<p>hello</p>")
    ]
    spec = next(t for t in load_plan(plan).tables if t.name == "note_summaries")
    assert (spec.key, spec.skip_when_null) == (["note_id", "variant"], ["html"])


def test_without_a_hook_file_only_leave_or_an_own_hook_is_offered(tmp_path: Path) -> None:
    plan = _init(tmp_path, hook=None)

    asked = question(load_plan(plan), "note_summaries.feed")
    assert (asked.choices, asked.value_sets["tables.note_summaries"]["hook"]) == (
        ["leave"],
        "{answer}",
    )


def test_init_reads_the_hook_file_without_running_it(tmp_path: Path) -> None:
    ran = tmp_path / "ran.txt"
    plan = _init(tmp_path, hook=f"open({str(ran)!r}, 'w').write('x')\n" + HOOK)

    assert question(load_plan(plan), "note_summaries.feed").choices[0] == (
        "render.py:add_summary_html"
    )
    assert not ran.exists()


def test_an_answer_written_by_hand_adds_the_table_when_the_plan_is_loaded(tmp_path: Path) -> None:
    plan = _init(tmp_path)
    text = plan.read_text(encoding="utf-8")
    asked = 'id = "note_summaries.feed"'
    head, tail = text.split(asked)
    tail = tail.replace('answer = ""', 'answer = "render.py:add_summary_html"', 1)
    plan.write_text(head + asked + tail, encoding="utf-8")

    loaded = load_plan(plan)
    assert [t.name for t in loaded.tables] == ["notes", "note_summaries"]
    assert loaded.tables[1].hook == "render.py:add_summary_html"
