"""``ferry sync`` (issue 20, item 2): delta syncs in a loop while an app process keeps writing a
real SQLite file and a real JSON file; SQLite -> PostgreSQL and JSON -> SQLite. Each cycle is a
journaled migrate run; a cancel between cycles stops cleanly, one during a cycle rolls it back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
from ferry.errors import Cancelled, FerryError
from ferry.events import CancelToken, Event, StepStarted, SyncCycle
from ferry.plan import Plan, save_plan
from ferry.sync.durations import parse_duration
from ferry.sync.loop import sync


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    make_stores(tmp_path)
    yield tmp_path
    (tmp_path / "stop").touch()  # an app a failed test left running stops by itself


def sqlite_target(folder: Path) -> str:
    return f"sqlite:///{folder / 'target.db'}"


def _cases(pg_url: str, folder: Path) -> dict[str, tuple[Plan, str, Callable[[Path], Any]]]:
    return {
        "sqlite-to-postgres": (sqlite_plan(folder, pg_url), pg_url, source_rows),
        "json-to-sqlite": (
            json_plan(folder, sqlite_target(folder)),
            sqlite_target(folder),
            json_rows,
        ),
    }


@pytest.mark.parametrize("case", ["sqlite-to-postgres", "json-to-sqlite"])
def test_each_cycle_picks_up_what_the_app_wrote_and_the_last_one_catches_up(
    folder: Path, pg_url: str, case: str
) -> None:
    plan, target, read_source = _cases(pg_url, folder)[case]
    events: list[Event] = []
    app = App(folder)
    try:
        result = asyncio.run(sync(plan, every=0.3, cycles=3, emit=events.append))
    finally:
        written = app.stop()
    assert written >= 5
    assert [c.cycle for c in result.cycles] == [1, 2, 3]
    assert [e for e in events if isinstance(e, SyncCycle)] == result.cycles
    first, *later = result.cycles
    assert first.changed["jobs"] >= START_ROWS
    for cycle in later:  # the app kept writing between cycles: every cycle has new rows
        assert cycle.changed["jobs"] > 0, cycle
        assert cycle.behind >= 0
    assert len({c.run_id for c in result.cycles}) == 3
    assert result.stopped == "cycles"
    assert result.freeze_estimate == max(c.seconds for c in result.cycles)
    assert "the freeze window will need about" in result.freeze_line()
    # The app stopped: one last cycle and the target equals the source.
    last = asyncio.run(sync(plan, every=0, cycles=1))
    assert last.cycles[0].changed["jobs"] >= 0
    assert target_rows(target) == read_source(folder) == json_rows(folder)
    assert len(target_rows(target)) == START_ROWS + written


def _cancel_after(cycles: int, cancel: CancelToken, events: list[Event]) -> Callable[[Event], None]:
    def emit(event: Event) -> None:
        events.append(event)
        if isinstance(event, SyncCycle) and event.cycle == cycles:
            cancel.cancel()

    return emit


def test_a_cancel_between_cycles_stops_cleanly_and_every_cycle_is_journaled(
    folder: Path, pg_url: str
) -> None:
    plan = sqlite_plan(folder, pg_url)
    cancel, events = CancelToken(), []
    app = App(folder)
    try:
        result = asyncio.run(
            sync(plan, every=0.2, emit=_cancel_after(2, cancel, events), cancel=cancel)
        )
    finally:
        app.stop()
    assert result.stopped == "cancelled"
    assert [c.cycle for c in result.cycles] == [1, 2]
    save_plan(plan, folder / "ferry.toml")
    runs = CliRunner().invoke(cli, ["runs", str(folder / "ferry.toml"), "--json"])
    assert runs.exit_code == 0, runs.output
    listed = {r["run_id"]: r for r in json.loads(runs.output)["runs"]}
    for cycle in result.cycles:
        assert listed[cycle.run_id]["kind"] == "migrate"
        assert listed[cycle.run_id]["status"] == "completed"


def test_a_cancel_during_a_cycle_rolls_that_cycle_back(folder: Path) -> None:
    target = sqlite_target(folder)
    plan = json_plan(folder, target)
    cancel, events = CancelToken(), []
    cycles_seen: list[int] = []

    def emit(event: Event) -> None:
        events.append(event)
        if isinstance(event, SyncCycle):
            cycles_seen.append(event.cycle)
            # The app writes between the cycles: the second one has rows to merge.
            data = json.loads((folder / "jobs.json").read_text(encoding="utf-8"))
            data.append({"id": 999, "name": "written between cycles"})
            (folder / "jobs.json").write_text(json.dumps(data), encoding="utf-8")
        elif isinstance(event, StepStarted) and event.step == "merge" and cycles_seen:
            cancel.cancel()  # inside cycle 2, before its commit

    with pytest.raises(Cancelled, match="cycle 2: that cycle was rolled back"):
        asyncio.run(sync(plan, every=0, cycles=3, emit=emit, cancel=cancel))
    assert cycles_seen == [1]
    assert len(target_rows(target)) == START_ROWS  # cycle 1's rows, none of cycle 2's
    # The next sync completes.
    done = asyncio.run(sync(plan, every=0, cycles=1))
    assert done.cycles[0].changed["jobs"] == 1
    assert (999, "written between cycles") in target_rows(target)


def test_durations() -> None:
    assert parse_duration("30s") == 30
    assert parse_duration("2m") == 120
    assert parse_duration("1h") == 3600
    assert parse_duration("500ms") == 0.5
    assert parse_duration("1.5") == 1.5
    with pytest.raises(ValueError, match="30s, 2m, 1h"):
        parse_duration("soon")


def test_the_sync_command_prints_a_line_per_cycle_and_the_freeze_window(folder: Path) -> None:
    plan = json_plan(folder, sqlite_target(folder))
    save_plan(plan, folder / "ferry.toml")
    runner = CliRunner()
    result = runner.invoke(
        cli, ["sync", str(folder / "ferry.toml"), "--every", "100ms", "--cycles", "2", "-q"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    cycles = [line for line in lines if "  cycle " in line]
    assert len(cycles) == 2
    assert "cycle 1" in cycles[0] and f"jobs {START_ROWS}" in cycles[0]
    assert "behind" in cycles[0]
    assert "no rows changed" in cycles[1]  # nothing new: the re-run skipped
    assert sum("the freeze window will need about" in line for line in lines) >= 3
    assert "Sync done: 2 cycle(s)" in result.output
    assert "ferry cutover" in result.output

    bad = runner.invoke(cli, ["sync", str(folder / "ferry.toml"), "--every", "soon"])
    assert bad.exit_code == 2
    assert "not a duration" in bad.output


def test_the_sync_command_json(folder: Path) -> None:
    plan = json_plan(folder, sqlite_target(folder))
    save_plan(plan, folder / "ferry.toml")
    result = CliRunner().invoke(
        cli,
        ["sync", str(folder / "ferry.toml"), "--every", "0s", "--cycles", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["cycle"] for c in data["cycles"]] == [1, 2]
    assert data["cycles"][0]["changed"] == {"jobs": START_ROWS}
    assert data["freeze_estimate"] > 0


def _reports(folder: Path, kind: str) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((folder / "ferry-reports").glob(f"{kind}-*.json"))
    ]


def test_only_cycles_that_changed_rows_write_a_report_and_one_sync_report_holds_all(
    folder: Path,
) -> None:
    """A long-running sync does not fill the report folder: the first cycle (it loads every
    row) has its migrate report, the two quiet ones do not; the journal keeps all three and
    the one sync report lists them."""
    plan = json_plan(folder, sqlite_target(folder))

    result = asyncio.run(sync(plan, every=0, cycles=3))

    first, *quiet = result.cycles
    assert first.report_path is not None and all(c.report_path is None for c in quiet)
    assert [r["run_id"] for r in _reports(folder, "migrate")] == [first.run_id]
    (summary,) = _reports(folder, "sync")
    assert summary["status"] == "stopped"
    assert [c["run_id"] for c in summary["result"]["cycles"]] == [c.run_id for c in result.cycles]
    assert result.report_path and Path(result.report_path).is_file()
    save_plan(plan, folder / "ferry.toml")
    runs = CliRunner().invoke(cli, ["runs", str(folder / "ferry.toml"), "--json"])
    listed = {r["run_id"] for r in json.loads(runs.output)["runs"]}
    assert {c.run_id for c in result.cycles} <= listed  # every cycle journaled


def test_a_failed_cycle_writes_its_report_and_the_sync_report_says_failed(
    folder: Path,
) -> None:
    plan = json_plan(folder, sqlite_target(folder))
    asyncio.run(sync(plan, every=0, cycles=1))
    (folder / "jobs.json").write_text("[{", encoding="utf-8")  # the app left it cut short

    with pytest.raises(FerryError, match=r"jobs\.json"):
        asyncio.run(sync(plan, every=0, cycles=1))

    statuses = sorted(r["status"] for r in _reports(folder, "migrate"))
    assert statuses == ["completed", "failed"]
    assert sorted(r["status"] for r in _reports(folder, "sync")) == ["failed", "stopped"]
