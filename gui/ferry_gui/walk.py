"""Walk the demo through every page by itself, saving one screenshot per page: the usual path,
then a second session keeping the demo in sync, cutting over, and the run history."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QWidget

from ferry import save_plan
from ferry.api import draft_comments, rebase_paths, scan

from .pages.preview import INSERTS_TAB
from .wizard import FerryWizard, PageId
from .workspacechoice import WorkspaceDialog

SHOTS = [
    "01-start",
    "02-backup",
    "03-connect",
    "04-preview",
    "05-migrate",
    "06-verify",
    "07-finish",
    "09-column-editor",
    "10-source-rows",
    "11-inserts",
    "12-questions",
    "13-workspace",
    "14-connect-postgres",
    "15-sync",
    "16-cutover",
    "17-runs",
]


class WalkError(RuntimeError):
    """A page did not complete (the wizard shows why)."""


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` on the event loop until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise WalkError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def settle() -> None:
    """Let layouts and repaints happen. (The qasync loop processes Qt events while this
    sleeps; calling processEvents() from a coroutine would step other tasks re-entrantly.)"""
    await asyncio.sleep(0.3)


async def walk_demo(wizard: FerryWizard, folder: Path, shots: Path | None) -> list[Path]:
    """Open the demo copied into ``folder``, back up, connect, preview, migrate, verify."""
    saved: list[Path] = []
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)

    async def shoot(index: int, widget: QWidget | None = None) -> None:
        await settle()
        if shots is not None:
            path = shots / f"{SHOTS[index]}.png"
            if not (widget or wizard).grab().save(str(path)):
                raise WalkError(f"cannot write {path}")
            saved.append(path)

    def complete(page_id: PageId) -> Callable[[], bool]:
        return lambda: wizard.currentId() == page_id and wizard.page(page_id).isComplete()

    # A draft with an open question first: the Start page's Questions tab.
    question_plan = await asyncio.to_thread(draft_question_plan, folder / "questions")
    if not wizard.start_page.open_plan(question_plan):
        raise WalkError("the draft with a question could not be opened")
    await shoot(SHOTS.index("12-questions"))
    if not wizard.start_page.open_demo(folder):
        raise WalkError("the demo could not be opened")
    describing = wizard.start_page.describing
    await wait_for(lambda: describing is None or describing.done(), "the sources' row counts")
    await shoot(0)
    # "Create from a folder"'s question, for the demo's data folder (shown, nothing scanned)
    dialog = WorkspaceDialog(folder / "data", wizard)
    dialog.show()
    await shoot(SHOTS.index("13-workspace"), dialog)
    dialog.close()
    wizard.next()
    await wait_for(lambda: wizard.currentId() == PageId.BACKUP, "the backup page")
    wizard.backup_page.start_backup()
    await wait_for(complete(PageId.BACKUP), "the backup")
    await shoot(1)
    wizard.next()
    await wait_for(complete(PageId.CONNECT), "the connection test")
    await shoot(2)
    await show_postgres_form(wizard, shoot)
    await wait_for(complete(PageId.CONNECT), "the connection test, again")
    wizard.next()
    await wait_for(complete(PageId.PREVIEW), "the preview")
    await shoot(3)
    await show_columns(wizard, shoot)
    wizard.next()
    wizard.migrate_page.start_migration()
    await wait_for(complete(PageId.MIGRATE), "the migration")
    await shoot(4)
    wizard.next()
    await wait_for(complete(PageId.VERIFY), "the verification")
    await shoot(5)
    wizard.next()
    await wait_for(lambda: wizard.currentId() == PageId.FINISH, "the finish page")
    await shoot(6)
    await show_sync_cutover_runs(wizard, folder, shoot)
    return saved


async def show_sync_cutover_runs(
    wizard: FerryWizard, folder: Path, shoot: Callable[..., Any]
) -> None:
    """The demo again, in a new session: "Keep in sync" (the app writes a heartbeat between
    cycles), the cutover, then the run history from Start."""
    plan_path = wizard.plan_path
    if plan_path is None:
        raise WalkError("no plan is open")

    def complete(page_id: PageId) -> Callable[[], bool]:
        return lambda: wizard.currentId() == page_id and wizard.page(page_id).isComplete()

    wizard.restart()
    if not wizard.start_page.open_plan(plan_path):
        raise WalkError("the demo could not be opened again")
    wizard.next()
    await wait_for(lambda: wizard.currentId() == PageId.BACKUP, "the backup page")
    wizard.backup_page.start_backup()
    await wait_for(complete(PageId.BACKUP), "the backup")
    wizard.next()
    await wait_for(complete(PageId.CONNECT), "the connection test")
    wizard.next()
    await wait_for(complete(PageId.PREVIEW), "the preview")
    wizard.next()
    page = wizard.migrate_page
    page.sync_box.setChecked(True)
    page.every.set_seconds(1)
    if not page.start_migration():
        raise WalkError("the sync did not start")
    await wait_for(lambda: len(page.seen_cycles) >= 2, "two sync cycles")
    heartbeat = folder / "data" / "heartbeat_polling.txt"
    heartbeat.write_text("2024-03-01T10:05:00Z\n", encoding="utf-8")  # the app still writes
    await wait_for(lambda: len(page.seen_cycles) >= 4, "four sync cycles")
    page.cancel_job()
    await wait_for(complete(PageId.MIGRATE), "the sync to stop")
    await shoot(SHOTS.index("15-sync"))
    wizard.next()
    cutover = wizard.cutover_page
    cutover.settle.set_seconds(1)
    cutover.check_sources()
    await wait_for(lambda: not wizard.runner.busy, "the quiet check")
    if not cutover.start_cutover():
        raise WalkError("the cutover did not start")
    await wait_for(lambda: not wizard.runner.busy, "the cutover")
    if wizard.cutover_result is None:
        raise WalkError("the cutover was refused")
    await shoot(SHOTS.index("16-cutover"))
    wizard.restart()
    if not wizard.start_page.open_plan(plan_path) or not wizard.go_to(PageId.RUNS):
        raise WalkError("the run history could not be opened")
    runs = wizard.runs_page
    await wait_for(lambda: bool(runs.records) and not wizard.runner.busy, "the run history")
    await shoot(SHOTS.index("17-runs"))


async def show_postgres_form(wizard: FerryWizard, shoot: Callable[..., Any]) -> None:
    """The Connect page's PostgreSQL fields (shown, nothing connects), then back to the
    demo's SQLite file, tested again."""
    page = wizard.connect_page
    page.pg_radio.setChecked(True)
    page.database.setText("app")
    page.user.setText("ferry")
    await shoot(SHOTS.index("14-connect-postgres"))
    page.sqlite_radio.setChecked(True)
    page.test_connection()


async def show_columns(wizard: FerryWizard, shoot: Callable[..., Any]) -> None:
    """The Preview page's extras: the column editor of a nested table, its source's rows,
    and the Inserts tab."""
    page = wizard.preview_page
    names = [page.mapping.text(r, 1) for r in range(page.mapping.rowCount())]
    dialog = page.open_columns(names.index("execution_steps") if "execution_steps" in names else 0)
    if dialog is None:
        raise WalkError("the column editor did not open")
    await wait_for(lambda: dialog.loaded, "the source rows")
    await shoot(SHOTS.index("09-column-editor"), dialog)
    dialog.tabs.setCurrentIndex(1)
    await shoot(SHOTS.index("10-source-rows"), dialog)
    dialog.close()
    page.tabs.setCurrentIndex(INSERTS_TAB)
    await shoot(SHOTS.index("11-inserts"))
    page.tabs.setCurrentIndex(0)


def draft_question_plan(folder: Path) -> Path:
    """Write a small export and an app database that already holds some of its rows (one
    edited after the export) into ``folder``, and draft a plan as ``ferry init --target``
    does: it asks whether the target's newer rows are kept."""
    export = folder / "export"
    export.mkdir(parents=True, exist_ok=True)
    orders = [
        {"id": i, "item": item, "updated_at": "2024-03-01T10:00:00Z"}
        for i, item in enumerate(["disc", "case", "label", "sleeve"], start=1)
    ]
    (export / "orders.json").write_text(json.dumps(orders), encoding="utf-8")
    database = folder / "app.db"
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, updated_at TIMESTAMP)"
        )
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?)",
            [
                (1, "disc (edited)", "2024-03-05 08:00:00"),
                (2, "case (edited)", "2024-03-04 08:00:00"),
                (3, "label (old)", "2024-02-01 08:00:00"),
            ],
        )
    conn.close()
    result = scan(export, target="sqlite:///app.db", plan_dir=folder)
    rebase_paths(result.plan, folder)
    plan = folder / "ferry.toml"
    save_plan(result.plan, plan, draft_comments(result, export))
    return plan
