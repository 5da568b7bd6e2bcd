"""The run history of a plan's target (``ferry runs PLAN``): what ran, when, with what result.

Two places hold it. The target's journal (:mod:`ferry.load.journal`) has every committed run:
migrations, and rollbacks (:mod:`ferry.runhistory` journals them, and writes back the runs a
restored backup did not have, marked ``rolled_back``). The plan's report folder has the runs
that never write to the target: verifications, previews, failed or cancelled migrations (their
JSON reports, :mod:`ferry.report.write`). :func:`list_runs` merges both, oldest first; the
target is only read (a SQLite file that does not exist is not created).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .load.journal import has_journal, read_journal
from .plan import Plan
from .targets import Target, open_target

#: journal status of a run whose changes a later rollback undid (:mod:`ferry.runhistory`)
ROLLED_BACK = "rolled_back"
#: the report kinds listed from the report folder
_REPORT_KINDS = ("migrate", "preview", "verify", "rollback", "cutover", "undo")
#: journal status of a run ``ferry undo`` reverted (:mod:`ferry.undo`)
UNDONE = "undone"


@dataclass(frozen=True)
class RunRecord:
    """One run of the target, as the journal or its report tells it."""

    run_id: str
    #: ``migrate``, ``preview``, ``verify`` or ``rollback``
    kind: str
    started_at: datetime
    finished_at: datetime | None
    #: ``completed``, ``rolled_back`` (undone by a later rollback), ``failed``, ``previewed``…
    status: str
    #: a verification's ``PASS`` or ``FAIL``; None for other kinds
    verdict: str | None
    inserted: int | None
    updated: int | None
    unchanged: int | None
    rejected: int | None
    #: the backup the run took (a rollback: the backup it restored)
    backup_id: str | None
    report_path: str | None
    #: True when a later rollback restored a backup taken before this run
    rolled_back: bool
    #: the rollback run that undid it, when known
    rolled_back_by: str | None
    #: undone exactly by ``ferry undo`` (:mod:`ferry.undo`)
    undone: bool
    #: True when the target's journal holds the run; False when only its report tells of it
    journaled: bool
    plan_name: str

    @property
    def verdict_text(self) -> str:
        """The verdict of a verification, else the run's status."""
        return self.verdict or self.status

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` (times as ISO text)."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data


@dataclass(frozen=True)
class RunHistory:
    """What :func:`read_runs` found: the runs, and whether the target has a journal at all."""

    runs: list[RunRecord]
    has_journal: bool
    #: the target as messages name it
    target: str


async def list_runs(plan: Plan, *, reports: bool = True) -> list[RunRecord]:
    """The runs of the plan's target, oldest first: the journal's, and with ``reports`` those
    only the plan's report folder tells of (verify, preview, failed runs). The target is only
    read. Raises TargetError when it cannot be reached."""
    return (await read_runs(plan, reports=reports)).runs


async def read_runs(plan: Plan, *, reports: bool = True) -> RunHistory:
    """:func:`list_runs`, and whether the target holds a journal (for a clear "no runs yet")."""
    target = open_target(plan.target, plan.base_dir)
    journal = await _journal_rows(target)
    found = [_from_journal(row) for row in journal] if journal is not None else []
    if reports:
        known = {record.run_id for record in found}
        found += [r for r in _from_reports(plan, target.describe()) if r.run_id not in known]
    found = _mark_rolled_back(found, journal or [])
    found.sort(key=lambda record: record.started_at)
    return RunHistory(found, journal is not None, target.describe())


async def _journal_rows(target: Target) -> list[dict[str, Any]] | None:
    """The journal's rows; None when the target has no journal (or no file at all)."""
    if target.file_missing():
        return None  # opening it would create an empty file
    await target.open(read_only=True)
    try:
        if not await has_journal(target):
            return None
        return await read_journal(target)
    finally:
        await target.finish(commit=False)


def aware_time(value: Any) -> datetime:
    """A journaled or reported time as an aware datetime (SQLite gives naive UTC ones)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = datetime.fromtimestamp(0, UTC)
    if not isinstance(value, datetime):
        return datetime.fromtimestamp(0, UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _counts(tables: Any) -> tuple[int | None, int | None, int | None]:
    """Inserted, updated and unchanged rows summed over the tables (dict or list form)."""
    items = tables.values() if isinstance(tables, dict) else tables or []
    entries = [t for t in items if isinstance(t, dict) and "inserted" in t]
    if not entries:
        return None, None, None
    return tuple(  # type: ignore[return-value]
        sum(int(t.get(key) or 0) for t in entries) for key in ("inserted", "updated", "unchanged")
    )


def _from_journal(row: dict[str, Any]) -> RunRecord:
    kind = str(row.get("mode") or "migrate")
    inserted, updated, unchanged = _counts(row.get("tables"))
    status = str(row.get("status") or "")
    return RunRecord(
        run_id=str(row["run_id"]),
        kind=kind,
        started_at=aware_time(row.get("started_at")),
        finished_at=aware_time(row.get("finished_at")) if row.get("finished_at") else None,
        status=status,
        verdict=None,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        rejected=None if kind == "rollback" else int(row.get("rejected") or 0),
        backup_id=row.get("backup_id") or None,
        report_path=row.get("report_path") or None,
        rolled_back=status == ROLLED_BACK,
        rolled_back_by=None,
        undone=status == UNDONE,
        journaled=True,
        plan_name=str(row.get("plan_name") or ""),
    )


def _from_reports(plan: Plan, target: str) -> list[RunRecord]:
    """The runs the plan's report folder tells of, on this target."""
    folder = Path(os.path.abspath(plan.resolve(plan.report.dir)))
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a report (or not readable): nothing to list
        record = _from_report(report, path, target)
        if record is not None:
            found.append(record)
    return found


def _from_report(report: Any, path: Path, target: str) -> RunRecord | None:
    if not isinstance(report, dict) or report.get("format") != "ferry-report":
        return None
    result = report.get("result")
    kind = report.get("kind")
    if not isinstance(result, dict) or kind not in _REPORT_KINDS or not report.get("run_id"):
        return None
    if result.get("target") != target:
        return None
    inserted, updated, unchanged = _counts(result.get("tables"))
    backup = report.get("backup") if isinstance(report.get("backup"), dict) else {}
    html = path.with_suffix(".html")
    rejected = result.get("rejected_total")
    return RunRecord(
        run_id=str(report["run_id"]),
        kind=str(kind),
        started_at=aware_time(result.get("started_at") or report.get("generated_at")),
        finished_at=aware_time(result["finished_at"]) if result.get("finished_at") else None,
        status=str(report.get("status") or result.get("status") or ""),
        verdict=str(report["verdict"]) if report.get("verdict") else None,
        inserted=None if kind == "verify" else inserted,
        updated=None if kind == "verify" else updated,
        unchanged=None if kind == "verify" else unchanged,
        rejected=int(rejected) if isinstance(rejected, int) else None,
        backup_id=str(backup.get("id")) if backup and backup.get("id") else None,
        report_path=str(html if html.exists() else path),
        rolled_back=False,
        rolled_back_by=None,
        undone=False,
        journaled=False,
        plan_name=str(report.get("plan_name") or ""),
    )


def _mark_rolled_back(records: list[RunRecord], journal: list[dict[str, Any]]) -> list[RunRecord]:
    """Name the rollback that undid each rolled-back run (its journal row, or its report
    when the history could not be written back) and mark the runs it names."""
    undone_by: dict[str, str] = {}
    for row in journal:
        tables = row.get("tables")
        if row.get("mode") == "rollback" and isinstance(tables, dict):
            for run_id in tables.get("rolled_back_runs") or []:
                undone_by[str(run_id)] = str(row["run_id"])
    for record in records:
        if record.kind == "rollback" and not record.journaled and record.report_path:
            for run_id in _report_rolled_back(record.report_path):
                undone_by.setdefault(run_id, record.run_id)
    marked = []
    for record in records:
        by = undone_by.get(record.run_id)
        if by is not None and record.kind == "migrate":
            record = _replace(record, rolled_back=True, rolled_back_by=by)
        marked.append(record)
    return marked


def _report_rolled_back(report_path: str) -> list[str]:
    path = Path(report_path).with_suffix(".json")
    try:
        result = json.loads(path.read_text(encoding="utf-8")).get("result") or {}
    except (OSError, ValueError, AttributeError):
        return []
    return [str(r) for r in result.get("rolled_back_runs") or []]


def _replace(record: RunRecord, **changes: Any) -> RunRecord:
    from dataclasses import replace

    return replace(record, **changes)


__all__ = ["ROLLED_BACK", "RunHistory", "RunRecord", "aware_time", "list_runs", "read_runs"]
