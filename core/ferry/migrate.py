"""The migration engine: the lifecycle of a run over per-table load decisions.

``migrate(plan)`` opens the sources and the target, prepares the schema, decides per table
spec how its rows go in (:mod:`ferry.load.decide`: unchanged, native, direct, compare-first
or staged), streams every source once through the mode objects that carry those decisions
out (:mod:`ferry.load.stream`, :mod:`ferry.load.strategy`), finishes the tables (deletes
children first, then merges by key parents first), journals the run and commits, all in one
target transaction.
``preview=True`` does all of it and rolls back, so its counts are exactly what a migration
would do. Any failure or a cancel rolls back: the target is left as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import Cancelled, FerryError, PlanError, RejectedRowsError
from .events import CancelToken, Emit, StepStarted, ignore_events
from .load import finish as finishing
from .load.books import discard_attempt, keep_run_prints
from .load.changeset import ChangeRecorder
from .load.cyclickeys import defer_cyclic_keys, restore_cyclic_keys
from .load.inworker import ReadInProcess
from .load.journal import ensure_journal, write_journal
from .load.mapping import prepare_schema
from .load.rerun import completed_migrations, last_fingerprints, loaded_before
from .load.route import RestartStaged, RunView
from .load.route import Route as _Route
from .load.route import source_key_values as _source_key_values
from .load.routes import plan_routes
from .load.rowprints import kept_entries
from .load.staged import MAX_KEPT_CONFLICTS
from .load.stream import Pipeline
from .native import apart
from .plan import Plan
from .report.write import ReportKind, report_paths
from .results import Reject, RunResult, TableResult
from .runcontext import MAX_KEPT_REJECTS, RunContext
from .safety.logfile import log_exception, logged
from .safety.runlock import hold_target_async
from .shape.asstored import widened_columns
from .shape.schema import TableInfo
from .shape.triggersaside import put_back, set_aside
from .sources import SourceReader, SourceTable, journalmode, privatefiles
from .sources.merge import MergeSource
from .targets import Target, open_target
from .values.targetstyles import TableStyles

_log = logging.getLogger(__name__)


async def migrate(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    preview: bool = False,
    diff_tables: Collection[str] = (),
    diff_limit: int = 100,
    sample: int | None = None,
    backup: Mapping[str, Any] | None = None,
    write_reports: bool = True,
    wait: bool = False,
    report_unchanged: bool = True,
    syncing: bool = False,
) -> RunResult:
    """Run the plan; with ``preview=True`` do everything and roll back.

    ``diff_tables`` (``"*"`` for all) collects, per table, up to ``diff_limit`` row-level
    diffs of updates and conflicts into ``RunResult.diffs``. ``sample`` (preview only) reads
    just the first rows of each source table, for sources too large to preview whole: the
    counts then describe the sample. ``backup`` (``id``, ``path``, ``manifest_sha256`` of the
    backup taken before) is journaled and reported with the run. With ``write_reports`` the
    run's HTML and JSON report go to the plan's report folder; the journal links to it.
    Sync cycles: ``report_unchanged=False`` (no report if nothing changed), ``syncing`` (prints).
    The target's run lock (:mod:`ferry.safety.runlock`) is taken first: when another Ferry run holds
    it, this raises :class:`~ferry.errors.TargetBusyError` at once, or with ``wait`` waits.

    Raises a :class:`~ferry.errors.FerryError` (the target then is unchanged) on bad input,
    refused connections, a stop-on-reject or conflict rule, or :class:`Cancelled`.
    """
    if sample is not None and not preview:
        raise PlanError("sampling is for previews only: a migration reads every row")
    from .scan.questions import require_answered

    require_answered(plan)  # the operator's open decisions come first (exit 3)
    run = _Run(plan, emit, cancel or CancelToken(), preview)
    run.diff_tables, run.diff_limit, run.sample = set(diff_tables), diff_limit, sample
    run.result.sample = sample
    run.backup = dict(backup) if backup else None
    run.result.backup_id = str(backup["id"]) if backup else None
    run.write_reports, run.report_unchanged, run.syncing = write_reports, report_unchanged, syncing
    run.wait = wait
    run.emit = logged(emit, _log)
    what = "preview" if preview else "migration"
    _log.info("%s of plan %s started (run %s)", what, plan.name, run.result.run_id)
    try:
        result = await run.execute()
    except BaseException as exc:
        log_exception(_log, what, exc)
        raise
    _log.info("%s finished: %s, %d rejected row(s), report %s",
              what, result.status, result.rejected_total, result.report_path)  # fmt: skip
    return result


class _Run:
    def __init__(self, plan: Plan, emit: Emit, cancel: CancelToken, preview: bool) -> None:
        self.plan = plan
        self.cancel = cancel
        self.preview = preview
        self.diff_tables: set[str] = set()
        self.diff_limit = 100
        self.sample: int | None = None
        self.backup: dict[str, Any] | None = None
        self.write_reports = self.report_unchanged = self.syncing = self.wait = False
        self.started_at = datetime.now(UTC)
        result = RunResult(
            run_id=uuid.uuid4().hex[:16],
            plan_name=plan.name,
            plan_hash=plan.digest(),
            mode="preview" if preview else "migrate",
            status="running",
            target="",
            started_at=self.started_at,
            finished_at=self.started_at,
        )
        #: warnings with their caps, rejects, steps, sources and the report (ferry.runcontext);
        #: ``emit``, ``result`` and ``_warned`` below read and set its parts
        self.ctx = RunContext(
            plan, emit, cancel, "preview" if preview else "migrate", record=result
        )
        self.ctx.started_at = self.started_at
        self.readers: dict[str, SourceReader] = {}
        self.source_tables: dict[str, SourceTable] = {}
        #: tables that must go through a stage: why a direct load of them was refused
        self.staged_only: dict[str, str] = {}
        #: tables whose file the worker processes gave up on (:mod:`ferry.load.inworker`)
        self.in_process: set[str] = set()
        #: the last completed run's table fingerprints (:mod:`ferry.load.rerun`)
        self.fingerprints: dict[str, dict[str, Any]] = {}
        self.loaded_before: set[str] = set()
        #: how each target table's existing rows spell values (ferry.values.targetstyles)
        self.styles: dict[str, TableStyles] = {}
        #: records what the run changes, for `ferry undo` (None in a preview)
        self.changes: ChangeRecorder | None = None
        self.routes: list[_Route] = []  #: this attempt's (for discard_attempt)

    # -- the run context's parts -------------------------------------------------------------
    @property
    def emit(self) -> Emit:
        """Where the run's events go (the context's ``emit``)."""
        return self.ctx.emit

    @emit.setter
    def emit(self, emit: Emit) -> None:
        self.ctx.emit = emit

    @property
    def result(self) -> RunResult:
        """The run's result; setting it (a restart puts back a copy) keeps warnings there."""
        record = self.ctx.record
        assert isinstance(record, RunResult)
        return record

    @result.setter
    def result(self, result: RunResult) -> None:
        self.ctx.bind(result, self.ctx.warning_counts)

    @property
    def _warned(self) -> dict[str, int]:
        """Warnings seen so far by kind (the context's caps)."""
        return self.ctx.warning_counts

    @_warned.setter
    def _warned(self, counts: dict[str, int]) -> None:
        self.ctx.warning_counts = counts

    # -- helpers -----------------------------------------------------------------------------
    def warn(self, message: str, table: str = "", kind: str = "", key: str = "") -> None:
        self.ctx.warn(message, table, kind, key)

    def reject(
        self, route: _Route, key: str, reason: str, row: dict[str, Any], kind: str = "transform"
    ) -> None:
        route.result.rejected += 1

        def key_values() -> dict[str, Any]:
            if kind != "transform":
                return {k: row.get(k) for k in route.mapper.key}
            return _source_key_values(route, row)

        self.ctx.reject(route.info.name, key, reason, row, kind, key_values)
        if route.spec.on_reject == "stop":
            raise RejectedRowsError(
                f"table {route.info.name}: row {key} was rejected: {reason}",
                hint='The plan stops on the first rejected row (on_reject = "stop"); '
                'fix the data or set on_reject = "skip". The target is unchanged.',
            )

    def _value_warner(self, table: str) -> Callable[[str, str], None]:
        return self.ctx.value_warner(table)

    def step(self, name: str, detail: str = "") -> float:
        return self.ctx.step_started(name, detail)

    def step_done(self, name: str, started: float, detail: str = "") -> None:
        self.ctx.step_done(name, started, detail)

    # -- the run -----------------------------------------------------------------------------
    async def execute(self) -> RunResult:
        if not self.plan.tables:
            raise PlanError(
                "the plan has no [[tables]]: there is nothing to migrate",
                hint="Add tables, or draft a plan with `ferry init DIR`.",
            )
        kind: ReportKind = "preview" if self.preview else "migrate"
        folder = self.plan.resolve(self.plan.report.dir)
        target = self.plan.target
        async with hold_target_async(
            target, self.plan.base_dir, wait=self.wait, emit=self.emit, cancel=self.cancel
        ):
            return await self._execute_locked(kind, folder)

    async def _execute_locked(self, kind: ReportKind, folder: Path) -> RunResult:
        try:
            await self._execute(kind, folder)
        except FerryError as exc:
            # The target is as it was; the report says what was done before the failure.
            self.result.status = "cancelled" if isinstance(exc, Cancelled) else "failed"
            self.result.error = exc.message
            self.result.finished_at = datetime.now(UTC)
            # (A plan whose own folder is missing has nowhere to put one.)
            if self.write_reports and self.plan.base_dir.is_dir():
                self.result.report_path = str(report_paths(kind, self.result.run_id, folder).html)
                self._write_report(kind, folder)
                exc.report_path = self.result.report_path
            raise
        if self._reported():
            self._write_report(kind, folder)
        return self.result

    def _reported(self) -> bool:
        return self.write_reports and (self.report_unchanged or self.result.noteworthy)

    async def _execute(self, kind: ReportKind, folder: Path) -> None:
        try:
            await self._open_sources()
            target = open_target(self.plan.target, self.plan.base_dir)
            readers, target.emit = self.readers.values(), self.emit
            target.wal_after_commit = journalmode.sources_in_wal(readers)
            target.private_source = privatefiles.private_source(readers)
            self.result.target = target.describe()
            started = self.step("connect", target.describe())
            await target.open()
            await target.drop_apart_leftovers()  # (under the run lock: a killed run's)
            self.step_done("connect", started)
            try:
                await self._run_attempts(target)
                self.result.status = "previewed" if self.preview else "completed"
                self.result.finished_at = datetime.now(UTC)
                if self._reported():
                    paths = report_paths(kind, self.result.run_id, folder)
                    self.result.report_path = str(paths.html)
                if not self.preview:
                    started = self.step("journal")
                    await write_journal(target, self.result)
                    self.step_done("journal", started)
                self.cancel.raise_if_cancelled()
                await asyncio.shield(target.finish(commit=not self.preview))
            except BaseException:
                if target.engine is not None:
                    # (with the connection gone the rollback fails too: the first error names it)
                    with contextlib.suppress(FerryError):
                        await asyncio.shield(target.finish(commit=False))
                raise
            finally:  # (after the run's transaction, which may hold their locks)
                await asyncio.shield(discard_attempt(self.routes))
        finally:
            for reader in self.readers.values():
                reader.close()
        self.result.finished_at = datetime.now(UTC)

    def _write_report(self, kind: ReportKind, folder: Path) -> None:
        """The run is over: a report that cannot be written is a warning, never a failure."""
        written = self.ctx.write_report(
            self.result.to_dict(), kind=kind, folder=folder, backup=self.backup
        )
        if written is None:
            self.result.report_path = None

    async def _open_sources(self) -> None:
        await self.ctx.open_sources()
        assert self.ctx.watch is not None
        self.readers, self.source_tables = self.ctx.readers, self.ctx.source_tables
        self.watch = self.ctx.watch

    async def _run_attempts(self, target: Target) -> None:
        """Run once; when the target refused rows loaded straight into an empty table, roll
        back and run again with that table staged (only the offending rows are rejected, as if
        staged from the start), or a file the worker processes gave up on read in process."""
        while True:
            before = copy.deepcopy(self.result)
            savepoint = await target.conn.begin_nested()
            try:
                await self._run(target)
            except (RestartStaged, ReadInProcess) as exc:
                await savepoint.rollback()
                await discard_attempt(self.routes)
                self.result, self._warned = before, {}
                for reader in self.readers.values():
                    reader.close()
                await self._open_sources()
                if isinstance(exc, ReadInProcess):
                    self.in_process.add(exc.table)
                    why = f"{exc.table}: the file is read in this process ({exc.why})"
                else:
                    self.staged_only[exc.refused.table] = exc.refused.reason
                    why = (f"{exc.refused.table} refused a row loaded straight into the empty "
                           f"table ({exc.refused.reason}); it is staged now")  # fmt: skip
                # Not a warning: the result is what a staged (or in-process) load gives; the
                # wizard is told why reading starts over.
                self.emit(StepStarted("read", f"again: {why}"))
                continue
            await savepoint.commit()
            return

    async def _run(self, target: Target) -> None:
        started = self.step("schema")
        tables = await self._prepare_schema(target)
        aside = await set_aside(target)  # the app's triggers Ferry carried: its writes fire none
        await ensure_journal(target)
        # undo: this run's changeset (ferry.load.changeset), made again on a staged restart
        self.changes = None
        if not self.preview:
            self.changes = ChangeRecorder(
                target, self.result.run_id, self.plan.options.undo_first_loads
            )
            await self.changes.prepare()
        runs = await completed_migrations(target)
        self.fingerprints = last_fingerprints(target, runs, self.result.plan_hash)
        self.loaded_before = loaded_before(runs)
        kept = await kept_entries(target, self.result.plan_hash)
        self.step_done("schema", started)

        view: RunView = self
        cyclic = await defer_cyclic_keys(view, target, tables)
        routes = self.routes = await plan_routes(view, target, tables, self._value_warner,
            self.staged_only, self.fingerprints, kept, in_process=self.in_process)  # fmt: skip
        started = self.step("read")
        await Pipeline(view, target).stream(routes)
        for change in await asyncio.to_thread(self.watch.changes):
            self.result.source_changes.append(change)
            message = change.sync_message() if self.syncing else change.message
            self.warn(message, kind=f"source-change:{change.path}")
        self._note_merges()
        self.step_done("read", started)

        started = self.step("merge")
        built = await apart.swap_in(view, target, routes) | finishing.indexed(routes)
        await finishing.finish_tables(view, target, routes, tables)
        await restore_cyclic_keys(target, cyclic)
        await finishing.finish_shapes(view, target, tables, built)
        await finishing.move_sequences(view, target, routes)
        if not self.preview:
            for route in routes:
                await finishing.fingerprint(view, target, route)
            await keep_run_prints(view, target, routes, kept)
        await put_back(target, aside)
        self.step_done("merge", started)

    def _note_merges(self) -> None:
        """Say what each merge source took from where, and which rows it held for deleted."""
        for reader in self.readers.values():
            if not isinstance(reader, MergeSource):
                continue
            summary = reader.summary
            self.result.merges.append(summary.to_dict())
            if summary.deleted:
                shown = "; ".join(summary.deleted_keys[:5])
                self.warn(
                    f"{summary.source}: {summary.deleted} rows are treated as deletions and "
                    f"not migrated ({summary.deletion_rule}; first: {shown})",
                    kind=f"{summary.source}:merge-deleted",
                )

    # -- schema ------------------------------------------------------------------------------
    async def _prepare_schema(self, target: Target) -> dict[str, TableInfo]:
        tables, ddl = await prepare_schema(
            self.plan, target, self.source_tables, self.result.schema_objects
        )
        self.result.ddl.extend(ddl)
        created = {name: info for name, info in tables.items() if info.created}
        self.result.schema_objects += await asyncio.to_thread(
            widened_columns, self.plan, self.readers, self.source_tables, created
        )
        self.ctx.warn_unread_tables()  # a table the app created since the plan was drafted
        for name, info in tables.items():
            for item in info.shape.not_carried if info.created and info.shape else []:
                self.warn(f"{name}: not carried to the target: {item}", name)
        return tables


__all__ = [
    "MAX_KEPT_CONFLICTS",
    "MAX_KEPT_REJECTS",
    "Cancelled",
    "Reject",
    "RunResult",
    "TableResult",
    "migrate",
]
