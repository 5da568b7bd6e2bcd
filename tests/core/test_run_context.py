"""The run context (ferry.runcontext) every operation shares: warnings with their caps, steps
as typed events, rejects, opening the plan's sources with their watch, writing the report.

Real files throughout: JSON Lines and SQLite sources written in tmp_path, SQLite targets.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ferry.errors import PlanError, RejectedRowsError
from ferry.events import Event, RowRejected, RunWarning, StepFinished, StepStarted
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.results import RunResult
from ferry.runcontext import (
    MAX_KEPT_REJECTS,
    MAX_WARNINGS_PER_KIND,
    NoticeRecord,
    RunContext,
)
from ferry.verify.run import verify

FOLDED = "(further warnings of this kind not shown)"


def write_plan(folder: Path, body: str, rows: list[dict[str, object]] | None = None) -> Plan:
    """A plan in ``folder`` reading ``items.jsonl`` (``rows``) into ``app.db``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(row) for row in rows or [{"id": 1, "qty": 2}]]
    (folder / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = f"""name = "items"

[target]
url = "sqlite:///app.db"

[[sources]]
name = "items"
kind = "jsonl"
path = "items.jsonl"

{body}
"""
    (folder / "ferry.toml").write_text(text, encoding="utf-8")
    return load_plan(folder / "ferry.toml")


ONE_TABLE = """[[tables]]
name = "items"
source = "items"
key = ["id"]
"""


def sqlite_source_plan(folder: Path, tables: str) -> Plan:
    """A plan reading ``src.db`` (one table ``t``) into ``app.db``."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "src.db")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    conn.commit()
    conn.close()
    (folder / "ferry.toml").write_text(
        f"""name = "src"

[target]
url = "sqlite:///app.db"

[[sources]]
name = "src"
kind = "sqlite"
path = "src.db"

{tables}
""",
        encoding="utf-8",
    )
    return load_plan(folder / "ferry.toml")


def open_handles(path: Path) -> int:
    """How many of this process's file descriptors point at ``path`` (Linux /proc)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path):
                count += 1
        except OSError:
            continue
    return count


# -- warnings ----------------------------------------------------------------------------------


def test_the_warning_after_the_cap_of_its_kind_is_folded_and_later_ones_counted(
    tmp_path: Path,
) -> None:
    events: list[Event] = []
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), events.append, kind="verify")
    for number in range(MAX_WARNINGS_PER_KIND + 5):
        ctx.warn(f"row {number} is odd", "items", kind="odd")
    ctx.warn("another kind", "items")

    shown = [f"row {n} is odd" for n in range(MAX_WARNINGS_PER_KIND)]
    folded = f"row {MAX_WARNINGS_PER_KIND} is odd {FOLDED}"
    assert ctx.warnings == [*shown, folded, "another kind"]
    emitted = [e.message for e in events if isinstance(e, RunWarning)]
    assert emitted == [*shown, "another kind"]  # the folded one is kept, not emitted
    assert ctx.warning_counts == {"odd": MAX_WARNINGS_PER_KIND + 5, "another kind": 1}


def test_a_warning_without_a_kind_is_capped_by_its_message(tmp_path: Path) -> None:
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE))
    for _ in range(MAX_WARNINGS_PER_KIND + 3):
        ctx.warn("same")
    assert ctx.warnings == ["same"] * MAX_WARNINGS_PER_KIND + [f"same {FOLDED}"]


def test_warnings_go_to_the_record_bound_last_with_its_counts(tmp_path: Path) -> None:
    first, second = NoticeRecord(), NoticeRecord()
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), record=first)
    ctx.warn("one", kind="k")
    ctx.bind(second)  # a run starting over from a copy of its result
    ctx.warn("two", kind="k")
    assert first.warnings == ["one"]
    assert second.warnings == ["two"]
    assert ctx.warning_counts == {"k": 1}


def test_value_warnings_of_a_table_share_one_cap(tmp_path: Path) -> None:
    events: list[Event] = []
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), events.append)
    warn = ctx.value_warner("items")
    for number in range(MAX_WARNINGS_PER_KIND + 2):
        warn(f"items: row id={number}, bad value", f"id={number}")
    assert len(ctx.warnings) == MAX_WARNINGS_PER_KIND + 1
    first = next(e for e in events if isinstance(e, RunWarning))
    assert (first.table, first.key) == ("items", "id=0")


async def test_the_same_cap_applies_in_migrate_and_verify(tmp_path: Path) -> None:
    # migrate: one value warning per row (a cast failing with on_error = "warn")
    rows = [{"id": n, "qty": "many"} for n in range(MAX_WARNINGS_PER_KIND + 5)]
    body = (
        ONE_TABLE
        + '[tables.columns.qty]\nfrom = "qty"\ncast = "integer"\non_error = "warn"\nfallback = 0\n'
    )
    plan = write_plan(tmp_path / "migrate", body, rows)
    result = await migrate(plan, write_reports=False)
    values = [w for w in result.warnings if w.startswith("items: row")]
    assert len(values) == MAX_WARNINGS_PER_KIND + 1
    assert values[-1].endswith(FOLDED)

    # verify: the same message once per table spec of a table the target lacks
    specs = "".join(
        f'[[tables]]\nname = "items"\nsource = "items"\nkey = ["id"]\n'
        f"columns.n{n} = {{ const = {n} }}\n\n"
        for n in range(MAX_WARNINGS_PER_KIND + 3)
    )
    plan = write_plan(tmp_path / "verify", specs)
    sqlite3.connect(plan.base_dir / "app.db").close()  # an empty target
    checked = await verify(plan, write_reports=False)
    missing = [w for w in checked.warnings if w.startswith("table items is missing")]
    assert len(missing) == MAX_WARNINGS_PER_KIND + 1
    assert missing[-1] == f"table items is missing in the target {FOLDED}"


# -- steps -------------------------------------------------------------------------------------


def test_steps_are_events_in_order_with_their_durations(tmp_path: Path) -> None:
    events: list[Event] = []
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), events.append)
    with ctx.step("backup", "into /b") as step:
        time.sleep(0.02)
        ctx.step_detail("backup", "source a.db")
        step.done_detail = "20261206T000000Z-abcdef"
    started = ctx.step_started("read")
    time.sleep(0.01)
    ctx.step_done("read", started, "2 tables")

    assert [type(e).__name__ for e in events] == [
        "StepStarted",
        "StepStarted",
        "StepFinished",
        "StepStarted",
        "StepFinished",
    ]
    assert events[0] == StepStarted("backup", "into /b")
    assert events[1] == StepStarted("backup", "source a.db")
    finished = [e for e in events if isinstance(e, StepFinished)]
    assert [(e.step, e.detail) for e in finished] == [
        ("backup", "20261206T000000Z-abcdef"),
        ("read", "2 tables"),
    ]
    assert finished[0].seconds >= 0.02
    assert finished[1].seconds >= 0.01


def test_a_step_that_fails_has_no_finish(tmp_path: Path) -> None:
    events: list[Event] = []
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), events.append)
    with pytest.raises(PlanError), ctx.step("schema"):
        raise PlanError("no")
    assert events == [StepStarted("schema", "")]


# -- rejects -----------------------------------------------------------------------------------


def test_rejects_are_all_counted_and_the_first_kept_whole(tmp_path: Path) -> None:
    events: list[Event] = []
    moment = datetime.now(UTC)
    now = RunResult("r", "p", "h", "migrate", "running", "", moment, moment)
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), events.append, record=now)
    asked: list[int] = []

    def key_values(n: int) -> dict[str, object]:
        asked.append(n)
        return {"id": n}

    for n in range(MAX_KEPT_REJECTS + 3):
        ctx.reject("items", f"id={n}", "bad", {"id": n}, "transform", lambda n=n: key_values(n))
    assert now.rejected_total == MAX_KEPT_REJECTS + 3
    assert len(now.rejects) == MAX_KEPT_REJECTS
    assert now.rejects[0].key_values == {"id": 0}
    assert len(asked) == MAX_KEPT_REJECTS  # the key values of a row not kept are not made
    assert sum(isinstance(e, RowRejected) for e in events) == MAX_KEPT_REJECTS


def test_a_run_without_rejects_refuses_one(tmp_path: Path) -> None:
    class Warnings:
        def __init__(self) -> None:
            self.warnings: list[str] = []

    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), kind="verify", record=Warnings())
    with pytest.raises(TypeError):
        ctx.reject("items", "id=1", "bad", {})


# -- sources -----------------------------------------------------------------------------------


async def test_sources_open_with_a_watch_and_close(tmp_path: Path) -> None:
    plan = sqlite_source_plan(tmp_path, '[[tables]]\nname = "t"\nsource = "src.t"\nkey = ["id"]\n')
    source = tmp_path / "src.db"
    ctx = RunContext(plan)
    await ctx.open_sources()
    assert set(ctx.readers) == {"src"}
    assert "src.t" in ctx.source_tables
    assert ctx.watch is not None
    assert ctx.watch.fingerprint("src", racy_seconds=0) is not None
    assert ctx.watch.changes() == []
    ctx.readers["src"].describe()  # the reader holds the file open
    assert open_handles(source) >= 1

    await ctx.open_sources()  # opening again closes the readers opened before
    ctx.close_sources()
    ctx.close_sources()  # twice is fine
    assert ctx.readers == {}
    assert open_handles(source) == 0


async def test_sources_opened_are_closed_when_opening_fails(tmp_path: Path) -> None:
    tables = (
        '[[tables]]\nname = "t"\nsource = "src.t"\nkey = ["id"]\n\n'
        '[[tables]]\nname = "u"\nsource = "src.nowhere"\nkey = ["id"]\n'
    )
    plan = sqlite_source_plan(tmp_path, tables)
    ctx = RunContext(plan)
    with pytest.raises(PlanError, match=r"src\.nowhere"):
        await ctx.open_sources()
    assert ctx.readers == {}
    assert open_handles(tmp_path / "src.db") == 0


async def test_a_failed_migration_leaves_no_source_open(tmp_path: Path) -> None:
    plan = sqlite_source_plan(
        tmp_path,
        '[[tables]]\nname = "t"\nsource = "src.t"\nkey = ["id"]\non_reject = "stop"\n'
        '[tables.columns.name]\nfrom = "name"\ncast = "integer"\n',
    )
    with pytest.raises(RejectedRowsError):
        await migrate(plan, write_reports=False)
    assert open_handles(tmp_path / "src.db") == 0


# -- the report --------------------------------------------------------------------------------


def test_a_report_that_cannot_be_written_is_a_warning(tmp_path: Path) -> None:
    events: list[Event] = []
    plan = write_plan(tmp_path, ONE_TABLE)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the reports would go", encoding="utf-8")
    ctx = RunContext(plan, events.append, kind="verify")
    assert ctx.write_report({"run_id": "abc", "warnings": []}, folder=blocked) is None
    assert len(ctx.warnings) == 1
    assert ctx.warnings[0].startswith(f"the report could not be written to {blocked}")
    assert isinstance(events[-1], RunWarning)


async def test_a_migration_whose_report_cannot_be_written_completes_with_a_warning(
    tmp_path: Path,
) -> None:
    plan = write_plan(tmp_path, ONE_TABLE + '\n[report]\ndir = "reports"\n')
    (tmp_path / "reports").write_text("not a folder", encoding="utf-8")
    result = await migrate(plan)
    assert result.status == "completed"
    assert result.report_path is None
    assert any(w.startswith("the report could not be written to") for w in result.warnings)


def test_an_operation_without_a_report_kind_writes_none(tmp_path: Path) -> None:
    ctx = RunContext(write_plan(tmp_path, ONE_TABLE), kind="check")
    with pytest.raises(ValueError):
        ctx.write_report({})
