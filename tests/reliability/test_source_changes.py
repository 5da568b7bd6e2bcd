"""The application keeps writing its state while Ferry reads it.

The change is made from the run's own progress callback, the moment the first batch of the
source has been staged: the rest of the file is still unread, so the change lands mid-read
every time.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from faultkit import FerryProcess, sqlite_query

from ferry.events import Event, RunWarning, TableProgress
from ferry.migrate import migrate
from ferry.plan import SourceSpec, load_plan
from ferry.results import RunResult
from ferry.safety.sourcewatch import SourceWatch
from ferry.sources.sqlite import SqliteSource

ROWS = 30_000

PLAN = """name = "live"

[target]
url = "sqlite:///app.db"

[options]
batch_size = 1000

[[sources]]
name = "{name}"
kind = "{kind}"
path = "{path}"

[[tables]]
name = "{table}"
source = "{source}"
"""


def json_app(folder: Path) -> Path:
    jobs = [{"id": i, "label": f"job {i:06d}"} for i in range(ROWS)]
    (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(
        PLAN.format(name="jobs", kind="json", path="jobs.json", table="jobs", source="jobs"),
        encoding="utf-8",
    )
    return plan


def sqlite_app(folder: Path, wal: bool = True) -> Path:
    conn = sqlite3.connect(folder / "state.db")
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE progress (id INTEGER PRIMARY KEY, pct REAL)")
    conn.executemany("INSERT INTO progress VALUES (?, ?)", ((i, i / ROWS) for i in range(ROWS)))
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(
        PLAN.format(
            name="state", kind="sqlite", path="state.db", table="progress", source="state.progress"
        ),
        encoding="utf-8",
    )
    return plan


def run(
    plan: Path, on_first_batch: Callable[[], None] | None = None, syncing: bool = False
) -> tuple[RunResult, list[Event]]:
    """Migrate; ``on_first_batch`` runs once, when the first rows have been staged."""
    events: list[Event] = []
    pending = [on_first_batch] if on_first_batch else []

    def emit(event: Event) -> None:
        events.append(event)
        if isinstance(event, TableProgress) and pending:
            pending.pop()()

    result = asyncio.run(migrate(load_plan(plan), emit=emit, syncing=syncing))
    return result, events


def rewrite_in_place(path: Path) -> None:
    """What an app saving its state does: the same file (same inode) written over again.
    (The same length, so a reader never catches it empty half-way.)"""
    text = path.read_text(encoding="utf-8").replace('"job ', '"JOB ')
    with path.open("r+", encoding="utf-8") as handle:
        handle.write(text)


def write_rows(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.executemany(
        "INSERT INTO progress VALUES (?, ?)", ((i, 1.0) for i in range(ROWS, ROWS + 50))
    )
    conn.commit()
    conn.close()


def test_a_json_file_rewritten_during_the_read_is_reported(tmp_path: Path) -> None:
    plan = json_app(tmp_path)

    result, events = run(plan, lambda: rewrite_in_place(tmp_path / "jobs.json"))

    (change,) = result.source_changes
    assert change.source == "jobs"
    assert change.path == str(tmp_path / "jobs.json")
    assert not change.snapshot
    assert "changed while Ferry read it" in change.message
    assert "Stop the application, then run again" in change.message
    warnings = [e.message for e in events if isinstance(e, RunWarning)]
    assert change.message in warnings
    assert change.message in result.warnings


def test_a_sync_cycle_says_the_next_cycle_picks_the_change_up(tmp_path: Path) -> None:
    """In ``ferry sync`` the app keeps writing on purpose: no advice to stop it each cycle."""
    plan = json_app(tmp_path)

    result, _ = run(plan, lambda: rewrite_in_place(tmp_path / "jobs.json"), syncing=True)

    (warning,) = [w for w in result.warnings if "changed while Ferry read it" in w]
    assert "Stop the application" not in warning
    assert warning.endswith("The next sync cycle picks up the later changes.")


def test_the_report_lists_the_changed_source_in_json_and_html(tmp_path: Path) -> None:
    plan = json_app(tmp_path)

    result, _ = run(plan, lambda: rewrite_in_place(tmp_path / "jobs.json"))

    assert result.report_path is not None
    html = Path(result.report_path).read_text(encoding="utf-8")
    data = json.loads(Path(result.report_path).with_suffix(".json").read_text(encoding="utf-8"))
    (change,) = data["result"]["source_changes"]
    assert change["path"] == str(tmp_path / "jobs.json")
    assert "Sources changed during the run" in html
    assert "jobs.json" in html


def test_a_sqlite_source_written_during_the_read_gives_its_snapshot_and_a_warning(
    tmp_path: Path,
) -> None:
    plan = sqlite_app(tmp_path)

    result, _ = run(plan, lambda: write_rows(tmp_path / "state.db"))

    # The read transaction's snapshot: exactly the rows there when reading began.
    assert sqlite_query(tmp_path / "app.db", "SELECT count(*) FROM progress") == [(ROWS,)]
    assert sqlite_query(tmp_path / "state.db", "SELECT count(*) FROM progress") == [(ROWS + 50,)]
    (change,) = result.source_changes
    assert change.snapshot
    assert change.path == str(tmp_path / "state.db")
    assert "consistent snapshot" in change.message


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rollback-journal"])
def test_an_unchanged_sqlite_source_is_not_reported(tmp_path: Path, wal: bool) -> None:
    plan = sqlite_app(tmp_path, wal=wal)

    result, _ = run(plan)

    assert result.source_changes == []
    assert result.warnings == []


def test_an_unchanged_json_source_is_not_reported(tmp_path: Path) -> None:
    result, _ = run(json_app(tmp_path))

    assert result.source_changes == []


def test_a_touch_without_new_content_is_not_a_change(tmp_path: Path) -> None:
    plan = json_app(tmp_path)
    path = tmp_path / "jobs.json"

    result, _ = run(plan, lambda: os.utime(path, ns=(1, 1)))

    assert result.source_changes == []


@pytest.mark.slow
def test_ferry_migrate_prints_the_change_as_a_warning(tmp_path: Path) -> None:
    """From the command line: the app rewrites its file while `ferry migrate` runs."""
    plan = json_app(tmp_path)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    assert proc.wait_for_marker("- schema")
    rewrite_in_place(tmp_path / "jobs.json")
    code = proc.wait()

    assert code == 0, proc.stderr
    text = " ".join(proc.stderr.split())  # rich wraps long lines at 120 columns
    assert f"warning: source 'jobs': {tmp_path / 'jobs.json'} changed while Ferry read it" in text


@pytest.mark.parametrize("kind", ["env", "text"])
def test_an_env_or_text_file_written_during_the_run_is_reported(tmp_path: Path, kind: str) -> None:
    if kind == "env":
        (tmp_path / ".env").write_text("A=1\nB=2\n", encoding="utf-8")
        source, path = "settings", ".env"
        changed = tmp_path / ".env"
    else:
        for name in ("a", "b"):
            (tmp_path / f"beat_{name}.txt").write_text("2026-11-21T07:00:00Z\n", encoding="utf-8")
        source, path = "beats", "beat_*.txt"
        changed = tmp_path / "beat_b.txt"
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        PLAN.format(name=source, kind=kind, path=path, table=source, source=source),
        encoding="utf-8",
    )

    result, _ = run(plan, lambda: changed.write_text("A=3\n", encoding="utf-8"))

    (change,) = result.source_changes
    assert change.path == str(changed)
    assert f"source {source!r}: {changed}" in change.message


def test_a_file_matching_a_text_source_that_appears_during_the_run_is_reported(
    tmp_path: Path,
) -> None:
    for name in ("a", "b"):
        (tmp_path / f"beat_{name}.txt").write_text("2026-11-21T07:00:00Z\n", encoding="utf-8")
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        PLAN.format(name="beats", kind="text", path="beat_*.txt", table="beats", source="beats"),
        encoding="utf-8",
    )
    new = tmp_path / "beat_c.txt"

    result, _ = run(plan, lambda: new.write_text("2026-11-21T08:00:00Z\n", encoding="utf-8"))

    (change,) = result.source_changes
    assert (change.path, change.before, change.after) == (str(new), "missing", "21 bytes")
    assert f"source 'beats': {new} appeared while Ferry read the source" in change.message
    assert "its rows are not in this run" in change.message
    assert sqlite_query(tmp_path / "app.db", "SELECT count(*) FROM beats") == [(2,)]


def test_a_json_file_replaced_atomically_is_reported_as_replaced(tmp_path: Path) -> None:
    """Apps that save safely write a new file and rename it over the old one: Ferry reads
    one whole version, and says the file changed."""
    plan = json_app(tmp_path)
    path = tmp_path / "jobs.json"

    def replace() -> None:
        fresh = tmp_path / "jobs.json.tmp"
        fresh.write_text(path.read_text(encoding="utf-8").replace('"job ', '"JOB '), "utf-8")
        os.replace(fresh, path)

    result, _ = run(plan, replace)

    (change,) = result.source_changes
    assert f"{path} was replaced while Ferry read it" in change.message
    assert "Ferry read one whole version of it" in change.message
    # The handle opened before the rename kept reading the old file to its end.
    db = tmp_path / "app.db"
    assert sqlite_query(db, "SELECT count(*) FROM jobs WHERE label GLOB 'JOB*'") == [(0,)]
    assert sqlite_query(db, "SELECT count(*) FROM jobs") == [(ROWS,)]


def test_a_source_rewritten_during_verify_is_named_in_a_warning(tmp_path: Path) -> None:
    """A verification compares while it reads: a difference may be the app's new writes."""
    from ferry.verify.run import verify

    plan = json_app(tmp_path)
    run(plan)
    events: list[Event] = []
    pending = [lambda: rewrite_in_place(tmp_path / "jobs.json")]

    def emit(event: Event) -> None:
        events.append(event)
        if isinstance(event, TableProgress) and pending:
            pending.pop()()

    result = asyncio.run(verify(load_plan(plan), emit=emit))

    expected = f"source 'jobs': {tmp_path / 'jobs.json'} changed while Ferry verified it"
    assert any(w.startswith(expected) for w in result.warnings), result.warnings
    assert any(isinstance(e, RunWarning) and e.message.startswith(expected) for e in events)


def test_the_watch_leaves_the_readers_lock_in_place(tmp_path: Path) -> None:
    # Closing any handle of a database drops every POSIX lock the process holds on it: a
    # watch that opened the file to hash it let the app write into the snapshot being read.
    sqlite_app(tmp_path, wal=False)
    reader = SqliteSource(SourceSpec(name="app", kind="sqlite", path="state.db"), tmp_path)
    try:
        reader.begin()
        watch = SourceWatch({"app": reader})
        assert watch.changes() == []
        write = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3; c = sqlite3.connect('state.db', timeout=0); "
                "c.execute('DELETE FROM progress'); c.commit()",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        reader.close()
    assert "database is locked" in write.stderr
