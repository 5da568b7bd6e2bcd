"""``ferry migrate`` killed (SIGKILL) or interrupted (SIGINT) at many points of a large run.

Each case starts the real command on 60,000 + 10,000 rows into a target that already holds
1,000 of the rows with other values, waits until the run reaches a point seen from outside
(a step line on stderr, a fraction of that step's measured length, the target's rollback
journal appearing, a statement in pg_stat_activity), sends the signal, and then checks that
the target is exactly as before or exactly complete — never in between — and that a re-run
ends with exactly the expected rows, no duplicates.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from faultkit import (
    FerryProcess,
    ferry_run,
    pg_exec,
    pg_query,
    pg_tables,
    sqlite_query,
    sqlite_tables,
    wait_for_backend,
)

from conftest import BIG_PLAN, DIGESTS, expected_digests, old_items
from ferry.load.journal import journal_tables
from ferry.migrate import migrate
from ferry.plan import load_plan
from ferry.shape.schema import is_ferry_table

#: Ferry's journal on each kind of target (ferry.load.journal)
SQLITE_RUNS, SQLITE_REJECTS = journal_tables("sqlite")
PG_RUNS, _ = journal_tables("postgresql")

pytestmark = pytest.mark.slow

STEPS = ("startup", "schema", "merge", "journal", "end")


@dataclass(frozen=True)
class KillPoint:
    """Where to strike: after ``after`` (a step line, or ``startup`` = the process start),
    wait ``fraction`` of the length that step had in an undisturbed run."""

    name: str
    after: str
    fraction: float = 0.0


# Eleven points spread over the whole run, each named by what the run is doing then.
KILL_POINTS = [
    KillPoint("imports-and-source-opening", "startup", 0.5),
    KillPoint("schema-creation", "schema", 0.0),
    KillPoint("reading-and-staging-20pct", "schema", 0.2),
    KillPoint("reading-and-staging-40pct", "schema", 0.4),
    KillPoint("reading-and-staging-60pct", "schema", 0.6),
    KillPoint("reading-and-staging-80pct", "schema", 0.8),
    KillPoint("merge-start", "merge", 0.0),
    KillPoint("merge-33pct", "merge", 0.33),
    KillPoint("merge-66pct", "merge", 0.66),
    KillPoint("journal-write", "journal", 0.0),
    KillPoint("commit-and-report", "journal", 0.5),
]
# PostgreSQL also gets kills on the statements the server is running (below), so fewer here.
PG_KILL_POINTS = [
    p
    for p in KILL_POINTS
    if p.name
    in (
        "schema-creation",
        "reading-and-staging-60pct",
        "merge-33pct",
        "journal-write",
        "commit-and-report",
    )
]


def step_spans(proc: FerryProcess, end: float) -> dict[str, float]:
    """How long each step lasted (until the next step line, or the end)."""
    times = {"startup": 0.0}
    for step in STEPS[1:-1]:
        seen = proc.marker_time(f"- {step}")
        assert seen is not None, f"no '- {step}' line:\n{proc.stderr}"
        times[step] = seen
    times["end"] = end
    return {a: times[b] - times[a] for a, b in itertools.pairwise(STEPS)}


def strike(proc: FerryProcess, point: KillPoint, spans: dict[str, float], signum: int) -> bool:
    """Wait for the point, then send the signal; False when the run had ended already."""
    if point.after != "startup" and not proc.wait_for_marker(f"- {point.after}"):
        return False
    base = 0.0 if point.after == "startup" else proc.marker_time(f"- {point.after}") or 0.0
    when = base + point.fraction * spans[point.after]
    while proc.elapsed() < when and proc.proc.poll() is None:
        time.sleep(0.002)
    return proc.signal(signum)


def expected_state(proc: FerryProcess, struck: bool) -> str | tuple[str, ...]:
    """Killed before it printed ``- journal``, the run cannot have committed; after it, the
    commit may or may not have happened — but never half of it."""
    if not struck:
        return "complete"
    if proc.marker_time("- journal") is None:
        return "untouched"
    return ("untouched", "complete")


def rerun(plan: Path) -> None:
    asyncio.run(migrate(load_plan(plan), write_reports=False))


# ------------------------------------------------------------------------------ SQLite


def sqlite_app(folder: Path, sources: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "app.db")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL)")
    conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)", old_items())
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(BIG_PLAN.format(url="sqlite:///app.db", folder=sources), encoding="utf-8")
    return plan


def sqlite_digests(db: Path) -> dict[str, tuple[object, ...]]:
    return {t: sqlite_query(db, sql)[0] for t, sql in DIGESTS.items() if t in sqlite_tables(db)}


def sqlite_state(db: Path, before: dict[str, tuple[object, ...]]) -> str:
    """``untouched`` or ``complete``; anything else fails the test with what was found."""
    assert sqlite_query(db, "PRAGMA integrity_check") == [("ok",)]
    tables, digests = sqlite_tables(db), sqlite_digests(db)
    if tables == {"items"} and digests == before:
        return "untouched"
    journal = {SQLITE_RUNS, SQLITE_REJECTS}
    runs = (
        sqlite_query(db, f"SELECT count(*) FROM {SQLITE_RUNS}")[0][0]
        if SQLITE_RUNS in tables
        else 0
    )
    expected = expected_digests()
    # the app's tables, and Ferry's own: its journal, and the run's changeset for exact undo
    apps = {t for t in tables if not is_ferry_table(t)}
    if apps == {"items", "jobs"} and journal <= tables and digests == expected:
        assert runs == 1
        return "complete"
    raise AssertionError(f"partial target: tables {sorted(tables)}, digests {digests}, runs {runs}")


@pytest.fixture(scope="module")
def sqlite_spans(big_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """One undisturbed run: how long each step takes on this machine now."""
    folder = tmp_path_factory.mktemp("baseline")
    plan = sqlite_app(folder, big_sources)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=folder)
    assert proc.wait() == 0, proc.stderr
    spans = step_spans(proc, proc.elapsed())
    assert sqlite_state(folder / "app.db", {}) == "complete"
    return spans


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: p.name)
def test_sigkill_leaves_a_sqlite_target_untouched_or_complete(
    point: KillPoint, big_sources: Path, sqlite_spans: dict[str, float], tmp_path: Path
) -> None:
    plan = sqlite_app(tmp_path, big_sources)
    db = tmp_path / "app.db"
    before = sqlite_digests(db)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    struck = strike(proc, point, sqlite_spans, signal.SIGKILL)
    code = proc.wait()

    assert struck or code == 0, proc.stderr
    state = sqlite_state(db, before)
    print(f"{point.name}: struck={struck} in step {proc.last_step()}, target {state}")
    assert state in expected_state(proc, struck), (point, code, proc.stderr)
    rerun(plan)
    assert sqlite_digests(db) == expected_digests()
    runs = 1 if state == "untouched" else 2
    assert sqlite_query(db, f"SELECT count(*) FROM {SQLITE_RUNS}") == [(runs,)]


def test_sigkill_at_the_first_write_to_the_target_file(big_sources: Path, tmp_path: Path) -> None:
    """The rollback journal appears when the run first changes the target file (the jobs
    table is created): killed right then, SQLite rolls the file back on the next open."""
    plan = sqlite_app(tmp_path, big_sources)
    db = tmp_path / "app.db"
    journal = tmp_path / "app.db-journal"
    before = sqlite_digests(db)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    assert proc.wait_until(journal.exists, "the target's rollback journal")
    assert proc.signal(signal.SIGKILL)
    proc.wait()

    assert journal.exists()  # a hot journal: the crash left the file half-changed on disk
    assert sqlite_state(db, before) == "untouched"
    rerun(plan)
    assert sqlite_digests(db) == expected_digests()


@pytest.mark.parametrize(
    "point",
    [KillPoint("reading", "schema", 0.5), KillPoint("merge", "merge", 0.0)],
    ids=lambda p: p.name,
)
def test_ctrl_c_cancels_a_sqlite_run_with_exit_130_and_changes_nothing(
    point: KillPoint, big_sources: Path, sqlite_spans: dict[str, float], tmp_path: Path
) -> None:
    plan = sqlite_app(tmp_path, big_sources)
    db = tmp_path / "app.db"
    before = shutil.copyfile(db, tmp_path / "before.db")
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    assert strike(proc, point, sqlite_spans, signal.SIGINT)
    code = proc.wait()

    assert code == 130, proc.stderr
    assert "Cancelled: the target was rolled back and is unchanged." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == before.read_bytes()
    assert not (tmp_path / "app.db-journal").exists()


def test_ctrl_c_at_the_journal_either_cancels_or_commits_never_half(
    big_sources: Path, sqlite_spans: dict[str, float], tmp_path: Path
) -> None:
    plan = sqlite_app(tmp_path, big_sources)
    db = tmp_path / "app.db"
    before = sqlite_digests(db)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    strike(proc, KillPoint("journal", "journal"), sqlite_spans, signal.SIGINT)
    code = proc.wait()

    assert "Traceback" not in proc.stderr
    assert (code, sqlite_state(db, before)) in ((130, "untouched"), (0, "complete")), proc.stderr


def test_ctrl_c_during_the_backup_removes_the_half_written_backup(
    big_sources: Path, tmp_path: Path
) -> None:
    """Without --no-backup the run backs up first; interrupted then, no backup is left that
    could pass as complete, and the target is unchanged."""
    plan = sqlite_app(tmp_path, big_sources)
    backups = tmp_path / "ferry-backups"
    before = (tmp_path / "app.db").read_bytes()
    proc = FerryProcess(["migrate", str(plan)], cwd=tmp_path)

    assert proc.wait_until(lambda: any(backups.glob("*")), "the backup's folder")
    assert proc.signal(signal.SIGINT)
    code = proc.wait()

    assert code == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Cancelled" in proc.stderr
    assert (tmp_path / "app.db").read_bytes() == before
    left = list(backups.iterdir()) if backups.exists() else []
    if "Backup " not in proc.stderr:  # interrupted while backing up: nothing is left
        assert left == []
    for folder in left:  # interrupted after it: the backup is whole and proves it
        assert ferry_run("backup", "verify", folder, cwd=tmp_path).returncode == 0


def test_ctrl_c_between_the_backup_and_the_migration_stops_cleanly(
    big_sources: Path, tmp_path: Path
) -> None:
    """The moment the backup is reported, no engine step runs (the migration's modules are
    still loading): the command ends with exit 130 and one line, the backup whole, the target
    untouched."""
    plan = sqlite_app(tmp_path, big_sources)
    before = (tmp_path / "app.db").read_bytes()
    proc = FerryProcess(["migrate", str(plan)], cwd=tmp_path)

    assert proc.wait_until(lambda: "Backup " in proc.stderr, "the backup line")
    assert proc.signal(signal.SIGINT)
    code = proc.wait()

    assert code == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "Aborted" not in proc.stderr
    assert "error: Cancelled" in proc.stderr
    assert (tmp_path / "app.db").read_bytes() == before
    (backup,) = (tmp_path / "ferry-backups").iterdir()
    assert ferry_run("backup", "verify", backup, cwd=tmp_path).returncode == 0


# ------------------------------------------------------------------------------ PostgreSQL


def pg_app(folder: Path, sources: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pg_exec(
        url,
        "CREATE TABLE items (id bigint PRIMARY KEY, name text, qty bigint, price double precision)",
        "INSERT INTO items VALUES "
        + ", ".join(f"({i}, '{n}', {q}, {p})" for i, n, q, p in old_items()),
    )
    plan = folder / "ferry.toml"
    plan.write_text(BIG_PLAN.format(url=url, folder=sources), encoding="utf-8")
    return plan


def pg_digests(url: str) -> dict[str, tuple[object, ...]]:
    tables = pg_tables(url)
    return {t: tuple(pg_query(url, sql)[0]) for t, sql in DIGESTS.items() if t in tables}


def pg_state(url: str, before: dict[str, tuple[object, ...]]) -> str:
    tables, digests = pg_tables(url), pg_digests(url)
    if tables == {"items"} and digests == before:
        return "untouched"
    # Ferry's journal is in its own schema: the app's tables are all the public schema holds.
    journaled = pg_query(url, f"SELECT to_regclass('{PG_RUNS}') IS NOT NULL")[0][0]
    runs = pg_query(url, f"SELECT count(*) FROM {PG_RUNS}")[0][0] if journaled else 0
    if tables == {"items", "jobs"} and digests == expected_digests():
        assert runs == 1
        return "complete"
    raise AssertionError(f"partial target: tables {sorted(tables)}, digests {digests}, runs {runs}")


@pytest.fixture(scope="module")
def pg_spans(
    big_sources: Path, tmp_path_factory: pytest.TempPathFactory, pg_server_url: str
) -> dict[str, float]:
    import pgcluster

    folder = tmp_path_factory.mktemp("pg-baseline")
    name = f"ferry_kill_{uuid.uuid4().hex[:8]}"
    url = pgcluster.create_database(pg_server_url, name)
    try:
        plan = pg_app(folder, big_sources, url)
        proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=folder)
        assert proc.wait() == 0, proc.stderr
        spans = step_spans(proc, proc.elapsed())
        assert pg_state(url, {}) == "complete"
    finally:
        pgcluster.drop_database(pg_server_url, name)
    return spans


@pytest.mark.parametrize("point", PG_KILL_POINTS, ids=lambda p: p.name)
def test_sigkill_leaves_a_pg_target_untouched_or_complete(
    point: KillPoint, big_sources: Path, pg_spans: dict[str, float], pg_url: str, tmp_path: Path
) -> None:
    plan = pg_app(tmp_path, big_sources, pg_url)
    before = pg_digests(pg_url)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    struck = strike(proc, point, pg_spans, signal.SIGKILL)
    assert proc.wait() == 0 or struck, proc.stderr

    state = wait_for_state(lambda: pg_state(pg_url, before))
    print(f"{point.name}: struck={struck} in step {proc.last_step()}, target {state}")
    assert state in expected_state(proc, struck), (point, proc.stderr)
    rerun(plan)
    assert pg_digests(pg_url) == expected_digests()
    runs = 1 if state == "untouched" else 2
    assert pg_query(pg_url, f"SELECT count(*) FROM {PG_RUNS}") == [(runs,)]


def wait_for_state(state: Callable[[], str]) -> str:
    """The state once the server has noticed the client is gone (a COMMIT already sent is
    still being applied for a moment)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return state()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize(
    "statement",
    ["COPY %", "CREATE INDEX %", "%INSERT INTO % SELECT %"],  # (the merge: in a WITH or not)
    ids=["mid-copy", "stage-index", "merge-insert"],
)
def test_sigkill_while_the_server_runs_a_statement(
    statement: str, big_sources: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    """Killed while pg_stat_activity shows Ferry's session in a COPY into the stage, indexing
    the stage or the merge's INSERT: the server rolls the open transaction back."""
    plan = pg_app(tmp_path, big_sources, pg_url)
    before = pg_digests(pg_url)
    database = pg_url.rsplit("/", 1)[1]
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    seen = wait_for_backend(pg_server_url, database, statement, lambda: proc.proc.poll() is None)
    assert seen, f"the run ended before the server ran {statement!r}"
    assert proc.signal(signal.SIGKILL)
    proc.wait()

    assert wait_for_state(lambda: pg_state(pg_url, before)) == "untouched"
    rerun(plan)
    assert pg_digests(pg_url) == expected_digests()


def test_ctrl_c_cancels_a_pg_run_mid_copy_with_exit_130(
    big_sources: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    plan = pg_app(tmp_path, big_sources, pg_url)
    before = pg_digests(pg_url)
    database = pg_url.rsplit("/", 1)[1]
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    assert wait_for_backend(pg_server_url, database, "COPY %", lambda: proc.proc.poll() is None)
    assert proc.signal(signal.SIGINT)
    code = proc.wait()

    assert code == 130, proc.stderr
    assert "Cancelled: the target was rolled back and is unchanged." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert pg_state(pg_url, before) == "untouched"
