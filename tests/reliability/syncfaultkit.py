"""Helpers of the sync and cutover fault tests (issue 20, item 8): an app's stores big enough
that a cycle takes a while, the app's writes between cycles, the two plans (SQLite →
PostgreSQL, JSON → SQLite), a snapshot of everything a target holds (Ferry's journal too) to
prove a fault left it exactly as it was, and the moments to strike at, seen from outside.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from faultkit import PATIENCE, FerryProcess, ferry_run, pg_query

from ferry.plan import load_plan
from ferry.runs import list_runs
from ferry.sync.loop import sync

#: rows of each store before the app writes: a cycle that reads them all takes ~0.5-1 s
ROWS = 60_000
#: each write of the app: every 100th row updated, these many new rows
NEW_ROWS = 500

PLAN_HEAD = """name = "sync-faults"

[target]
url = "{url}"
"""

SQLITE_SOURCE = """
[[sources]]
name = "state"
kind = "sqlite"
path = "src.db"

[[tables]]
name = "items"
source = "state.items"
key = ["id"]
"""

#: ``ferry cutover``'s options in these tests: a short settle time, no prompt, no backup
CUTOVER = ["--settle", "300ms", "--yes", "--no-backup"]
#: the two moves the fault tests run: a SQLite file into PostgreSQL, a JSON file into SQLite
KINDS = ["sqlite-to-postgres", "json-to-sqlite"]


def kind_target(kind: str, pg_url: str) -> str | None:
    """The target URL a kind's plan gets (None: the plan's own SQLite file)."""
    return pg_url if kind == "sqlite-to-postgres" else None


JSON_SOURCE = """
[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""


def make_pristine(folder: Path) -> Path:
    """``src.db`` (table ``items``) and ``jobs.json``, :data:`ROWS` rows each."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "src.db")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL)")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        ((i, f"item-{i}", i % 97, i * 0.5) for i in range(ROWS)),
    )
    conn.commit()
    conn.close()
    jobs = [{"id": i, "label": f"job {i}", "tries": i % 7} for i in range(ROWS)]
    (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    return folder


def app_folder(pristine: Path, folder: Path, kind: str, pg_url: str | None = None) -> Path:
    """A copy of the stores in ``folder`` and its plan: ``sqlite-to-postgres`` (``src.db`` into
    ``pg_url``) or ``json-to-sqlite`` (``jobs.json`` into ``target.db``); the plan's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("src.db", "jobs.json"):
        shutil.copyfile(pristine / name, folder / name)
    plan = folder / "ferry.toml"
    if kind == "sqlite-to-postgres":
        assert pg_url is not None
        text = PLAN_HEAD.format(url=pg_url) + SQLITE_SOURCE
    else:
        text = PLAN_HEAD.format(url="sqlite:///target.db") + JSON_SOURCE
    plan.write_text(text, encoding="utf-8")
    return plan


def app_writes(folder: Path, round_: int = 1) -> None:
    """What the app writes between two cycles: every 100th row changed, :data:`NEW_ROWS` new
    rows, in both stores (the JSON file saved the safe way, as the app would)."""
    conn = sqlite3.connect(folder / "src.db")
    with conn:
        conn.execute("UPDATE items SET qty = qty + ? WHERE id % 100 = 0", (round_,))
        start = ROWS + (round_ - 1) * NEW_ROWS
        conn.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?)",
            ((i, f"new-{i}", round_, 1.5) for i in range(start, start + NEW_ROWS)),
        )
    conn.close()
    path = folder / "jobs.json"
    jobs = json.loads(path.read_text(encoding="utf-8"))
    for job in jobs[::100]:
        job["label"] += f" (round {round_})"
    start = len(jobs)
    jobs += [{"id": i, "label": f"new job {i}", "tries": 0} for i in range(start, start + NEW_ROWS)]
    (folder / "jobs.json.tmp").write_text(json.dumps(jobs), encoding="utf-8")
    os.replace(folder / "jobs.json.tmp", path)


def source_rows(folder: Path, kind: str) -> set[tuple[Any, ...]]:
    """The rows the plan's source holds now."""
    if kind == "sqlite-to-postgres":
        conn = sqlite3.connect(folder / "src.db")
        try:
            return set(conn.execute("SELECT id, name, qty, price FROM items"))
        finally:
            conn.close()
    jobs = json.loads((folder / "jobs.json").read_text(encoding="utf-8"))
    return {(j["id"], j["label"], j["tries"]) for j in jobs}


def target_rows(folder: Path, kind: str, pg_url: str | None = None) -> set[tuple[Any, ...]]:
    """The rows of the plan's table in the target."""
    if kind == "sqlite-to-postgres":
        assert pg_url is not None
        return {tuple(r) for r in pg_query(pg_url, "SELECT id, name, qty, price FROM items")}
    conn = sqlite3.connect(folder / "target.db")
    try:
        return set(conn.execute("SELECT id, label, tries FROM jobs"))
    finally:
        conn.close()


# ------------------------------------------------------------------------------ snapshots


def snapshot(folder: Path, kind: str, pg_url: str | None = None) -> dict[str, Any]:
    """Everything the target holds, table by table (Ferry's journal included): its definition,
    its row count and a digest of its rows; on PostgreSQL also every sequence's position
    (``setval`` is not rolled back with a transaction). Equal snapshots: the same target."""
    if kind == "sqlite-to-postgres":
        assert pg_url is not None
        return _pg_snapshot(pg_url)
    return _sqlite_snapshot(folder / "target.db")


def _sqlite_snapshot(db: Path) -> dict[str, Any]:
    # Opening the file is also what rolls a hot journal back after a crash.
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        found: dict[str, Any] = {}
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name"
        ).fetchall():
            if (
                sql is None
                or not conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
                ).fetchone()
            ):
                found[f"index {name}"] = sql
                continue
            rows = sorted(map(repr, conn.execute(f'SELECT * FROM "{name}"')))
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            found[name] = (sql, len(rows), digest)
        return found
    finally:
        conn.close()


def _pg_snapshot(url: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    tables = pg_query(
        url,
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
        "AND table_schema NOT LIKE 'pg_temp%' AND table_schema NOT LIKE 'pg_toast%' "
        "ORDER BY 1, 2",
    )
    for schema, name in tables:
        qualified = f'"{schema}"."{name}"'
        columns = pg_query(
            url,
            "SELECT column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns "
            f"WHERE table_schema = '{schema}' AND table_name = '{name}' ORDER BY ordinal_position",
        )
        count, digest = pg_query(
            url,
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
            f"FROM {qualified} t",
        )[0]
        found[f"{schema}.{name}"] = (tuple(map(tuple, columns)), count, digest)
    for schema, name, last in pg_query(
        url, "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2"
    ):
        found[f"sequence {schema}.{name}"] = last
    return found


def journal_runs(folder: Path, kind: str, pg_url: str | None = None) -> list[str]:
    """The run ids in the target's journal, oldest first."""
    from ferry.load.journal import journal_tables

    if kind == "sqlite-to-postgres":
        assert pg_url is not None
        runs = journal_tables("postgresql")[0]
        return [r[0] for r in pg_query(pg_url, f"SELECT run_id FROM {runs} ORDER BY started_at")]
    runs = journal_tables("sqlite")[0]
    conn = sqlite3.connect(folder / "target.db")
    try:
        return [r[0] for r in conn.execute(f"SELECT run_id FROM {runs} ORDER BY started_at")]
    finally:
        conn.close()


# ------------------------------------------------------------------------------ when to strike


def wait_for_cycle(proc: FerryProcess, number: int) -> None:
    """Until ``ferry sync`` printed cycle ``number``'s line (it committed)."""
    assert proc.wait_until(
        lambda: any(f"  cycle {number}  " in text for _, text in proc.out_lines),
        f"sync cycle {number}'s line",
    ), f"ferry ended before cycle {number}:\n{proc.stdout}\n{proc.stderr}"


class WriteHold:
    """On PostgreSQL, a transaction of the test's holding ``LOCK TABLE items IN SHARE MODE``
    once :meth:`take` ran: Ferry's run still reads the table, but its first write into it waits,
    inside the run's transaction, until :meth:`release`. That moment mid-run lasts as long as
    the test needs; a delta's COPY of a thousand rows lasts a few ms, too short to catch by
    polling. Nothing on a SQLite target. A context manager: leaving it releases the lock."""

    def __init__(self, kind: str, url: str | None) -> None:
        self.url = url if kind == "sqlite-to-postgres" else None
        self.conn: psycopg.Connection[Any] | None = None

    def take(self) -> None:
        if self.url is None:
            return
        self.conn = psycopg.connect(self.url, connect_timeout=10)
        self.conn.execute("LOCK TABLE items IN SHARE MODE")

    def release(self) -> None:
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None

    def __enter__(self) -> WriteHold:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def wait_for_lock_wait(admin_url: str, database: str, running: Callable[[], bool]) -> bool:
    """Poll pg_stat_activity until a Ferry session waits for a lock; False when ``running()``
    turned False first."""
    query = (
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'ferry' "
        "AND datname = %s AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + PATIENCE
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        while running():
            if conn.execute(query, (database,)).fetchall():
                return True
            if time.monotonic() > deadline:
                raise AssertionError(f"no Ferry session waited for a lock within {PATIENCE:.0f} s")
            time.sleep(0.005)
    return False


def strike_mid_load(
    proc: FerryProcess,
    kind: str,
    signum: int,
    nth: int = 1,
    server_url: str | None = None,
    database: str | None = None,
    hold: WriteHold | None = None,
) -> None:
    """Send ``signum`` while the ``nth`` migrate run of the process loads its rows, before its
    merge commits: on PostgreSQL while its first write into ``items`` waits for the lock
    ``hold`` took (released right after the strike); on SQLite 0.2 s into the reading and
    staging that follows the run's ``- schema`` line (or at its ``- merge`` line, whichever
    comes first). Fails when the run ended first."""
    assert proc.wait_until(lambda: proc.count("- schema") >= nth, f"run {nth}'s '- schema'")
    if kind == "sqlite-to-postgres":
        assert server_url is not None and database is not None
        assert hold is not None and hold.conn is not None, "take the write hold first"
        running = lambda: proc.proc.poll() is None  # noqa: E731
        assert wait_for_lock_wait(server_url, database, running), proc.stderr
        assert proc.signal(signum), f"ferry ended before the strike:\n{proc.stderr}"
        hold.release()
        return
    began = time.monotonic()
    proc.wait_until(
        lambda: proc.count("- merge") >= nth or time.monotonic() - began > 0.2,
        f"run {nth}'s load",
    )
    assert proc.signal(signum), f"ferry ended before the strike:\n{proc.stderr}"


def strike_at_line(proc: FerryProcess, contains: str, signum: int) -> None:
    """Send ``signum`` the moment a stderr line containing ``contains`` appears."""
    assert proc.wait_until(
        lambda: any(contains in text for _, text in proc.lines), repr(contains)
    ), proc.stderr
    assert proc.signal(signum), f"ferry ended before the strike:\n{proc.stderr}"


def assert_struck_before_commit(proc: FerryProcess, nth: int = 1) -> None:
    """The strike landed before the ``nth`` run's ``- journal`` step (so before its commit).
    After Ctrl-C the run may still reach that step: Ferry cancels cooperatively and checks
    once more before it commits, so only the steps before its "Cancelling" line count."""
    texts = [text.strip() for _, text in proc.lines]
    cancel = next((i for i, t in enumerate(texts) if t.startswith("Cancelling:")), len(texts))
    assert texts[:cancel].count("- journal") < nth, (
        f"the strike landed after run {nth} reached its journal step (this machine ran it "
        f"faster than the test expects):\n{proc.stderr}"
    )


# ------------------------------------------------------------------------------ cutover


def synced_then_frozen(plan: Path, folder: Path) -> None:
    """A sync cycle committed; the app wrote more, then stopped: the freeze window."""
    import asyncio

    asyncio.run(sync(load_plan(plan), every=0, cycles=1, write_reports=False))
    app_writes(folder)


def no_switch_claimed(plan: Path, folder: Path, failed: str | None = None) -> dict[str, Any]:
    """Nothing says the cutover happened: no reverse plan, no completed cutover run, and no
    cutover report (``failed``: exactly one, whose status is that, e.g. ``failed`` or
    ``cancelled``; its result is returned)."""
    import asyncio

    reports = sorted((folder / "ferry-reports").glob("cutover-*.json"))
    results = [json.loads(p.read_text(encoding="utf-8"))["result"] for p in reports]
    assert [r["status"] for r in results] == ([failed] if failed else [])
    assert not (folder / "ferry.reverse.toml").exists()
    listed = asyncio.run(list_runs(load_plan(plan)))  # what `ferry runs` lists
    assert listed and all(r.kind != "cutover" or r.status == failed for r in listed)
    return results[0] if results else {}


def next_cutover_passes(plan: Path, folder: Path, kind: str, url: str | None) -> None:
    """``ferry cutover`` again: PASS, the target holds the source's rows, its report says so."""
    done = ferry_run("cutover", plan, *CUTOVER, "-q", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    assert target_rows(folder, kind, url) == source_rows(folder, kind)
    verdicts = [
        json.loads(p.read_text(encoding="utf-8"))["result"].get("verdict")
        for p in (folder / "ferry-reports").glob("cutover-*.json")
    ]
    assert "PASS" in verdicts
