"""The next table's whole-copy check, started while the previous table is copied
(ferry.targets.sqlitecheck.start_check), gives what the row-by-row load gives.

Real SQLite files, each run compared with ``native = false`` (test_whole_copy's helpers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_whole_copy import (
    break_text,
    copies,
    good_rows,
    same_as_python,
    side_checks,
    source_db,
    whole_plan,
)

from ferry.targets import sqlitecheck, sqlitecopy

__all__ = ["copies", "side_checks"]  # fixtures


@pytest.fixture
def order(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """("check", table) when a table's check starts, ("copied", table) when its copy ends."""
    seen: list[tuple[str, str]] = []
    start, copy_whole = sqlitecheck.start_side_check, sqlitecopy.copy_whole

    async def started(driver: Any, copy: sqlitecopy.WholeCopy, *rest: Any) -> Any:
        seen.append(("check", copy.table))
        return await start(driver, copy, *rest)

    async def copied(driver: Any, conn: Any, copy: sqlitecopy.WholeCopy, *rest: Any) -> Any:
        try:
            return await copy_whole(driver, conn, copy, *rest)
        finally:
            seen.append(("copied", copy.table))

    from ferry.targets import sqlite as sqlite_target

    monkeypatch.setattr(sqlitecheck, "start_side_check", started)
    monkeypatch.setattr(sqlite_target, "copy_whole", copied)
    return seen


def test_the_next_tables_check_starts_before_the_previous_table_is_copied(
    tmp_path: Path, order: list[tuple[str, str]]
) -> None:
    same_as_python(tmp_path, source_db(tmp_path, *good_rows(50)))
    # steps' check is started once, beside content's copy, and taken by steps' copy
    assert order == [
        ("check", "steps"),
        ("check", "content"),
        ("copied", "content"),
        ("copied", "steps"),
    ]


@pytest.mark.parametrize("row_id", [1, 75, 150])
def test_text_that_is_not_utf8_in_the_table_checked_ahead_undoes_its_copy(
    tmp_path: Path, copies: dict[str, Any], side_checks: list[Any], row_id: int
) -> None:
    source = source_db(tmp_path, *good_rows(50))
    break_text(source, "steps", "step", row_id)
    same_as_python(tmp_path, source)
    assert copies == {"content": sqlitecopy.Copied(50, True), "steps": None}
    assert len(side_checks) == 2 and None not in side_checks  # steps' was the one ahead


def test_a_cancel_during_the_first_copy_stops_the_check_started_ahead(
    tmp_path: Path, side_checks: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ferry import Cancelled, CancelToken

    cancel = CancelToken()
    checked = sqlitecheck.all_utf8

    def check_then_cancel(joined: Any) -> bool:
        cancel.cancel()  # while content's check runs: steps' waits for it to end
        return checked(joined)

    monkeypatch.setattr(sqlitecheck, "all_utf8", check_then_cancel)
    target = tmp_path / "target.db"
    plan = whole_plan(target, source_db(tmp_path, *good_rows(50)), tmp_path)
    with pytest.raises(Cancelled):
        asyncio.run(migrate_in(plan, cancel))
    assert len(side_checks) == 2
    ahead = side_checks[0]
    assert ahead.stop.is_set() and all(part.done() for part in ahead.parts)
    assert not target.exists()


async def migrate_in(plan: Any, cancel: Any) -> Any:
    from ferry.migrate import migrate

    return await migrate(plan, cancel=cancel, write_reports=False)
