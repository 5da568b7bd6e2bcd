"""The cutover's quiet-source checks (ferry.safety.quiet) against real files, real SQLite
databases held by real app processes, and a real PostgreSQL session."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import pgcluster
from ferry.errors import Cancelled
from ferry.events import CancelToken, Event, SettleCountdown
from ferry.plan import Plan, SourceSpec, load_plan, save_plan
from ferry.safety.quiet import check_quiet, sources_changed_since

SETTLE = 0.3


def make_plan(folder: Path, *sources: SourceSpec, app_lock: str | None = None) -> Plan:
    plan = Plan(sources=list(sources))
    plan.base_dir = folder
    plan.cutover.app_lock = app_lock
    return plan


def start_app(folder: Path, code: str) -> subprocess.Popen[str]:
    """A Python process running ``code`` in ``folder``; returns once it printed ``ready``."""
    script = textwrap.dedent(code) + "\nprint('ready', flush=True)\nimport time\ntime.sleep(60)\n"
    app = subprocess.Popen(
        [sys.executable, "-c", script], cwd=folder, stdout=subprocess.PIPE, text=True
    )
    assert app.stdout is not None
    assert app.stdout.readline().strip() == "ready"
    return app


@pytest.fixture
def apps() -> Iterator[list[subprocess.Popen[str]]]:
    """App processes started by a test, ended after it."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for app in started:
        app.kill()
        app.wait()


def make_db(path: Path, journal_mode: str = "delete") -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA journal_mode={journal_mode}")
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO jobs VALUES (1, 'first')")
    conn.close()


def sqlite_source(name: str = "app") -> SourceSpec:
    return SourceSpec(name=name, kind="sqlite", path="app.db")


async def test_an_app_holding_a_write_transaction_makes_a_sqlite_source_not_quiet(
    tmp_path: Path, apps: list[subprocess.Popen[str]]
) -> None:
    make_db(tmp_path / "app.db")
    app = start_app(
        tmp_path,
        """
        import sqlite3
        conn = sqlite3.connect("app.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO jobs VALUES (2, 'second')")
        """,
    )
    apps.append(app)

    report = await check_quiet(make_plan(tmp_path, sqlite_source()), settle=SETTLE)

    assert not report.quiet
    assert any(
        "app.db: a write transaction is open" in r and f"pid {app.pid})" in r
        for r in report.reasons
    )
    assert "NOT QUIET  app (sqlite): app.db: a write transaction is open" in str(report)


async def test_a_writer_in_a_wal_mode_database_makes_it_not_quiet(
    tmp_path: Path, apps: list[subprocess.Popen[str]]
) -> None:
    make_db(tmp_path / "app.db", "wal")
    app = start_app(
        tmp_path,
        """
        import sqlite3
        conn = sqlite3.connect("app.db", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO jobs VALUES (2, 'second')")
        """,
    )
    apps.append(app)

    report = await check_quiet(make_plan(tmp_path, sqlite_source()), settle=SETTLE)

    assert not report.quiet
    assert any(
        "app.db: a write transaction is open" in r and f"pid {app.pid})" in r
        for r in report.reasons
    )


async def test_a_journal_left_by_a_killed_writer_is_not_quiet(
    tmp_path: Path, apps: list[subprocess.Popen[str]]
) -> None:
    make_db(tmp_path / "app.db")
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.executemany("INSERT INTO jobs (name) VALUES (?)", [("x" * 100,)] * 2000)
    conn.close()
    app = start_app(
        tmp_path,
        """
        import sqlite3
        conn = sqlite3.connect("app.db", isolation_level=None)
        conn.execute("PRAGMA cache_size=1")  # the update spills: pages reach the file
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE jobs SET name = 'y'")
        """,
    )
    app.kill()
    app.wait()

    report = await check_quiet(make_plan(tmp_path, sqlite_source()), settle=SETTLE)

    assert not report.quiet
    assert report.reasons[0].startswith(
        "app: app.db-journal holds a transaction no process is running"
    )


async def test_a_wal_mode_database_with_only_a_reader_is_quiet(
    tmp_path: Path, apps: list[subprocess.Popen[str]]
) -> None:
    make_db(tmp_path / "app.db", "wal")
    app = start_app(
        tmp_path,
        """
        import sqlite3
        conn = sqlite3.connect("app.db", isolation_level=None)
        conn.execute("BEGIN")
        conn.execute("SELECT * FROM jobs").fetchall()
        """,
    )
    apps.append(app)

    report = await check_quiet(make_plan(tmp_path, sqlite_source()), settle=SETTLE)

    assert report.quiet, str(report)
    assert f"pid {app.pid} (no writer)" in str(report)


async def test_an_app_writing_a_json_file_during_the_settle_time_makes_it_not_quiet(
    tmp_path: Path, apps: list[subprocess.Popen[str]]
) -> None:
    (tmp_path / "progress.json").write_text('{"done": 0}')
    apps.append(
        start_app(
            tmp_path,
            """
            import json, threading, time
            def write():
                for done in range(1, 400):
                    with open("progress.json", "w") as handle:
                        json.dump({"done": done}, handle)
                    time.sleep(0.05)
            threading.Thread(target=write, daemon=True).start()
            """,
        )
    )
    source = SourceSpec(name="progress", kind="json", path="progress.json")

    report = await check_quiet(make_plan(tmp_path, source), settle=SETTLE)

    assert not report.quiet
    assert report.reasons[0].startswith("progress: progress.json ")
    assert "during the 0.3 s settle time" in report.reasons[0]


async def test_a_quiet_folder_is_quiet(tmp_path: Path) -> None:
    folder = tmp_path / "beats"
    folder.mkdir()
    for name in ("polling", "worker"):
        (folder / f"heartbeat_{name}.txt").write_text("2024-05-01T10:00:00Z")
    source = SourceSpec(name="beats", kind="text", path="beats")

    report = await check_quiet(make_plan(tmp_path, source), settle=SETTLE)

    assert report.quiet
    assert str(report).splitlines()[1].strip() == (
        "quiet      beats (text): 2 files unchanged for 0.3 s"
    )


async def test_a_file_appearing_in_a_folder_source_makes_it_not_quiet(tmp_path: Path) -> None:
    folder = tmp_path / "beats"
    folder.mkdir()
    (folder / "heartbeat_polling.txt").write_text("2024-05-01T10:00:00Z")
    source = SourceSpec(name="beats", kind="text", path="beats")

    def add_file(event: Event) -> None:
        if isinstance(event, SettleCountdown) and event.seconds_left < event.settle / 2:
            (folder / "heartbeat_worker.txt").touch()

    report = await check_quiet(make_plan(tmp_path, source), settle=SETTLE, emit=add_file)

    assert report.reasons == [
        "beats: beats/heartbeat_worker.txt appeared during the 0.3 s settle time"
    ]


async def test_a_pid_file_naming_a_live_process_is_not_quiet(
    tmp_path: Path, apps: list[subprocess.Popen[str]]
) -> None:
    app = start_app(tmp_path, "open('app.pid', 'w').write(str(__import__('os').getpid()))")
    apps.append(app)
    (tmp_path / "settings.json").write_text("{}")
    source = SourceSpec(name="settings", kind="json", path="settings.json")

    report = await check_quiet(make_plan(tmp_path, source, app_lock="app.pid"), settle=SETTLE)

    assert not report.quiet
    [reason] = report.reasons
    assert reason.startswith("app lock: app.pid names ")
    assert f"pid {app.pid}, which is running" in reason
    assert reason.endswith(", which is running: stop the application")


async def test_a_stale_pid_file_is_quiet_with_a_note(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    (tmp_path / "app.pid").write_text(f"{ended.pid}\n")
    (tmp_path / "settings.json").write_text("{}")
    source = SourceSpec(name="settings", kind="json", path="settings.json")

    report = await check_quiet(make_plan(tmp_path, source, app_lock="app.pid"), settle=SETTLE)

    assert report.quiet
    assert report.app_lock is not None
    assert report.app_lock.notes == (
        f"app.pid is stale: pid {ended.pid} is not running (the application left the file behind)",
    )


async def test_a_missing_pid_file_is_quiet(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{}")
    source = SourceSpec(name="settings", kind="json", path="settings.json")

    report = await check_quiet(make_plan(tmp_path, source, app_lock="app.pid"), settle=SETTLE)

    assert report.quiet
    assert "app.pid is absent: the application is stopped" in str(report)


@pytest.fixture
def source_url(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database's URL as a plan holds it: any password moves to the environment."""
    url, password = pgcluster.without_password(pg_url)
    if password is None:
        monkeypatch.delenv("FERRY_SOURCE_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("FERRY_SOURCE_PASSWORD", password)
    return url


async def test_a_pg_session_with_an_open_write_transaction_is_not_quiet(
    tmp_path: Path, pg_url: str, source_url: str
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE TABLE jobs (id integer PRIMARY KEY)")
    app = psycopg.connect(pg_url, application_name="caption-app")
    try:
        app.execute("INSERT INTO jobs VALUES (1)")  # the transaction stays open
        pid = app.info.backend_pid
        source = SourceSpec(name="nas", kind="postgres", url=source_url)

        report = await check_quiet(make_plan(tmp_path, source), settle=SETTLE)
    finally:
        app.rollback()
        app.close()

    assert not report.quiet
    assert report.reasons[0].startswith(
        f"nas: session caption-app pid {pid} holds an open write transaction"
    )


async def test_a_pg_source_without_open_transactions_is_quiet(
    tmp_path: Path, pg_url: str, source_url: str
) -> None:
    with psycopg.connect(pg_url, application_name="caption-app") as idle:
        idle.execute("SELECT 1")
        idle.commit()
        source = SourceSpec(name="nas", kind="postgres", url=source_url)

        report = await check_quiet(make_plan(tmp_path, source), settle=SETTLE)

    assert report.quiet, str(report)


async def test_cancel_during_the_settle_time_raises_cancelled(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{}")
    source = SourceSpec(name="settings", kind="json", path="settings.json")
    cancel = CancelToken()
    asyncio.get_running_loop().call_later(0.2, cancel.cancel)
    began = time.monotonic()

    with pytest.raises(Cancelled, match="waiting for the sources"):
        await check_quiet(make_plan(tmp_path, source), settle=30, cancel=cancel)

    assert time.monotonic() - began < 2


async def test_the_wait_counts_down(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{}")
    source = SourceSpec(name="settings", kind="json", path="settings.json")
    events: list[Event] = []

    await check_quiet(make_plan(tmp_path, source), settle=SETTLE, emit=events.append)

    left = [e.seconds_left for e in events if isinstance(e, SettleCountdown)]
    assert len(left) >= 3
    assert left == sorted(left, reverse=True)
    assert left[-1] == 0


async def test_a_change_after_the_check_is_named(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text('{"a": 1}')
    make_db(tmp_path / "app.db")
    plan = make_plan(
        tmp_path,
        SourceSpec(name="settings", kind="json", path="settings.json"),
        sqlite_source(),
    )
    report = await check_quiet(plan, settle=0.2)
    assert report.quiet
    assert sources_changed_since(report) == []

    (tmp_path / "settings.json").write_text(json.dumps({"a": 2, "b": 3}))

    assert sources_changed_since(report) == [
        "settings: settings.json changed after the quiet check (8 -> 16 bytes)"
    ]


def test_the_app_lock_setting_is_saved_into_the_plan_document(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    path.write_text(
        '# the caption service\nversion = 1\n\n[target]\nurl = "sqlite:///app.db"  # beside\n\n'
        '[[sources]]\nname = "settings"   # the main store\nkind = "json"\npath = "s.json"\n',
        encoding="utf-8",
    )
    plan = load_plan(path)
    plan.cutover.app_lock = "app.pid"

    save_plan(plan, path)

    text = path.read_text(encoding="utf-8")
    assert "# the caption service" in text and "# the main store" in text
    assert load_plan(path).cutover.app_lock == "app.pid"
    assert '[cutover]\napp_lock = "app.pid"' in text
