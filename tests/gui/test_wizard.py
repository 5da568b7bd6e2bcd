"""The real wizard, driven page by page offscreen (pytest-qt + a qasync loop)."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from guikit import write_big_plan
from PySide6.QtCore import QTimer

from ferry import CancelToken, FerryError
from ferry.events import TableProgress
from ferry_gui.runner import ErrorDialog, Runner, coalesce
from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        value: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return value


def complete(wizard: FerryWizard, page: PageId) -> bool:
    return wizard.currentId() == page and wizard.page(page).isComplete()


def test_the_demo_goes_through_every_page_into_sqlite(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    assert wizard.start_page.open_demo(folder)
    assert wizard.start_page.sources.rowCount() == 5
    wizard.next()
    assert wizard.currentId() == PageId.BACKUP
    wizard.backup_page.start_backup()
    qtbot.waitUntil(lambda: complete(wizard, PageId.BACKUP), timeout=WAIT)
    assert wizard.backup is not None
    assert (wizard.backup.path / "manifest.json").is_file()
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.CONNECT), timeout=WAIT)
    assert wizard.check_report is not None and wizard.check_report.server.startswith("SQLite")
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.PREVIEW), timeout=WAIT)
    assert not (folder / "app.db").exists() or count(folder / "app.db", "sqlite_master") == 0
    assert wizard.preview_page.counts.rowCount() == 6
    diffs = wizard.preview_page.diffs.rows
    assert (len(diffs), {row[2] for row in diffs}) == (4, {"conflict"})
    wizard.next()
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: complete(wizard, PageId.MIGRATE), timeout=WAIT)
    assert wizard.run_result is not None and wizard.run_result.backup_id == wizard.backup.id
    assert wizard.migrate_page.overall.value() == wizard.migrate_page.overall.maximum()
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.VERIFY), timeout=WAIT)
    assert wizard.verify_result is not None and wizard.verify_result.verdict == "PASS"
    assert wizard.verify_page.verdict.text() == "PASS"
    wizard.next()
    assert wizard.currentId() == PageId.FINISH
    assert "PASS" in wizard.finish_page.summary.toPlainText()
    db = folder / "app.db"
    assert {t: count(db, t) for t in ("settings", "executions", "execution_steps")} == {
        "settings": 13,
        "executions": 35,
        "execution_steps": 129,
    }
    assert (count(db, "progress"), count(db, "heartbeats")) == (3, 2)


def test_the_demo_is_copied_never_written_inside_the_package(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    from ferry.demo import demo_source

    before = sorted(p.name for p in demo_source().rglob("*"))
    assert wizard.start_page.open_demo(tmp_path / "copy")
    assert wizard.plan_path == (tmp_path / "copy" / "ferry.toml").resolve()
    assert sorted(p.name for p in demo_source().rglob("*")) == before
    assert str(wizard.plan_path) in wizard.recent_plans()


def test_cancel_in_the_middle_leaves_the_target_unchanged(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "big", 150_000, batch_size=1000)
    db = tmp_path / "big" / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE keep (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO keep VALUES (1, 'before')")
    before = sha256(db)
    assert wizard.start_page.open_plan(plan)
    wizard.backup_skipped = True
    page = wizard.migrate_page
    assert page.start_migration()
    qtbot.waitUntil(
        lambda: "items" in page.lines and page.lines["items"].done >= 5_000, timeout=WAIT
    )
    assert wizard.runner.busy
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert "rolled back" in page.status.text()
    assert wizard.run_result is None
    assert not page.isComplete()
    assert sha256(db) == before
    assert count(db, "keep") == 1


def test_closing_during_a_migration_asks_then_cancels(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = write_big_plan(tmp_path / "big", 100_000, batch_size=1000)
    assert wizard.start_page.open_plan(plan)
    wizard.backup_skipped = True
    asked: list[bool] = []

    def confirm() -> bool:
        asked.append(True)
        return True

    monkeypatch.setattr(wizard, "confirm_stop", confirm)
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: "items" in wizard.migrate_page.lines, timeout=WAIT)
    wizard.close()
    assert asked == [True]
    assert wizard.isVisible()  # still closing: the cancel is rolling back
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
    assert not wizard.runner.busy
    assert wizard.run_result is None
    db = tmp_path / "big" / "app.db"
    assert not db.exists() or "items" not in {
        r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")
    }


def test_an_engine_error_shows_the_error_dialog(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "ferry.toml").write_text(
        'version = 1\n[[sources]]\nname = "jobs"\nkind = "json"\npath = "missing.json"\n'
        '[[tables]]\nname = "jobs"\nsource = "jobs"\n',
        encoding="utf-8",
    )
    assert wizard.start_page.open_plan(folder / "ferry.toml")
    wizard.preview_page.start_preview()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    dialog = wizard.runner.last_dialog
    assert isinstance(dialog, ErrorDialog)
    assert dialog.isVisible() and not dialog.isModal()
    assert "missing.json" in dialog.text()
    assert wizard.preview_result is None
    assert not wizard.preview_page.isComplete()
    assert wizard.isVisible()


def test_an_unexpected_exception_shows_its_traceback_and_the_app_lives_on(
    qtbot: Any, qloop: Any
) -> None:
    runner = Runner()
    outcomes: list[str] = []
    runner.failed.connect(lambda job, exc: outcomes.append(f"{job}: {type(exc).__name__}"))

    async def boom(emit: Any, cancel: CancelToken) -> None:
        raise KeyError("oops")

    runner.start("boom", boom)
    qtbot.waitUntil(lambda: outcomes == ["boom: KeyError"], timeout=WAIT)
    dialog = runner.last_dialog
    assert dialog is not None
    assert dialog.text().startswith("Unexpected error: KeyError")
    assert "Traceback" in dialog.detailedText() and "boom" in dialog.detailedText()
    dialog.close()

    async def refuse(emit: Any, cancel: CancelToken) -> None:
        raise FerryError("the file x.json is broken", hint="Fix it.", details="line 3")

    runner.start("refuse", refuse)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=WAIT)
    assert runner.last_dialog is not None
    assert (runner.last_dialog.text(), runner.last_dialog.informativeText()) == (
        "the file x.json is broken",
        "Fix it.",
    )
    assert runner.last_dialog.detailedText() == "line 3"
    runner.last_dialog.close()


def test_progress_events_are_coalesced_per_table() -> None:
    events = [
        TableProgress("a", 1, 10, 1.0),
        TableProgress("b", 1, 10, 1.0),
        TableProgress("a", 2, 10, 1.0),
        TableProgress("a", 3, 10, 1.0),
    ]
    assert coalesce(list(events)) == [events[1], events[3]]


def test_events_reach_the_gui_at_about_ten_per_second(qtbot: Any, qloop: Any) -> None:
    import asyncio

    runner = Runner()
    batches: list[int] = []
    runner.events.connect(lambda events: batches.append(len(events)))

    async def chatty(emit: Any, cancel: CancelToken) -> None:
        for i in range(2_000):
            emit(TableProgress("t", i, 2_000, 1.0))
            if i % 50 == 0:
                await asyncio.sleep(0.01)

    started = time.perf_counter()
    runner.start("chatty", chatty)
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT)
    seconds = time.perf_counter() - started
    assert batches and all(n == 1 for n in batches)
    assert len(batches) <= seconds * 10 + 2


def _sqlite_big_plan(folder: Path, rows: int, target_url: str) -> Path:
    """A plan moving ``rows`` rows of a SQLite table (the benchmark's shape, smaller)."""
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "source.db")
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT, at DATETIME, score REAL, "
        "note TEXT)"
    )
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?, ?)",
            (
                (
                    i,
                    f"title {i} naïve",
                    f"2024-05-01T10:{i % 60:02d}:00.{i % 999:03d}+02:00",
                    i / 7,
                    "x" * (i % 300),
                )
                for i in range(1, rows + 1)
            ),
        )
    db.close()
    plan = folder / "ferry.toml"
    plan.write_text(
        f'version = 1\nname = "big"\n\n[target]\nurl = "{target_url}"\n\n'
        '[[sources]]\nname = "app"\nkind = "sqlite"\npath = "source.db"\n\n'
        '[[tables]]\nname = "items"\nsource = "app.items"\nkey = ["id"]\n',
        encoding="utf-8",
    )
    return plan


def test_the_event_loop_never_stalls_during_a_200k_row_migration(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    plan = write_big_plan(tmp_path / "big", 200_000, batch_size=5000)
    worst, own = _measure_stalls(qtbot, wizard, plan)
    assert count(tmp_path / "big" / "app.db", "items") == 200_000
    print(
        f"\nworst event-loop stall during a 200k-row JSON migration: {worst * 1000:.0f} ms; "
        f"most CPU the GUI thread itself used between two beats: {own * 1000:.0f} ms"
    )
    assert worst < 1.0  # gross blocking (a busy machine adds waits for a CPU)
    assert own < 0.1  # the loop's own work: slots, painting, engine steps on the loop


def test_the_event_loop_never_stalls_while_workers_parse_a_200k_row_json_file(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ferry.load.inworker

    # one record per line: parsed and mapped in worker processes (at any size, here)
    monkeypatch.setattr(ferry.load.inworker, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(ferry.load.inworker, "idle_cores", lambda: 2.0)  # a loaded test machine
    plan = write_big_plan(tmp_path / "big", 200_000, batch_size=5000, by_line=True)
    worst, own = _measure_stalls(qtbot, wizard, plan)
    assert count(tmp_path / "big" / "app.db", "items") == 200_000
    assert wizard.run_result is not None
    assert wizard.run_result.tables[0].decision.in_worker
    print(
        f"\nworst event-loop stall while workers parse a 200k-row JSON file: "
        f"{worst * 1000:.0f} ms; most CPU the GUI thread itself used between two beats: "
        f"{own * 1000:.0f} ms"
    )
    assert worst < 1.0
    assert own < 0.1


def test_the_event_loop_never_stalls_during_a_200k_row_sqlite_to_postgres_run(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE items (id BIGINT PRIMARY KEY, title TEXT, at TIMESTAMPTZ, "
            "score DOUBLE PRECISION, note TEXT)"
        )
    plan = _sqlite_big_plan(tmp_path / "big", 200_000, pg_url)
    worst, own = _measure_stalls(qtbot, wizard, plan)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM items").fetchone() == (200_000,)
    assert wizard.run_result is not None
    assert wizard.run_result.tables[0].mapped_by_sqlite == 200_000
    print(
        f"\nworst event-loop stall during a 200k-row SQLite→PostgreSQL migration: "
        f"{worst * 1000:.0f} ms; most CPU the GUI thread itself used between two beats: "
        f"{own * 1000:.0f} ms"
    )
    assert worst < 1.0
    assert own < 0.1


def _measure_stalls(qtbot: Any, wizard: FerryWizard, plan: Path) -> tuple[float, float]:
    """Migrate ``plan`` in the wizard; the worst gap between two beats of a 20 ms timer and
    the most CPU the GUI thread itself used in one."""
    assert wizard.start_page.open_plan(plan)
    wizard.backup_skipped = True
    gaps: list[float] = []  # wall time between two beats of a 20 ms timer
    busy: list[float] = []  # CPU time the GUI thread itself spent in that interval
    last = [time.perf_counter(), time.thread_time()]

    def beat() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append(now - last[0])
        busy.append(cpu - last[1])
        last[:] = [now, cpu]

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(beat)
    timer.start()
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=300_000)
    timer.stop()
    assert wizard.run_result is not None
    return max(gaps), max(busy)


@pytest.mark.pg
def test_a_json_folder_goes_into_postgresql(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    import json

    import psycopg
    from sqlalchemy.engine import make_url

    folder = tmp_path / "state"
    folder.mkdir()
    users = [{"id": i, "name": f"user {i}", "active": i % 3 != 0} for i in range(1, 51)]
    (folder / "users.json").write_text(json.dumps(users), encoding="utf-8")
    (folder / "settings.json").write_text(json.dumps({"theme": "dark", "n": 3}), "utf-8")
    assert wizard.start_page.create_from_folder(folder)
    qtbot.waitUntil(lambda: wizard.plan is not None and not wizard.runner.busy, timeout=WAIT)
    assert wizard.start_page.sources.rowCount() == 2
    assert 50 in [row[4] for row in wizard.start_page.sources.rows]
    wizard.next()
    wizard.backup_page.start_backup()
    qtbot.waitUntil(lambda: complete(wizard, PageId.BACKUP), timeout=WAIT)
    wizard.next()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    connect = wizard.connect_page
    url = make_url(pg_url)
    connect.pg_radio.setChecked(True)
    query_host = url.query.get("host")
    connect.host.setText(url.host or (query_host if isinstance(query_host, str) else ""))
    connect.port.setValue(url.port or 5432)
    connect.database.setText(url.database or "")
    connect.user.setText(url.username or "")
    connect.password.setText(url.password or "")
    assert connect.test_connection()
    qtbot.waitUntil(lambda: complete(wizard, PageId.CONNECT), timeout=WAIT)
    assert connect.report is not None and connect.report.server.startswith("PostgreSQL")
    assert wizard.plan_path is not None
    assert "password" not in wizard.plan_path.read_text() or url.password is None
    assert "postgresql://" in wizard.plan_path.read_text()
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.PREVIEW), timeout=WAIT)
    wizard.next()
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: complete(wizard, PageId.MIGRATE), timeout=WAIT)
    assert wizard.backup is not None  # the changed target was backed up again first
    wizard.next()
    qtbot.waitUntil(lambda: complete(wizard, PageId.VERIFY), timeout=WAIT)
    assert wizard.verify_result is not None and wizard.verify_result.verdict == "PASS"
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT count(*), count(*) FILTER (WHERE active) FROM users")
        assert rows.fetchone() == (50, 34)


def test_a_failed_verification_offers_the_rollback_and_it_restores_the_backup(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    folder = tmp_path / "demo"
    assert wizard.start_page.open_demo(folder)
    assert wizard.backup_page.start_backup()
    qtbot.waitUntil(lambda: wizard.backup is not None and not wizard.runner.busy, timeout=WAIT)
    assert wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: wizard.run_result is not None and not wizard.runner.busy, timeout=WAIT)
    db = folder / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM heartbeats WHERE service_name = 'manual'")
    page = wizard.verify_page
    assert page.start_verify()
    qtbot.waitUntil(lambda: wizard.verify_result is not None and not wizard.runner.busy)
    assert wizard.verify_result is not None and wizard.verify_result.verdict == "FAIL"
    assert page.verdict.text() == "FAIL"
    assert not page.rollback_button.isHidden()
    assert page.start_rollback()
    qtbot.waitUntil(lambda: wizard.rollback_result is not None, timeout=WAIT)
    assert "Rolled back to backup " + wizard.backup.id in page.status.text()  # type: ignore[union-attr]
    assert not db.exists() or count(db, "sqlite_master") == 0


def test_a_table_bar_ends_full_when_the_source_estimate_was_high(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # A run estimates a SQLite table's rows by its rowid span (here 100 for 11 rows).
    folder = tmp_path / "gaps"
    plan = _sqlite_big_plan(folder, 100, f"sqlite:///{folder / 'out.db'}")
    db = sqlite3.connect(folder / "source.db")
    with db:
        db.execute("DELETE FROM items WHERE id BETWEEN 2 AND 90")
    db.close()
    assert wizard.start_page.open_plan(plan)
    wizard.backup_skipped = True
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert wizard.run_result is not None and wizard.run_result.tables[0].rows_read == 11
    overall = wizard.migrate_page.overall
    assert (overall.value(), overall.maximum()) == (11, 11)
