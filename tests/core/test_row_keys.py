"""Every warning and reject about a row names the row's key.

A value replaced under ``on_error = "warn"`` is warned with the key of its row (in the event,
the CLI output and the report); a row the mapping rejects is journaled in Ferry's rejects table
with its key in ``key_json`` as well as ``key_text``. Real JSON files, a real SQLite target and
the real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from pgkit import pg_rows

from ferry.cli.command import cli
from ferry.events import Event, RunWarning
from ferry.load.journal import journal_tables
from ferry.migrate import migrate
from ferry.plan import load_plan

#: Ferry's journal on each kind of target (ferry.load.journal)
_, SQLITE_REJECTS = journal_tables("sqlite")
_, PG_REJECTS = journal_tables("postgresql")

JOBS = [
    {"job_id": 1, "size": "10", "runs": "1"},
    {"job_id": 2, "size": "lots", "runs": "2"},
    {"job_id": 3, "size": "30", "runs": "many"},
]

WARNING = "jobs: row id=2, column 'size': 'lots' is not a whole number; used 0 instead"


def jobs_app(folder: Path, url: str) -> Path:
    """``jobs.json`` keyed by ``job_id`` (mapped to ``id``): job 2's size is replaced with the
    fallback, job 3 is rejected (its run count is not a number)."""
    (folder / "jobs.json").write_text(json.dumps(JOBS), encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""name = "jobs"

[target]
url = "{url}"

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
map_all = false
columns.id = {{ from = "job_id", cast = "integer" }}
columns.size = {{ from = "size", cast = "integer", on_error = "warn", fallback = 0 }}
columns.runs = {{ from = "runs", cast = "integer" }}
""",
        encoding="utf-8",
    )
    return plan


def test_a_replaced_value_is_warned_with_its_rows_key_on_the_cli(tmp_path: Path) -> None:
    plan = jobs_app(tmp_path, "sqlite:///app.db")

    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if line.startswith("warning:")] == [
        f"warning: {WARNING}"
    ]


def test_a_replaced_value_is_warned_with_its_rows_key_in_the_report(tmp_path: Path) -> None:
    plan = jobs_app(tmp_path, "sqlite:///app.db")

    result = CliRunner().invoke(cli, ["migrate", str(plan), "-q", "--no-backup"])

    assert result.exit_code == 0, result.output
    (report,) = (tmp_path / "ferry-reports").glob("migrate-*.json")
    assert json.loads(report.read_text())["result"]["warnings"] == [WARNING]
    assert WARNING.replace("'", "&#x27;") in report.with_suffix(".html").read_text()


def test_a_transform_reject_journals_its_key_into_sqlite(tmp_path: Path) -> None:
    plan = jobs_app(tmp_path, "sqlite:///app.db")

    result = CliRunner().invoke(cli, ["migrate", str(plan), "-q", "--no-backup"])

    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(tmp_path / "app.db")
    try:
        journaled = conn.execute(
            f"SELECT kind, key_text, key_json FROM {SQLITE_REJECTS}"
        ).fetchall()
    finally:
        conn.close()
    assert journaled == [("transform", "job_id=3", '{"id": 3}')]


def test_postgres_journal_and_events_name_the_rows_key(tmp_path: Path, pg_url: str) -> None:
    plan = load_plan(jobs_app(tmp_path, pg_url))
    events: list[Event] = []

    asyncio.run(migrate(plan, emit=events.append))

    assert [(e.message, e.table, e.key) for e in events if isinstance(e, RunWarning)] == [
        (WARNING, "jobs", "id=2")
    ]
    assert pg_rows(pg_url, f"SELECT kind, key_text, key_json FROM {PG_REJECTS}") == [
        ("transform", "job_id=3", '{"id": 3}')
    ]
