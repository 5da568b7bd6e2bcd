"""examples/presentation-jobs end to end through the Python API (seed 001).

The job dict dumped at shutdown goes into the SQLite file the dual-write phase already
writes. Jobs the database holds with a later ``last_heartbeat`` than the dump are conflicts
under rule ``newer``: the preview lists them, and the migration keeps them as they are.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from examplekit import Flow, ferry, generate, reasons, run_flow


@dataclass
class Run:
    flow: Flow
    folder: Path
    #: jobs the database held with a later heartbeat than the dump's, as they were
    newer: dict[str, tuple[Any, ...]]
    #: the same jobs after the migration
    kept: dict[str, tuple[Any, ...]]


def utc(value: Any) -> datetime | None:
    """A dump or database timestamp as an aware UTC datetime (naive ones are UTC)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def jobs_by_id(db: Path) -> dict[str, tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return {row[0]: row for row in conn.execute("SELECT * FROM presentation_jobs")}
    finally:
        conn.close()


def newer_in_database(folder: Path) -> dict[str, tuple[Any, ...]]:
    """Jobs the database holds with a later heartbeat than the dump's (last entry wins)."""
    dump = json.loads((folder / "data" / "jobs_dump.json").read_text(encoding="utf-8"))
    dumped = {job["job_id"]: job for job in dump["jobs"]}
    newer = {}
    for job_id, row in jobs_by_id(folder / "presentation_jobs.db").items():
        if job_id in dumped:
            ours, theirs = utc(row[9]), utc(dumped[job_id]["last_heartbeat"])
            if ours is not None and (theirs is None or ours > theirs):
                newer[job_id] = row
    return newer


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("presentation-jobs") / "svc"
    plan = generate("presentation-jobs", folder, rows=60)
    newer = newer_in_database(folder)
    kept: dict[str, tuple[Any, ...]] = {}

    def while_loaded(flow: Flow) -> None:
        now = jobs_by_id(folder / "presentation_jobs.db")
        kept.update({job_id: now[job_id] for job_id in newer})

    return Run(run_flow(plan, "api", while_loaded=while_loaded), folder, newer, kept)


def test_the_preview_lists_the_newer_jobs_in_the_target_as_conflicts(run: Run) -> None:
    assert run.newer  # the generator wrote some
    assert run.flow.table(run.flow.preview, "presentation_jobs")["conflicts"] == len(run.newer)
    conflicts = {d["key"] for d in run.flow.preview["diffs"] if d["decision"] == "conflict"}
    assert conflicts == {f"job_id={job_id!r}" for job_id in run.newer}


def test_ferry_preview_prints_each_conflict(run: Run) -> None:
    # The flow ended with a rollback: the dump and the dual-write database are as generated.
    args = ("preview", "ferry.toml", "-q", "--diff", "presentation_jobs", "--diff-limit", "500")
    printed = " ".join(ferry(run.folder, *args).stdout.split())  # however the console wraps
    found = re.findall(r"presentation_jobs job_id='([^']+)': conflict \(target kept\)", printed)
    assert sorted(found) == sorted(run.newer)


def test_newer_jobs_in_the_target_are_not_overwritten(run: Run) -> None:
    assert run.kept == run.newer
    assert run.flow.table(run.flow.second, "presentation_jobs")["conflicts"] == len(run.newer)


def test_older_and_missing_jobs_come_from_the_dump(run: Run) -> None:
    jobs = run.flow.table(run.flow.first, "presentation_jobs")
    assert jobs["updated"] > 0 and jobs["unchanged"] > 0 and jobs["inserted"] > 0


def test_broken_jobs_are_rejected_with_their_reasons(run: Run) -> None:
    found = reasons(run.flow, "presentation_jobs")
    assert any("'gestern' is not a timestamp" in r for r in found), found
    assert any("'45%'" in r for r in found), found
    assert any("presentation_jobs.status" in r for r in found), found
    assert run.flow.table(run.flow.first, "presentation_jobs")["duplicates"] == 1
