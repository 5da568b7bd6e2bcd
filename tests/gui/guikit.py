"""Data for the wizard tests: generated JSON sources and plans."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_records(path: Path, rows: int, by_line: bool = False) -> None:
    """A JSON array of ``rows`` records, written in pieces (flat memory); ``by_line``: one
    record per line (what a big file needs to be parsed in worker processes)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for i in range(rows):
            if i:
                handle.write(",")
            if by_line:
                handle.write("\n")
            handle.write(
                json.dumps({"id": i, "name": f"item-{i}", "size": i * 3, "ok": i % 2 == 0})
            )
        handle.write("]")


def write_big_plan(folder: Path, rows: int, batch_size: int = 2000, by_line: bool = False) -> Path:
    """A plan moving ``rows`` generated records into ``app.db`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    write_records(folder / "data" / "items.json", rows, by_line)
    plan = folder / "ferry.toml"
    plan.write_text(
        'version = 1\nname = "big"\n\n[target]\nurl = "sqlite:///app.db"\n\n'
        f"[options]\nbatch_size = {batch_size}\n\n"
        '[[sources]]\nname = "items"\nkind = "json"\npath = "data/items.json"\n'
        'shape = "records"\n\n[[tables]]\nname = "items"\nsource = "items"\nkey = ["id"]\n',
        encoding="utf-8",
    )
    return plan


def walk_demo_pages(wizard: Any, qtbot: Any, folder: Path, visit: Callable[[Any], None]) -> None:
    """Take the demo (copied to ``folder``) through every page; ``visit(page)`` is called on
    each once its work is done (the Backup and Migrate pages: before they start)."""
    from ferry_gui.wizard import PageId

    wait = 120_000

    def settled(page_id: PageId) -> Callable[[], bool]:
        return lambda: wizard.currentId() == page_id and not wizard.runner.busy

    assert wizard.start_page.open_demo(folder)
    visit(wizard.start_page)
    wizard.next()
    visit(wizard.backup_page)
    wizard.backup_page.start_backup()
    qtbot.waitUntil(lambda: wizard.backup_page.isComplete(), timeout=wait)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.connect_page.isComplete(), timeout=wait)
    visit(wizard.connect_page)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.preview_page.isComplete(), timeout=wait)
    visit(wizard.preview_page)
    wizard.next()
    qtbot.waitUntil(settled(PageId.MIGRATE), timeout=wait)
    visit(wizard.migrate_page)
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: wizard.migrate_page.isComplete(), timeout=wait)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.verify_page.isComplete(), timeout=wait)
    visit(wizard.verify_page)
    wizard.next()
    qtbot.waitUntil(settled(PageId.FINISH), timeout=wait)
    visit(wizard.finish_page)


def question_plan(tmp_path: Path) -> Path:
    """``ferry init --target`` on a folder whose target already holds newer rows: a draft
    plan ``tmp_path/ferry.toml`` with one open question, ``orders.conflict``."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from click.testing import CliRunner

    from ferry.cli.command import cli

    folder = tmp_path / "export"
    folder.mkdir()
    at = "2024-03-01T10:00:00Z"
    rows = [{"id": i, "item": f"item {i}", "updated_at": at} for i in (1, 2, 3)]
    (folder / "orders.json").write_text(json.dumps(rows), encoding="utf-8")
    conn = sqlite3.connect(tmp_path / "app.db")
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, updated_at TIMESTAMP)"
    )
    conn.executemany(
        "INSERT INTO orders VALUES (?, ?, ?)",
        [(1, "item 1 (edited)", "2024-03-05 08:00:00"), (2, "item 2 (old)", "2024-02-01")],
    )
    conn.commit()
    conn.close()
    plan = tmp_path / "ferry.toml"
    args = ["init", str(folder), "--target", "sqlite:///app.db", "-o", str(plan)]
    # In a thread of its own: the tests' qasync loop counts as running in this one.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(CliRunner().invoke, cli, args).result()
    assert result.exit_code == 0, result.output
    return plan


def to_preview(qtbot: Any, wizard: Any, plan: Path, wait: int = 120_000) -> None:
    """Open ``plan``, take the backup, test the target, wait for the preview."""
    from ferry_gui.wizard import PageId

    def complete(page_id: PageId) -> Callable[[], bool]:
        return lambda: wizard.currentId() == page_id and wizard.page(page_id).isComplete()

    assert wizard.start_page.open_plan(plan)
    wizard.next()
    wizard.backup_page.start_backup()
    qtbot.waitUntil(complete(PageId.BACKUP), timeout=wait)
    wizard.next()
    qtbot.waitUntil(complete(PageId.CONNECT), timeout=wait)
    wizard.next()
    qtbot.waitUntil(complete(PageId.PREVIEW), timeout=wait)


def migrate_in_wizard(qtbot: Any, wizard: Any, plan: Path, wait: int = 120_000) -> None:
    """Take ``plan`` through the wizard up to the Finish page (migrated and verified)."""
    from ferry_gui.wizard import PageId

    to_preview(qtbot, wizard, plan, wait)
    wizard.next()
    wizard.migrate_page.start_migration()
    qtbot.waitUntil(lambda: wizard.migrate_page.isComplete(), timeout=wait)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.verify_page.isComplete(), timeout=wait)
    assert wizard.verify_result is not None and wizard.verify_result.passed
    wizard.next()
    assert wizard.currentId() == PageId.FINISH


def reopen(qtbot: Any, wizard: Any, plan: Path, page_id: Any, wait: int = 120_000) -> None:
    """Back to Start (a new session), open ``plan`` and go to ``page_id`` off the usual path
    (the run history, the cutover) with its button."""
    from ferry_gui.wizard import PageId

    wizard.restart()
    assert wizard.currentId() == PageId.START
    assert wizard.start_page.open_plan(plan)
    button = {
        PageId.RUNS: wizard.start_page.runs_button,
        PageId.CUTOVER: wizard.start_page.cutover_button,
    }[page_id]
    qtbot.waitUntil(button.isEnabled, timeout=wait)
    button.click()
    assert wizard.currentId() == page_id
