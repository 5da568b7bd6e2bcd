"""``ferry cutover`` (issue 20, items 3 and 7): the final sync of the freeze window against real
SQLite and JSON files, an app process and the real PostgreSQL server. A quiet source gives a
verified switch with its report and (SQLite sources) the reverse plan; an app holding a write
transaction is refused before anything runs; an app writing during the final sync is refused
naming the source."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from synckit import (
    START_ROWS,
    App,
    json_plan,
    json_rows,
    make_stores,
    source_rows,
    sqlite_plan,
    target_rows,
)

from ferry.cli.command import cli
from ferry.events import Event, StepFinished
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan, plan_from_dict, save_plan
from ferry.runs import list_runs
from ferry.sync.cutover import EXIT_REFUSED, CutoverRefused, cutover
from ferry.sync.loop import sync

SETTLE = 0.3


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    make_stores(tmp_path)
    yield tmp_path
    (tmp_path / "stop").touch()


def _report(path: str | None) -> dict[str, object]:
    assert path is not None
    data = json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))
    assert data["kind"] == "cutover"
    result: dict[str, object] = data["result"]
    return result


def test_a_quiet_sqlite_source_cuts_over_to_postgres_with_report_and_reverse_plan(
    folder: Path, pg_url: str
) -> None:
    plan = sqlite_plan(folder, pg_url)
    app = App(folder)
    try:
        asyncio.run(sync(plan, every=0.1, cycles=2))
    finally:
        written = app.stop()  # the freeze window starts
    reverse = folder / "back.toml"

    result = asyncio.run(cutover(plan, settle=SETTLE, reverse_out=reverse))

    assert result.status == "completed" and result.verdict == "PASS"
    assert target_rows(pg_url) == source_rows(folder)
    assert len(source_rows(folder)) == START_ROWS + written
    assert result.final_run_id and result.final_seconds is not None
    assert result.quiet_ok and any("quiet      app (sqlite)" in line for line in result.quiet)
    assert result.switch_to.startswith("postgresql://")
    assert result.backup_id is not None
    # The report: freeze start, quiet checks, final sync time and counts, verdict, reverse plan,
    # what to switch.
    report = _report(result.report_path)
    for key in ("freeze_started_at", "quiet", "final_seconds", "final_counts", "switch_to"):
        assert report[key], key
    assert report["verdict"] == "PASS"
    assert report["reverse_plan"] == str(reverse)
    assert report["final_counts"]["jobs"]["read"] == START_ROWS + written  # type: ignore[index]
    page = Path(str(result.report_path)).read_text(encoding="utf-8")
    assert "Cutover report" in page and "SWITCH" in page and "What to switch" in page
    # The reverse plan: the new store back into the old file.
    back = load_plan(reverse)
    assert back.sources[0].kind == "postgres"
    assert back.target.url.endswith("app.db")
    # The run history lists the final sync and the cutover.
    kinds = {r.run_id: r.kind for r in asyncio.run(list_runs(plan))}
    assert kinds[result.final_run_id] == "migrate"
    assert kinds[result.run_id] == "cutover"


def test_rows_the_app_deleted_since_a_sync_are_named_when_the_plan_keeps_them(
    folder: Path, pg_url: str
) -> None:
    plan = sqlite_plan(folder, pg_url)
    asyncio.run(sync(plan, every=0, cycles=1))
    with sqlite3.connect(folder / "app.db") as db:  # the app deletes two rows, then stops
        db.execute("DELETE FROM jobs WHERE id IN (3, 4)")
    db.close()

    result = asyncio.run(cutover(plan, settle=SETTLE))

    assert result.verdict == "PASS"  # the plan keeps rows the source lacks: not a failure
    assert any(
        w.startswith("jobs: 2 row(s) of the target are not in the source")
        and "set delete_missing = true for jobs" in w
        for w in result.warnings
    ), result.warnings


def test_a_quiet_json_source_cuts_over_to_sqlite_and_renames_the_sources(folder: Path) -> None:
    target = f"sqlite:///{folder / 'target.db'}"
    plan = json_plan(folder, target)
    asyncio.run(sync(plan, every=0, cycles=1))
    expected = json_rows(folder)

    result = asyncio.run(cutover(plan, settle=SETTLE, rename_sources=True))

    assert result.passed
    assert target_rows(target) == expected
    assert result.reverse_plan is None  # a JSON source has no reverse plan, and it says so
    assert result.reverse_notes == [
        "no reverse plan: no source is a SQLite file to go back into (the backup the cutover "
        "took holds the sources as they were)"
    ]
    assert result.switch_to == str(folder / "target.db")
    assert result.renamed == [f"{folder / 'jobs.json'} -> {folder / 'jobs.json.migrated'}"]
    assert (folder / "jobs.json.migrated").exists() and not (folder / "jobs.json").exists()
    assert _report(result.report_path)["status"] == "completed"


def test_an_app_holding_a_write_transaction_is_refused_and_nothing_runs(
    folder: Path, pg_url: str
) -> None:
    plan = sqlite_plan(folder, pg_url)
    asyncio.run(sync(plan, every=0, cycles=1))
    before_runs = [r.run_id for r in asyncio.run(list_runs(plan, reports=False))]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, time\n"
            "db = sqlite3.connect('app.db', isolation_level=None)\n"
            "db.execute('BEGIN IMMEDIATE')\n"
            "db.execute(\"INSERT INTO jobs (name) VALUES ('half-written')\")\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(CutoverRefused, match=r"not quiet.*a write transaction is open") as err:
            asyncio.run(cutover(plan, settle=SETTLE))
    finally:
        holder.kill()
        holder.wait()
    assert err.value.exit_code == EXIT_REFUSED
    assert "Nothing was changed" in err.value.hint
    # No run: the journal is as it was, the target too, and the report says why.
    assert [r.run_id for r in asyncio.run(list_runs(plan, reports=False))] == before_runs
    assert len(target_rows(pg_url)) == START_ROWS
    report = _report(err.value.report_path)
    assert report["status"] == "refused" and report["final_run_id"] is None
    assert any("write transaction" in str(r) for r in report["reasons"])  # type: ignore[attr-defined]


def test_an_app_writing_during_the_final_sync_is_refused_naming_the_source(
    folder: Path, pg_url: str
) -> None:
    plan = sqlite_plan(folder, pg_url)
    asyncio.run(sync(plan, every=0, cycles=1))

    def emit(event: Event) -> None:
        # The quiet check is over and the final sync begins: the app (another process) writes.
        if isinstance(event, StepFinished) and event.step == "quiet":
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sqlite3\n"
                    "db = sqlite3.connect('app.db')\n"
                    "db.execute(\"INSERT INTO jobs (name) VALUES ('late write')\")\n"
                    "db.commit()\n",
                ],
                cwd=folder,
                check=True,
            )

    with pytest.raises(CutoverRefused, match=r"changed during the final sync: app: app\.db") as err:
        asyncio.run(cutover(plan, settle=SETTLE, emit=emit, take_backup=False))
    assert (
        "committed what it read" in err.value.hint and "run `ferry cutover` again" in err.value.hint
    )
    report = _report(err.value.report_path)
    assert report["status"] == "refused" and report["final_run_id"]
    assert report["verdict"] is None  # no verification of a moving source
    # The app stops; the next cutover passes.
    again = asyncio.run(cutover(plan, settle=SETTLE, take_backup=False))
    assert again.passed
    assert ("late write",) in {(n,) for _, n in target_rows(pg_url)}


def test_the_cutover_command(folder: Path) -> None:
    target = f"sqlite:///{folder / 'target.db'}"
    plan = sqlite_plan(folder, target)
    save_plan(plan, folder / "ferry.toml")
    runner = CliRunner()
    plan_file = str(folder / "ferry.toml")

    asked = runner.invoke(cli, ["cutover", plan_file, "--settle", "100ms"], input="n\n")
    assert asked.exit_code == 130
    assert not (folder / "target.db").exists()

    done = runner.invoke(cli, ["cutover", plan_file, "--settle", "300ms", "--yes", "-q"])
    assert done.exit_code == 0, done.output
    assert "PASS" in done.output
    assert f"Switch the application to: {folder / 'target.db'}" in done.output
    assert f"Reverse plan: {folder / 'ferry.reverse.toml'}" in done.output
    assert (folder / "ferry.reverse.toml").exists()

    app = App(folder, pause=0.02)
    try:
        refused = runner.invoke(cli, ["cutover", plan_file, "--settle", "300ms", "--yes", "-q"])
    finally:
        app.stop()
    assert refused.exit_code == EXIT_REFUSED, refused.output
    assert "not quiet" in refused.output and "app.db" in refused.output


def test_the_cutover_command_prints_each_warning_once(folder: Path) -> None:
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY)")  # made by the app, not in the plan
    db.commit()
    db.close()
    save_plan(sqlite_plan(folder, f"sqlite:///{folder / 'target.db'}"), folder / "ferry.toml")

    done = CliRunner().invoke(
        cli, ["cutover", str(folder / "ferry.toml"), "--settle", "300ms", "--yes"]
    )

    assert done.exit_code == 0, done.output
    assert done.output.count("warning:") == done.output.count("audit") == 1


def _app_and_settings_plan(folder: Path, target: str) -> Plan:
    """An app's SQLite file and its JSON file beside it (a settings or state file), as
    ``ferry init`` drafts a folder holding both."""
    return plan_from_dict(
        {
            "name": "app-move",
            "target": {"url": target},
            "sources": [
                {"name": "app", "kind": "sqlite", "path": "app.db"},
                {"name": "state", "kind": "json", "path": "jobs.json"},
            ],
            "tables": [
                {"name": "jobs", "source": "app.jobs", "key": ["id"]},
                {"name": "state", "source": "state", "key": ["id"]},
            ],
        },
        folder,
    )


def test_a_sqlite_file_with_a_json_file_beside_it_gets_its_reverse_plan(folder: Path) -> None:
    target = folder / "target.db"
    plan = _app_and_settings_plan(folder, f"sqlite:///{target}")
    asyncio.run(sync(plan, every=0, cycles=1))
    reverse = folder / "back.toml"

    result = asyncio.run(cutover(plan, settle=SETTLE, reverse_out=reverse))

    assert result.passed and result.reverse_plan == str(reverse)
    assert result.reverse_notes[0].startswith(
        "table state: fed from state, a json source, which a reverse plan cannot write back "
        "into: it does not go back"
    )
    back = load_plan(reverse)
    assert [t.name for t in back.tables] == ["jobs"]
    # The new app writes to the new store; the reverse plan carries it into the old file.
    with sqlite3.connect(target) as db:
        db.execute("INSERT INTO jobs (id, name) VALUES (99, 'written by the new app')")
    db.close()
    asyncio.run(migrate(back))
    assert (99, "written by the new app") in source_rows(folder)


def test_a_table_the_app_created_after_the_plan_is_named_by_the_cutover(folder: Path) -> None:
    target = f"sqlite:///{folder / 'target.db'}"
    plan = sqlite_plan(folder, target)
    asyncio.run(sync(plan, every=0, cycles=1))
    with sqlite3.connect(folder / "app.db") as db:  # a new feature of the app, between syncs
        db.execute("CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO comments VALUES (1, 'kept by the app')")
    db.close()

    result = asyncio.run(cutover(plan, settle=SETTLE))

    assert result.passed  # what the plan moves is there; what it does not is named
    assert [w for w in result.warnings if w.startswith("app.comments")] == [
        "app.comments: a table of source app that no [[tables]] entry reads: it is not "
        "migrated, and the target has no copy of it (did the app create it since the plan was "
        "drafted?). Add a [[tables]] entry for it (`ferry init` drafts one), or list the "
        "tables to read in source app's `tables` to leave it out on purpose"
    ]
