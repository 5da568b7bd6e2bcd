"""``ferry runs PLAN`` and :func:`ferry.runs.list_runs` (issue 20 item 5): the runs of a
plan's target from its journal and the plan's reports, on a real SQLite file and a real
PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from runskit import change_source, ferry, history_plan, load, migrate_with_backup, runs_json

from ferry.runs import RunRecord, list_runs
from ferry.verify.run import verify


def test_runs_lists_migrations_with_counts_and_verify(tmp_path: Path, target_url: str) -> None:
    plan_file = history_plan(tmp_path, target_url)
    plan = load(plan_file)
    first = migrate_with_backup(plan)
    change_source(tmp_path)
    second = migrate_with_backup(plan)
    checked = asyncio.run(verify(plan))
    assert checked.passed

    runs = asyncio.run(list_runs(plan))

    assert all(isinstance(r, RunRecord) for r in runs)
    assert [(r.run_id, r.kind) for r in runs] == [
        (first.run_id, "migrate"),
        (second.run_id, "migrate"),
        (checked.run_id, "verify"),
    ]
    one, two, three = runs
    assert (one.inserted, one.updated, one.unchanged, one.rejected) == (19, 0, 0, 1)
    assert (two.inserted, two.updated, two.unchanged, two.rejected) == (1, 1, 18, 1)
    assert one.status == two.status == "completed" and one.journaled
    assert one.backup_id == first.backup_id and two.backup_id == second.backup_id
    assert one.report_path == first.report_path and Path(str(one.report_path)).exists()
    assert (three.verdict, three.journaled, three.inserted) == ("PASS", False, None)
    assert not any(r.rolled_back or r.undone for r in runs)
    with pytest.raises(AttributeError):
        one.status = "x"  # type: ignore[misc]  # frozen

    data = runs_json(plan_file)
    assert data["journal"] is True
    assert [r["run_id"] for r in data["runs"]] == [r.run_id for r in runs]
    assert data["runs"][0]["inserted"] == 19 and data["runs"][2]["verdict"] == "PASS"

    shown = ferry("runs", plan_file)
    assert shown.exit_code == 0, shown.output
    for record in runs:
        assert record.run_id in shown.stdout
    assert "PASS" in shown.stdout and "migrate" in shown.stdout


def test_no_journal_yet_says_so_and_creates_nothing(tmp_path: Path, target_url: str) -> None:
    plan_file = history_plan(tmp_path, target_url)

    shown = ferry("runs", plan_file)

    assert shown.exit_code == 0, shown.output
    assert "No runs" in shown.stdout and "no run journal yet" in shown.stdout
    assert "ferry migrate" in shown.stdout
    assert not (tmp_path / "target.db").exists()  # read only: no empty file made
    data = runs_json(plan_file)
    assert data == {"target": data["target"], "journal": False, "runs": []}


def test_a_verify_report_of_another_target_is_not_listed(tmp_path: Path) -> None:
    plan_file = history_plan(tmp_path, "sqlite:///target.db")
    plan = load(plan_file)
    migrate_with_backup(plan)
    asyncio.run(verify(plan))
    other = ferry("runs", plan_file, "--target", "sqlite:///other.db", "--json")
    assert other.exit_code == 0, other.output
    assert '"runs": []' in other.stdout
    assert not (tmp_path / "other.db").exists()
