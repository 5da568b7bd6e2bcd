"""``ferry cutover``: the final sync of the freeze window, checked before and after.

The application has been stopped; the cutover proves it and moves what is left:

1. the **freeze** starts (its time is the report's first figure);
2. the sources must be **quiet** (:func:`ferry.safety.quiet.check_quiet`: no SQLite writer, no
   file changed during the settle time, no PostgreSQL write transaction, the app's lock or pid
   file gone): otherwise :class:`CutoverRefused` with the reasons, and nothing ran;
3. a **backup** (unless declined), then the **final sync**: one migrate run, journaled. When
   it fails (a source error, a lost connection, a rejected row) or is cancelled (Ctrl-C), it
   has rolled itself back: the cutover report says ``failed`` (or ``cancelled``) with the
   reason, and the step's error is raised with the report's path;
4. the sources are asked again (:func:`~ferry.safety.quiet.sources_changed_since`): a source
   that changed during the final sync means the app still writes, so the cutover is refused
   naming it. That run has committed by then (it holds what it read; the migrate engine offers
   no hook between its merge and its commit, and a check there would still miss a write a
   moment later): the report and the error say so, and the next cutover, once the app is
   really stopped, syncs what it missed;
5. **verify** (:func:`ferry.verify.run.verify`): the verdict;
6. on PASS, for a plan that reads a SQLite file, the **reverse plan**
   (:mod:`ferry.reverseplan`, default ``<plan>.reverse.toml``) and, when asked, the sources
   **renamed** to ``NAME.migrated`` (:func:`ferry.rollback.mark_migrated`);
7. the **cutover report** (HTML and JSON, kind ``cutover``): the freeze start, the quiet checks,
   the final sync's time and counts, the verdict, the reverse plan and what to switch the app to.

The target's run lock is held throughout, so no ``ferry sync`` cycle runs in between.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Cancelled, FerryError
from ..events import CancelToken, Emit, StepFinished, StepStarted, ignore_events
from ..plan import Plan
from ..safety.quiet import QuietReport, check_quiet, sources_changed_since
from ..safety.runlock import hold_target_async
from .loop import changed_rows

if TYPE_CHECKING:
    from ..verify.result import TableCheck

_log = logging.getLogger(__name__)

#: exit code of a cutover refused because a source is not quiet or changed during it
EXIT_REFUSED = 11


class CutoverRefused(FerryError):
    """The sources are not quiet, or one changed during the final sync (exit 11)."""

    exit_code = EXIT_REFUSED


@dataclass
class CutoverResult:
    """What a cutover did; ``status`` is ``completed`` (verify PASS), ``failed`` (verify FAIL,
    or the final sync itself failed: ``failed_step``), ``cancelled`` (Ctrl-C during the final
    sync) or ``refused`` (see ``reasons``). A refused, failed or cancelled final sync is raised
    (:class:`CutoverRefused`, the step's own error, :class:`~ferry.errors.Cancelled`); this
    result is then in its report."""

    run_id: str
    plan_name: str
    #: the target, for messages (a path, or ``user@host:port/db``)
    target: str
    #: what the application must be pointed at now: the SQLite file or the PostgreSQL URL
    switch_to: str
    started_at: datetime
    finished_at: datetime
    settle: float
    status: str = "refused"
    reasons: list[str] = field(default_factory=list)
    #: the quiet check, one line per source (``quiet      settings (json): …``)
    quiet: list[str] = field(default_factory=list)
    quiet_ok: bool = False
    #: the backup taken before the final sync (``id``, ``path``, ``manifest_sha256`` …)
    backup: dict[str, Any] | None = None
    backup_id: str | None = None
    backup_seconds: float | None = None
    #: the final sync: its run id, seconds, counts per table, rows changed per table, report
    final_run_id: str | None = None
    final_seconds: float | None = None
    final_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    final_changed: dict[str, int] = field(default_factory=dict)
    final_report: str | None = None
    #: what changed in the sources during the final sync (empty: nothing)
    changed_during: list[str] = field(default_factory=list)
    #: the step that failed or was cancelled (``final sync``): rolled back, target as before it
    failed_step: str | None = None
    verdict: str | None = None
    verify_report: str | None = None
    reverse_plan: str | None = None
    reverse_notes: list[str] = field(default_factory=list)
    #: ``old -> new`` per source file renamed to NAME.migrated
    renamed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report_path: str | None = None

    @property
    def seconds(self) -> float:
        """The freeze window so far: from its start to the end of the cutover."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def passed(self) -> bool:
        """True when the final sync ran and verified PASS."""
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports and ``--json``."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        data["freeze_started_at"] = data["started_at"]
        data["seconds"] = round(self.seconds, 3)
        return data


async def cutover(
    plan: Plan,
    *,
    settle: float = 5.0,
    rename_sources: bool = False,
    reverse_out: Path | None = None,
    take_backup: bool = True,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    write_reports: bool = True,
) -> CutoverResult:
    """The final sync of the freeze window (see the module's docstring).

    ``reverse_out``: where the reverse plan goes (default beside the plan file,
    ``<plan name>.reverse.toml``; written when a source is a SQLite file).
    Raises :class:`CutoverRefused` (not quiet: nothing ran; a source changed during the final
    sync: that run committed), :class:`~ferry.errors.Cancelled`, or the error of a failed
    backup, migrate or verify step (each leaves the target as it was before that step).
    """
    cancel = cancel or CancelToken()
    began = datetime.now(UTC)
    result = CutoverResult(
        run_id=uuid.uuid4().hex[:16],
        plan_name=plan.name,
        target=_target_text(plan),
        switch_to=switch_to(plan),
        started_at=began,
        finished_at=began,
        settle=settle,
    )
    _log.info("cutover of plan %s: freeze started (run %s)", plan.name, result.run_id)
    async with hold_target_async(plan.target, plan.base_dir, emit=emit, cancel=cancel):
        quiet = await check_quiet(plan, settle=settle, emit=emit, cancel=cancel)
        result.quiet, result.quiet_ok = str(quiet).splitlines(), quiet.quiet
        if not quiet.quiet:
            _refuse(
                plan,
                result,
                quiet.reasons,
                "the sources are not quiet: " + "; ".join(quiet.reasons),
                "Stop the application (and anything else writing the sources), then run "
                "`ferry cutover` again. Nothing was changed.",
                write_reports,
            )
        if take_backup:
            await _backup(plan, result, emit, cancel)
        try:
            await _final_sync(plan, result, quiet, emit, cancel, write_reports)
        except CutoverRefused:
            raise
        except FerryError as exc:  # Cancelled too: the run rolled itself back
            _final_sync_failed(plan, result, exc, write_reports)
            raise
        await _verify(plan, result, emit, cancel, write_reports)
        if result.passed:
            _reverse(plan, result, reverse_out)
            if rename_sources:
                _rename(plan, result)
    result.finished_at = datetime.now(UTC)
    if write_reports:
        result.report_path = _write_report(plan, result)
    return result


def switch_to(plan: Plan) -> str:
    """What the application must use after the switch: the SQLite file's absolute path, or
    the PostgreSQL URL (never with a password) and its schema."""
    if plan.target.is_sqlite:
        from ..targets.sqlite import sqlite_path

        return os.path.abspath(sqlite_path(plan.target, plan.base_dir))
    from ..safety.passwords import mask_passwords

    url = mask_passwords(plan.target.url)
    return f"{url} (schema {plan.target.pg_schema})" if plan.target.pg_schema else url


def _target_text(plan: Plan) -> str:
    """The target as a run names it (``Target.describe()``: ``ferry runs`` matches on it)."""
    from ..targets import open_target

    try:
        return open_target(plan.target, plan.base_dir).describe()
    except FerryError:  # a SQLite URL naming no file: the run says so
        return plan.target.url


def _refuse(
    plan: Plan,
    result: CutoverResult,
    reasons: list[str],
    message: str,
    hint: str,
    write_reports: bool,
) -> None:
    """Report the refusal, then raise it."""
    result.status, result.reasons = "refused", list(reasons)
    result.finished_at = datetime.now(UTC)
    refused = CutoverRefused(message, hint=hint)
    if write_reports:
        refused.report_path = result.report_path = _write_report(plan, result)
    _log.info("cutover of plan %s refused: %s", plan.name, message)
    raise refused


async def _backup(plan: Plan, result: CutoverResult, emit: Emit, cancel: CancelToken) -> None:
    from ..backup.create import create_backup

    began = time.perf_counter()
    backup = await create_backup(plan, emit, cancel)
    result.backup_id, result.backup_seconds = backup.id, time.perf_counter() - began
    result.backup = backup.to_dict()


async def _final_sync(
    plan: Plan,
    result: CutoverResult,
    quiet: QuietReport,
    emit: Emit,
    cancel: CancelToken,
    write_reports: bool,
) -> None:
    """The last migrate run, then the sources asked again."""
    from ..migrate import migrate

    began = time.perf_counter()
    run = await migrate(
        plan,
        emit=emit,
        cancel=cancel,
        backup=result.backup,
        write_reports=write_reports,
    )
    result.final_seconds = time.perf_counter() - began
    result.final_run_id, result.final_report = run.run_id, run.report_path
    result.target = run.target or result.target  # as the journal and `ferry runs` name it
    result.final_counts = {t.name: t.counts() for t in run.tables}
    result.final_changed = changed_rows(run)
    result.warnings.extend(run.warnings)
    emit(StepStarted("recheck", "did a source change during the final sync?"))
    changed = sources_changed_since(quiet)
    emit(StepFinished("recheck", 0.0, "; ".join(changed) or "nothing changed"))
    result.changed_during = changed
    if changed:
        _refuse(
            plan,
            result,
            changed,
            "a source changed during the final sync: " + "; ".join(changed),
            f"The final sync (run {run.run_id}) committed what it read; the application still "
            "writes. Stop it, then run `ferry cutover` again: it syncs what this one missed.",
            write_reports,
        )


def _final_sync_failed(
    plan: Plan, result: CutoverResult, exc: FerryError, write_reports: bool
) -> None:
    """Report a final sync that failed or was cancelled (it rolled back: the target is as
    before it) and point the error at the cutover report."""
    cancelled = isinstance(exc, Cancelled)
    result.status = "cancelled" if cancelled else "failed"
    result.failed_step = "final sync"
    result.reasons = [
        f"the final sync {'was cancelled' if cancelled else 'failed'}: {exc.message}",
        "it was rolled back: the target is as it was before the final sync; do not switch",
    ]
    result.final_report = result.final_report or exc.report_path
    result.finished_at = datetime.now(UTC)
    if write_reports:
        exc.report_path = result.report_path = _write_report(plan, result)
    _log.info("cutover of plan %s: final sync %s: %s", plan.name, result.status, exc.message)


async def _verify(
    plan: Plan, result: CutoverResult, emit: Emit, cancel: CancelToken, write_reports: bool
) -> None:
    from ..verify.run import verify

    checked = await verify(plan, emit=emit, cancel=cancel, write_reports=write_reports)
    result.verdict, result.verify_report = checked.verdict, checked.report_path
    result.status = "completed" if checked.passed else "failed"
    if not checked.passed:
        result.reasons.append("verification FAILED: see its report")
    result.warnings.extend(kept_deletions(plan, checked.tables))


def kept_deletions(plan: Plan, checked: list[TableCheck]) -> list[str]:
    """A warning per table one source feeds whose target holds rows that source lacks and
    that the plan keeps (no ``delete_missing``): rows the app deleted since they were copied
    come back to life in the new store unless the operator says otherwise before switching."""
    feeds = Counter(spec.name for spec in plan.tables)
    warnings = []
    for table in checked:
        spec = next(
            (t for t in plan.tables if t.name == table.name and t.source == table.source), None
        )
        if spec is None or table.extra <= 0 or spec.delete_missing or spec.mode != "merge":
            continue
        if feeds[table.name] > 1:  # the other sources' rows count as extra too
            continue
        warnings.append(
            f"{table.name}: {table.extra} row(s) of the target are not in the source (the app "
            "deleted them since they were copied, or the target held them before) and stay: "
            "the plan does not propagate deletions; to remove them, set delete_missing = true "
            f"for {table.name} and run ferry cutover again (ferry preview lists them first)"
        )
    return warnings


def _reverse(plan: Plan, result: CutoverResult, reverse_out: Path | None) -> None:
    """The reverse plan, for a plan that reads a SQLite file (a note otherwise); tables fed
    from its other sources (a JSON file beside the database) are named in its notes."""
    if not any(s.kind == "sqlite" for s in plan.sources):
        result.reverse_notes.append(
            "no reverse plan: no source is a SQLite file to go back into (the backup the "
            "cutover took holds the sources as they were)"
        )
        return
    from ..reverseplan import reverse_plan

    path = Path(reverse_out) if reverse_out is not None else default_reverse_path(plan)
    try:
        made = reverse_plan(plan, out_dir=path.parent)
        made.write(path)
    except FerryError as exc:
        result.warnings.append(f"reverse plan not written: {exc.message}")
        return
    except OSError as exc:
        result.warnings.append(f"reverse plan not written: cannot write {path}: {exc}")
        return
    result.reverse_plan = str(path)
    result.reverse_notes = list(made.notes)


def default_reverse_path(plan: Plan) -> Path:
    """``<plan name>.reverse.toml`` in the plan's folder (the command line passes
    ``<plan file>.reverse.toml``: ``ferry.toml`` → ``ferry.reverse.toml``)."""
    return plan.base_dir / f"{plan.name}.reverse.toml"


def _rename(plan: Plan, result: CutoverResult) -> None:
    """The sources become ``NAME.migrated`` as the seeds' markers did (rollback renames back)."""
    from ..rollback import mark_migrated

    renaming = plan.model_copy(
        update={"backup": plan.backup.model_copy(update={"rename_migrated": True})}
    )
    result.renamed = [f"{old} -> {new}" for old, new in mark_migrated(renaming)]
    if result.renamed and result.reverse_plan:
        result.warnings.append(
            "the sources were renamed to NAME.migrated: give them their names back (`ferry "
            "rollback --sources`, or by hand) before the old app or the reverse plan uses them"
        )


def _write_report(plan: Plan, result: CutoverResult) -> str | None:
    """The cutover report's HTML path (None when it could not be written: a warning)."""
    from ..report.write import write_report

    folder = plan.resolve(plan.report.dir)
    data = result.to_dict()
    try:
        written = write_report("cutover", data, plan, folder, backup=result.backup)
    except OSError as exc:
        result.warnings.append(f"the cutover report could not be written to {folder}: {exc}")
        return None
    return str(written.html)
