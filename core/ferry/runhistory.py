"""The run history survives a rollback, and the rollback is a run of its own.

A rollback restores a backup of the target, and Ferry's journal (:mod:`ferry.load.journal`)
lives in the target: restored, it would forget every run since the backup. So
:func:`before_restore` reads the journal (and the rejected rows it keeps) before anything is
touched, and after the restore :meth:`KeptHistory.after_restore` writes back, in one
transaction of its own, the runs the restored journal does not have, with status
``rolled_back`` (their changes are gone; every reader of the journal only trusts
``completed`` runs), then journals the rollback itself (mode ``rollback``: which backup, what
was restored, which runs it rolled back). :meth:`KeptHistory.write_report` writes the
rollback's report (kind ``rollback``) beside the migrate and verify reports.

Faults: the restore stands on its own. Reading the history first, writing it back and the
report are each best effort: a failure is a warning naming the runs whose journal rows were
lost (the report lists them too), never a failed rollback, and the write-back is one
transaction, so the journal is either as restored or as restored plus the whole history.
A SQLite target that did not exist at backup time is removed by the rollback and stays
removed, and a target without a journal and no runs to write back (Ferry never committed a
run there) gets no journal for the rollback alone: then the rollback's report is its record,
which ``ferry runs`` lists too (:mod:`ferry.runs`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import __version__
from .errors import FerryError
from .events import Emit, RunWarning
from .load.journal import (
    ensure_journal,
    has_journal,
    journal_place,
    read_journal,
    read_rejects,
)
from .plan import Plan
from .runs import ROLLED_BACK
from .targets import Target, open_target

if TYPE_CHECKING:
    from .report.write import ReportPaths
    from .rollback import RollbackResult

_log = logging.getLogger(__name__)

#: journal ``mode`` and report kind of a rollback
ROLLBACK: Literal["rollback"] = "rollback"


def _sqlite_missing(target: Target) -> bool:
    return target.file_missing()


@dataclass
class KeptHistory:
    """The journal as it was before the restore, and what became of it."""

    plan: Plan
    backup_id: str
    #: when the backup was taken (runs that started later are the ones it rolls back)
    backup_taken: datetime | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    rejects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    #: runs written back after the restore (their changes rolled back)
    rolled_back: list[str] = field(default_factory=list)
    #: runs whose journal rows could not be kept
    lost: list[str] = field(default_factory=list)
    journaled: bool = False
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str, emit: Emit) -> None:
        self.warnings.append(message)
        _log.warning("%s", message)
        emit(RunWarning(message))

    async def after_restore(self, result: RollbackResult, emit: Emit) -> None:
        """Write back the runs the restored journal lacks and journal this rollback (one
        transaction); a failure is a warning, the restore stands."""
        target = open_target(self.plan.target, self.plan.base_dir)
        if _sqlite_missing(target):
            self._lose(
                self._since_backup(),
                "the target did not exist at backup time and was removed, so it holds no journal",
                emit,
            )
            return
        try:
            await target.open()
            try:
                journal = await has_journal(target)
                present = {str(r["run_id"]) for r in await read_journal(target)}
                missing = [r for r in self.runs if str(r["run_id"]) not in present]
                if not journal and not missing:
                    # Ferry never ran here (as far as the target tells): its tables are not
                    # added for the rollback alone, which its report records.
                    await target.finish(commit=False)
                    return
                await ensure_journal(target)
                await self._insert(target, missing, result)
                await target.finish(commit=True)
            except BaseException:
                await target.finish(commit=False)
                raise
        except FerryError as exc:
            self._lose(
                self._since_backup(), f"writing the run history back failed: {exc.message}", emit
            )
            return
        self.journaled = True
        self.rolled_back = [str(r["run_id"]) for r in missing]
        result.run_id = self.run_id
        result.rolled_back_runs = list(self.rolled_back)

    def _since_backup(self) -> list[str]:
        """The kept runs that started after the backup was taken (all, when unknown)."""
        from .runs import aware_time

        return [
            str(r["run_id"])
            for r in self.runs
            if self.backup_taken is None or aware_time(r.get("started_at")) >= self.backup_taken
        ]

    def _lose(self, run_ids: list[str], why: str, emit: Emit) -> None:
        self.lost = [str(r) for r in run_ids]
        listed = ", ".join(self.lost) if self.lost else "none"
        self.warn(
            f"{why}: the journal rows of the runs since the backup ({listed}) and of this "
            "rollback are not in the target; the rollback report lists them",
            emit,
        )

    async def _insert(
        self, target: Target, missing: list[dict[str, Any]], result: RollbackResult
    ) -> None:
        place = journal_place(target.dialect_name)
        columns = {c.name for c in place.runs.columns}
        for row in missing:
            values = {k: v for k, v in row.items() if k in columns}
            values["tables"] = json.dumps(row.get("tables") or {}, sort_keys=True)
            values["status"] = ROLLED_BACK
            await target.conn.execute(place.runs.insert().values(**values))
            kept = self.rejects.get(str(row["run_id"])) or []
            if kept:
                await target.conn.execute(
                    place.rejects.insert(),
                    [
                        {
                            "run_id": r["run_id"],
                            "seq": r["seq"],
                            "table_name": r["table_name"],
                            "kind": r["kind"],
                            "key_text": r["key_text"],
                            "key_json": json.dumps(r["key_values"]),
                            "reason": r["reason"],
                            "row_json": json.dumps(r["row"]),
                        }
                        for r in kept
                    ],
                )
        rolled = [str(r["run_id"]) for r in missing]
        await target.conn.execute(
            place.runs.insert().values(
                run_id=self.run_id,
                plan_name=self.plan.name,
                plan_hash=self.plan.digest(),
                ferry_version=__version__,
                mode=ROLLBACK,
                status="completed",
                started_at=self.started_at,
                finished_at=datetime.now(UTC),
                tables=json.dumps(
                    {"restored": result.restored, "rolled_back_runs": rolled}, sort_keys=True
                ),
                warnings=len(self.warnings),
                rejected=0,
                backup_id=self.backup_id,
                report_path=str(self.report_paths().html),
            )
        )

    def report_paths(self) -> ReportPaths:
        from .report.write import report_paths

        return report_paths(ROLLBACK, self.run_id, self.plan.resolve(self.plan.report.dir))

    def write_report(self, result: RollbackResult, folder: Path, emit: Emit) -> None:
        """Write the rollback's report; one that cannot be written is a warning."""
        from .report.write import write_report

        data = {
            "run_id": self.run_id,
            "plan_name": self.plan.name,
            "plan_hash": self.plan.digest(),
            "mode": ROLLBACK,
            "status": "completed",
            "target": open_target(self.plan.target, self.plan.base_dir).describe(),
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC),
            "seconds": time.perf_counter() - self.started,
            "backup_id": self.backup_id,
            "restored": result.restored,
            "proof": result.proof,
            "sources": result.sources,
            "renamed": result.renamed,
            "rolled_back_runs": self.rolled_back or self.lost,
            "history_lost": self.lost,
            "journaled": self.journaled,
            "warnings": list(self.warnings),
        }
        where = self.plan.resolve(self.plan.report.dir)
        try:
            paths = write_report(
                ROLLBACK, data, self.plan, where, backup={"id": self.backup_id, "path": folder}
            )
        except OSError as exc:
            self.warn(f"the rollback report could not be written to {where}: {exc}", emit)
        else:
            result.report_path = str(paths.html)
        result.run_id = self.run_id
        result.rolled_back_runs = list(self.rolled_back or self.lost)
        result.warnings = list(self.warnings)


async def before_restore(
    plan: Plan, backup_id: str, manifest: dict[str, Any], emit: Emit
) -> KeptHistory:
    """Read the target's journal and kept rejected rows before a rollback to the backup of
    ``manifest`` touches it; a journal that cannot be read is a warning (the runs since the
    backup will not be listed)."""
    from .runs import aware_time

    taken = aware_time(manifest["created_at"]) if manifest.get("created_at") else None
    kept = KeptHistory(plan, backup_id, taken)
    target = open_target(plan.target, plan.base_dir)
    if _sqlite_missing(target):
        return kept
    try:
        await target.open(read_only=True)
        try:
            kept.runs = await read_journal(target)
            for row in kept.runs:
                if row.get("rejected"):
                    run_id = str(row["run_id"])
                    kept.rejects[run_id] = await read_rejects(target, run_id)
        finally:
            await target.finish(commit=False)
    except FerryError as exc:
        kept.runs, kept.rejects = [], {}
        kept.warn(
            f"the run history could not be read before the restore ({exc.message}): runs "
            "since the backup will not be listed by `ferry runs`",
            emit,
        )
    _log.info("run history kept for the rollback: %d runs", len(kept.runs))
    return kept


__all__ = ["ROLLBACK", "KeptHistory", "before_restore"]
