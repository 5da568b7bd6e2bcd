"""The migration engine: sources -> transforms -> staging -> merge, in one target transaction.

``migrate(plan)`` reads every source table a plan uses, maps and casts each row, stages the
rows in the target, then merges table after table (parents before children) by key under
the table's conflict rule, journals the run and commits. Reading, mapping and writing overlap
(a pipeline of batches); an empty target table is loaded directly, without stage and merge,
and a non-empty one stages rows it already holds unchanged as their key alone.
``preview=True`` does all of it and rolls back, so its counts are exactly what a migration
would do. Any failure or a cancel rolls back: the target is left as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from .errors import (
    Cancelled,
    ConflictError,
    FerryError,
    PlanError,
    RejectedRowsError,
    TargetError,
)
from .events import (
    CancelToken,
    Emit,
    StepStarted,
    TableFinished,
    TableProgress,
    ignore_events,
)
from .load.batching import Prefetch
from .load.diff import RowInsert, row_diff
from .load.journal import ensure_journal, write_journal
from .load.mapping import check_mapping, prepare_schema, row_mapper
from .load.modes import delete_all, identical_rows, refuse_second_append
from .load.progress import estimated_total
from .load.rerun import (
    last_fingerprints,
    loaded_state,
    may_fingerprint,
    skipped_result,
    still_unchanged,
    table_state,
)
from .load.sequences import advance_sequences
from .native.load import NativeLoad, keep_source_text, native_load
from .plan import ColumnSpec, Plan, TableSpec
from .report.write import ReportKind, report_paths
from .results import Reject, RunResult, TableResult
from .runcontext import MAX_KEPT_REJECTS, RunContext
from .safety.logfile import log_exception, logged
from .safety.runlock import hold_target_async
from .shape.ddl import after_load_ddl, sql_literal
from .shape.schema import ColumnInfo, TableInfo, check_names, dependency_order
from .sources import SourceReader, SourceTable
from .sources.merge import MergeSource
from .sources.sqlite import SqliteSource
from .targets import Stage, Target, open_target
from .targets.base import DirectLoadRefused, Encoded, NativeInsert, first_line
from .values.fastcells import keep_text
from .values.logical import LogicalType, value_type
from .values.targetstyles import TableStyles, overflow_warnings, table_styles
from .values.textbytes import all_utf8, check_bytes_mode, chunk_sql, rows_sql
from .values.transform import PLAIN_FIELDS, RowMapper, RowRefused
from .verify.integrity import references_checked_at_commit

_log = logging.getLogger(__name__)

#: keys of kept conflicts listed per table in the report; beyond this only the count grows
MAX_KEPT_CONFLICTS = 100
#: mapped batches waiting for the writer (bounds memory; two keep the database busy)
_AHEAD = 2
#: COPY text per chunk of a native load (bounds memory; big enough that SQLite streams)
_NATIVE_CHUNK_BYTES = 2 * 1024 * 1024


@dataclass
class _Route:
    """One target table fed from one source table during a run."""

    spec: TableSpec
    info: TableInfo
    mapper: RowMapper
    stage: Stage
    result: TableResult
    adapters: list[Any]
    known_fields: set[str]
    total: int | None
    #: when the table's first batch arrived (for rows/s)
    started: float = field(default_factory=time.perf_counter)
    #: seconds spent on this table alone (mapping, staging, merging)
    busy: float = 0.0
    #: rows go straight into the (empty) target table instead of the stage
    direct: bool = False
    #: rows the target already holds unchanged are staged as their key alone
    compare_first: bool = False
    #: rows loaded straight into the target table
    loaded: int = 0
    #: the mapper's compiled row function with the adapters (rebuilt when columns are added)
    row_fn: Callable[[dict[str, Any]], tuple[Any, ...] | None] | None = None
    #: SQLite maps this (direct) table's rows itself (:mod:`ferry.native.load`)
    native: NativeLoad | None = None
    #: the journaled fingerprint the source and table still match: nothing is read
    unchanged: dict[str, Any] | None = None


@dataclass
class _Work:
    """One mapped batch on its way from the reading thread to the target."""

    route: _Route
    rows_read: int
    prepared: list[tuple[Any, ...]]
    rejected: list[tuple[str, str, dict[str, Any]]]
    skipped: int
    encoded: Encoded
    seconds: float
    #: rows in ``encoded`` when they are not ``prepared`` (a native chunk)
    native_rows: int | None = None


class _RestartStaged(Exception):
    """A direct load was refused: the run starts over with that table staged."""

    def __init__(self, refused: DirectLoadRefused) -> None:
        super().__init__(str(refused))
        self.refused = refused


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
) -> RunResult:
    """Run the plan; with ``preview=True`` do everything and roll back.

    ``diff_tables`` (``"*"`` for all) collects, per table, up to ``diff_limit`` row-level
    diffs of updates and conflicts into ``RunResult.diffs``. ``sample`` (preview only) reads
    just the first rows of each source table, for sources too large to preview whole: the
    counts then describe the sample. ``backup`` (``id``, ``path``, ``manifest_sha256`` of the
    backup taken before) is journaled and reported with the run. With ``write_reports`` the
    run's HTML and JSON report go to the plan's report folder; the journal links to it.
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
    run.write_reports = write_reports
    run.wait = wait
    run.emit = logged(emit, _log)
    what = "preview" if preview else "migration"
    _log.info("%s of plan %s started (run %s)", what, plan.name, run.result.run_id)
    try:
        result = await run.execute()
    except BaseException as exc:
        log_exception(_log, what, exc)
        raise
    _log.info(
        "%s finished: %s, %d rejected row(s), report %s",
        what,
        result.status,
        result.rejected_total,
        result.report_path,
    )
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
        self.write_reports = False
        self.wait = False
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
        #: tables that must go through a stage (a direct load of them was refused)
        self.staged_only: set[str] = set()
        #: the last completed run's table fingerprints (:mod:`ferry.load.rerun`)
        self.fingerprints: dict[str, dict[str, Any]] = {}
        #: how each target table's existing rows spell their values
        #: (:mod:`ferry.values.targetstyles`)
        self.styles: dict[str, TableStyles] = {}

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
        """The run's result; setting it (a restart puts back a copy) makes the context keep
        warnings and rejects there."""
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
        if self.write_reports:
            self._write_report(kind, folder)
        return self.result

    async def _execute(self, kind: ReportKind, folder: Path) -> None:
        try:
            await self._open_sources()
            target = open_target(self.plan.target, self.plan.base_dir)
            target.emit = self.emit
            self.result.target = target.describe()
            started = self.step("connect", target.describe())
            await target.open()
            self.step_done("connect", started)
            try:
                await self._run_attempts(target)
                self.result.status = "previewed" if self.preview else "completed"
                self.result.finished_at = datetime.now(UTC)
                if self.write_reports:
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
                    # The rollback fails too when the connection is gone: the first failure
                    # names the step that really failed, not "finishing the transaction".
                    with contextlib.suppress(FerryError):
                        await asyncio.shield(target.finish(commit=False))
                raise
        finally:
            for reader in self.readers.values():
                reader.close()
        self.result.finished_at = datetime.now(UTC)

    def _write_report(self, kind: ReportKind, folder: Path) -> None:
        """The run is over (committed or rolled back): a report that cannot be written is a
        warning, never a failure of the run."""
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
        back to before the run and run again with that table staged (so only the offending
        rows are rejected, exactly as if it had been staged from the start)."""
        while True:
            before = copy.deepcopy(self.result)
            savepoint = await target.conn.begin_nested()
            try:
                await self._run(target)
            except _RestartStaged as exc:
                await savepoint.rollback()
                refused = exc.refused
                self.result, self._warned = before, {}
                self.staged_only.add(refused.table)
                for reader in self.readers.values():
                    reader.close()
                await self._open_sources()
                # Not a warning: the result is what a staged load gives (it reports the
                # offending rows); the wizard is told why reading starts over.
                self.emit(
                    StepStarted(
                        "read",
                        f"again: {refused.table} refused a row loaded straight into the "
                        f"empty table ({refused.reason}); it is staged now",
                    )
                )
                continue
            await savepoint.commit()
            return

    async def _run(self, target: Target) -> None:
        started = self.step("schema")
        tables = await self._prepare_schema(target)
        await ensure_journal(target)
        self.fingerprints = await last_fingerprints(target, self.result.plan_hash)
        self.step_done("schema", started)

        routes = await self._make_routes(target, tables)
        started = self.step("read")
        await self._stream(target, routes)
        for change in await asyncio.to_thread(self.watch.changes):
            self.result.source_changes.append(change)
            self.warn(change.message, kind=f"source-change:{change.path}")
        self._note_merges()
        self.step_done("read", started)

        started = self.step("merge")
        order = dependency_order([r.info.name for r in routes], tables)
        for name in order:
            for route in (r for r in routes if r.info.name == name):
                self.cancel.raise_if_cancelled()
                await self._merge(target, route)
        for route in routes:
            if route.spec.mode != "merge" and route.unchanged is None:
                await self._note_identical_rows(target, route)
            for message in await overflow_warnings(
                target, route.info, route.mapper.key, route.mapper.columns, route.adapters
            ):
                self.warn(message, route.info.name)
        await self._finish_shapes(target, tables)
        await self._advance_sequences(target, routes)
        if not self.preview:
            for route in routes:
                await self._fingerprint(target, route)
        self.step_done("merge", started)

    async def _note_identical_rows(self, target: Target, route: _Route) -> None:
        """Warn about rows identical in every column in a table loaded without a key."""
        count, first = await identical_rows(target, route.info.name, list(route.mapper.columns))
        if count:
            shown = "; ".join(", ".join(f"{k}={v!r}" for k, v in row.items()) for row in first)
            self.warn(
                f"{route.info.name}: {count} rows are identical in every column to another "
                f"row (loaded as they are, mode = {route.spec.mode}; first: {shown})",
                route.info.name,
                kind=f"{route.info.name}:identical-rows",
            )

    def _rerun_source(self, spec: TableSpec) -> str | None:
        """The source whose unchanged files let a re-run skip ``spec``'s table: a SQLite
        source table feeding this spec alone, into a table no other spec feeds."""
        name = spec.source.split(".", 1)[0]
        if (
            self.sample is not None
            or type(self.readers.get(name)) is not SqliteSource
            or sum(1 for s in self.plan.tables if s.source == spec.source) != 1
            or sum(1 for s in self.plan.tables if s.name == spec.name) != 1
        ):
            return None
        return name

    async def _fingerprint(self, target: Target, route: _Route) -> None:
        """Journal what a re-run needs to skip this table when nothing changes."""
        name = self._rerun_source(route.spec)
        if (
            name is None
            or target.dialect_name != "postgresql"
            or not may_fingerprint(route.result)
            or any(change.source == name for change in self.result.source_changes)
        ):
            return
        if route.unchanged is not None:
            route.result.fingerprint = route.unchanged
            return
        files = self.watch.fingerprint(name)
        if files is None:
            return
        if route.direct:  # every row was written by this run, in one subtransaction
            rows, xmins = await loaded_state(target, route.info.name, route.loaded)
        else:
            rows, xmins = await table_state(target, route.info.name)
        route.result.fingerprint = {
            "files": files,
            "rows": rows,
            "read": route.result.rows_read,
            "xmins": xmins,
        }

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
        for name, info in tables.items():
            for item in info.shape.not_carried if info.created and info.shape else []:
                self.warn(f"{name}: not carried to the target: {item}", name)
        return tables

    async def _finish_shapes(self, target: Target, tables: dict[str, TableInfo]) -> None:
        """Build the created tables' indexes (and on PostgreSQL add their foreign keys and
        move their identities past the loaded ids) now that the rows are in: faster than
        keeping indexes up to date row by row, and free of any load order."""
        for name, info in tables.items():
            if not info.created or info.shape is None:
                continue
            fks = info.shape.foreign_keys
            if (
                target.dialect_name == "sqlite"
                and fks
                and await references_checked_at_commit(target, fks)
            ):
                await self._check_references(target, name)
            for statement in after_load_ddl(name, info.shape, target.dialect_name):
                self.cancel.raise_if_cancelled()
                try:
                    await target.conn.exec_driver_sql(target.driver_sql(statement))
                except DBAPIError as exc:
                    diag = getattr(exc.orig, "diag", None)
                    detail = getattr(diag, "message_detail", None) or ""
                    reason = f"{first_line(exc.orig)} {detail}".strip()
                    raise TargetError(
                        f"table {name}: {statement.split(' (', 1)[0]} failed after the load: "
                        f"{reason}",
                        hint="The source's rows break this constraint or index (the source "
                        "never enforced it); fix them in the source and run again. Nothing "
                        "was written to the target.",
                        details=statement,
                    ) from None
                self.result.ddl.append(statement)

    async def _advance_sequences(self, target: Target, routes: list[_Route]) -> None:
        """Move the sequences of existing tables that received rows past the ids loaded
        (a created table's identity is set by :meth:`_finish_shapes`), and say so."""
        if not target.sequences_lag_ids:
            return
        fed = {r.info.name for r in routes if not r.info.created and r.result.inserted}
        for name in sorted(fed):
            for move in await advance_sequences(target, name):
                self.warn(move.message(), name, kind=f"{name}:sequence:{move.sequence}")

    async def _check_references(self, target: Target, name: str) -> None:
        """Rows of a created SQLite table whose reference is missing (possible only where
        foreign keys are checked at commit): a clear error now rather than a bare
        "FOREIGN KEY constraint failed" from the commit."""
        found = await target.fetch_dicts(
            f"SELECT rowid, parent, fkid FROM pragma_foreign_key_check({sql_literal(name)}) "
            "LIMIT 5",
            f"checking the references of {name}",
        )
        if found:
            shown = ", ".join(f"rowid {row['rowid']} -> {row['parent']}" for row in found)
            raise TargetError(
                f"table {name}: rows reference rows missing from their parent table "
                f"(first: {shown})",
                hint="The source never enforced these foreign keys; fix the rows in the "
                "source and run again. Nothing was written to the target.",
            )

    # -- routes ------------------------------------------------------------------------------
    async def _make_routes(self, target: Target, tables: dict[str, TableInfo]) -> list[_Route]:
        routes = []
        replaced = await self._replace_rows(target, tables)
        for spec in self.plan.tables:
            info = tables[spec.name]
            source = self.source_tables[spec.source]
            mapper = row_mapper(
                self.plan, spec, info, source, self.started_at, warn=self._value_warner(spec.name)
            )
            check_mapping(spec, info, mapper)
            check_bytes_mode(spec, info, target.dialect_name, mapper.invalid_text_modes())
            compare = [
                c for c in mapper.columns if c not in mapper.key and c not in mapper.now_columns
            ]
            if spec.mode == "append":
                await refuse_second_append(target, info.name)
            # Appended rows match nothing: the stage has no key (every row is an insert).
            stage_key = mapper.key if spec.mode == "merge" else []
            stage = await target.create_stage(info, list(mapper.columns), stage_key, compare)
            styles = await table_styles(target, spec, info, mapper.columns)
            self.styles[info.name] = styles
            for message in styles.warnings:
                self.warn(message, info.name, kind=f"{info.name}:style:{message}")
            route = _Route(
                spec=spec,
                info=info,
                mapper=mapper,
                stage=stage,
                result=TableResult(
                    spec.name,
                    spec.source,
                    created=info.created,
                    deleted=replaced.pop(info.name, 0),
                    load_mode=spec.mode,
                ),
                adapters=[styles.adapter(target, c, info.columns[c].type) for c in mapper.columns],
                known_fields=set(source.columns),
                total=source.row_estimate,
            )
            kept = self._keep_text(target, route, styles)
            route.direct, route.compare_first = await self._load_mode(target, spec, info, mapper)
            if route.direct:
                # SQLite's mapping writes Ferry's own spelling: a styled table goes to Python.
                if not set(styles.chosen) & set(mapper.columns):
                    route.native = await self._native(target, spec, info, mapper)
                if route.native is not None and kept:
                    route.native = keep_source_text(route.native, kept)
            elif spec.name in self.fingerprints and (source_name := self._rerun_source(spec)):
                fingerprint = self.fingerprints[spec.name]
                files = self.watch.fingerprint(source_name)
                if await still_unchanged(target, info.name, fingerprint, files):
                    route.unchanged = fingerprint
            if not info.created:
                for field_name in source.columns:
                    self._note_unmapped(route, field_name)
            routes.append(route)
        return routes

    async def _replace_rows(self, target: Target, tables: dict[str, TableInfo]) -> dict[str, int]:
        """Delete the rows of the tables the plan loads with ``mode = "replace"`` (children
        first), before any row is written: how many each had (the counts show them deleted)."""
        replaced = list(dict.fromkeys(s.name for s in self.plan.tables if s.mode == "replace"))
        deleted: dict[str, int] = {}
        for name in reversed(dependency_order(replaced, tables)):
            deleted[name] = await delete_all(target, name)
            if deleted[name]:
                self.warn(
                    f"{name}: mode = replace: its {deleted[name]} rows are replaced by the "
                    "source's",
                    name,
                )
        return deleted

    def _keep_text(self, target: Target, route: _Route, styles: TableStyles) -> set[str]:
        """Timestamp columns a SQLite source feeds a SQLite target without any transform,
        where no style is chosen: their ISO text is copied as the app wrote it (byte for
        byte), not respelled (with a zone for naive times in the plan, it is converted)."""
        reader = self.readers.get(route.spec.source.split(".", 1)[0])
        if (
            target.dialect_name != "sqlite"
            or type(reader) is not SqliteSource
            or route.spec.hook
            or self.plan.options.zone is not UTC
        ):
            return set()
        kept = set()
        for index, column in enumerate(route.mapper.mapped_columns()):
            spec = column.spec
            if (
                column.type == "timestamp"
                and route.info.columns[column.name].type == "timestamp"
                and spec.from_ is not None
                and column.steps is None
                and spec.model_fields_set <= PLAIN_FIELDS
                and column.name not in styles.chosen
            ):
                route.adapters[index] = keep_text(route.adapters[index])
                kept.add(column.name)
        return kept

    async def _native(
        self, target: Target, spec: TableSpec, info: TableInfo, mapper: RowMapper
    ) -> NativeLoad | None:
        """How SQLite maps this directly loaded table itself, when it can (a whole read, a
        SQLite source table feeding this spec alone, plain columns)."""
        reader = self.readers.get(spec.source.split(".", 1)[0])
        if (
            not self.plan.options.native
            or self.sample is not None
            or type(reader) is not SqliteSource
            or sum(1 for s in self.plan.tables if s.source == spec.source) != 1
        ):
            return None
        source = self.source_tables[spec.source]
        # A column of that name would stand for the rowid the chunks are read by.
        if {"rowid", "oid", "_rowid_"} & {c.lower() for c in source.columns}:
            return None
        if not await target.takes_native():
            return None
        native = native_load(
            spec,
            info,
            mapper,
            source,
            target.dialect_name,
            zone=self.plan.options.zone is not UTC,
            required=spec.skip_when_null,
        )
        if native is None or not await asyncio.to_thread(reader.has_rowid, native.origin):
            return None
        return native

    async def _load_mode(
        self, target: Target, spec: TableSpec, info: TableInfo, mapper: RowMapper
    ) -> tuple[bool, bool]:
        """(direct, compare_first) for a table whose primary key is the plan's key.

        Direct: rows go straight into the table, skipping stage and merge, when it is empty
        and fed by this table spec alone (a repeated key is refused by the database and the
        table is staged after all). Compare first: in a non-empty table keyed by one column,
        each batch's rows are looked up by key and the unchanged ones staged as their key
        alone (a re-run on unchanged data then writes almost nothing)."""
        if spec.mode != "merge":  # appended: straight in when the table is empty
            alone = sum(1 for s in self.plan.tables if s.name == spec.name) == 1
            direct = alone and info.name not in self.staged_only and await target.is_empty(info)
            return direct, False
        if not mapper.key or set(info.primary_key) != set(mapper.key):
            return False, False
        if await target.is_empty(info):
            alone = sum(1 for s in self.plan.tables if s.name == spec.name) == 1
            return alone and info.name not in self.staged_only, False
        return False, len(mapper.key) == 1

    def _note_unmapped(self, route: _Route, field_name: str) -> None:
        if (
            field_name not in route.mapper.source_fields
            and field_name not in route.spec.ignore
            and route.spec.map_all
        ):
            self.warn(
                f"{route.spec.source}: field {field_name!r} has no column in table "
                f"{route.info.name}; it is not migrated",
                route.info.name,
                kind=f"{route.info.name}:unmapped:{field_name}",
            )

    # -- streaming ---------------------------------------------------------------------------
    async def _stream(self, target: Target, routes: list[_Route]) -> None:
        """Read, map and write every batch as a pipeline: a worker thread reads and maps the
        next batches (at most ``_AHEAD`` waiting) while the event loop writes the current one,
        so the database works while Python maps."""
        queue: asyncio.Queue[_Work | BaseException | None] = asyncio.Queue(maxsize=_AHEAD)
        producer = asyncio.create_task(self._produce(target, routes, queue))
        try:
            while (work := await queue.get()) is not None:
                try:
                    if isinstance(work, BaseException):
                        raise work
                    self.cancel.raise_if_cancelled()
                    await self._write(target, work)
                finally:
                    queue.task_done()
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer

    async def _produce(
        self, target: Target, routes: list[_Route], queue: asyncio.Queue[Any]
    ) -> None:
        """Read and map batches into ``queue``; ends with None, or with the error that
        stopped it."""
        try:
            await self._read_all(target, routes, queue)
        except Exception as exc:  # handed to the writer, which raises it in order
            await queue.put(exc)
            return
        await queue.put(None)

    async def _read_all(
        self, target: Target, routes: list[_Route], queue: asyncio.Queue[Any]
    ) -> None:
        by_source: dict[str, list[_Route]] = {}
        for route in routes:
            by_source.setdefault(route.spec.source, []).append(route)
        batch_size = self.plan.options.batch_size
        for name, reader in self.readers.items():
            mine = [r for r in routes if r.spec.source.split(".", 1)[0] == name]
            native = [r for r in mine if r.native is not None]
            unchanged = {r.spec.source for r in mine if r.unchanged is not None}
            if isinstance(reader, SqliteSource):
                reader.skip_tables = {r.spec.source for r in native} | unchanged
            if native:
                assert isinstance(reader, SqliteSource)
                await self._load_natives(target, native, reader, queue)
            ahead = not reader.parses_in_python
            async with Prefetch(reader.batches(batch_size), ahead) as batches:
                await self._map_source(target, by_source, mine, batches, queue)

    async def _map_source(
        self,
        target: Target,
        by_source: dict[str, list[_Route]],
        mine: list[_Route],
        batches: Prefetch,
        queue: asyncio.Queue[Any],
    ) -> None:
        sample = self.sample
        while True:
            self.cancel.raise_if_cancelled()
            if sample is not None and all(r.result.rows_read >= sample for r in mine):
                break  # the sample is complete: the rest of the source is not read
            batch = await batches.next()
            if batch is None:
                break
            for route in by_source.get(batch.table, []):
                rows = batch.rows
                if sample is not None:
                    rows = rows[: max(sample - route.result.rows_read, 0)]
                    if not rows:
                        continue
                if not route.result.rows_read:
                    route.started = time.perf_counter()
                new = await asyncio.to_thread(_new_fields, route.known_fields, rows)
                if new:
                    await queue.join()  # schema changes wait for the writes before them
                    await self._widen_for_new_fields(target, route, new)
                    route.row_fn = None
                if route.row_fn is None:
                    route.row_fn = route.mapper.row_function(route.adapters)
                work = await asyncio.to_thread(_map_rows, route, target, rows)
                route.result.rows_read += len(rows)
                work.rows_read = route.result.rows_read
                await queue.put(work)

    async def _load_natives(
        self,
        target: Target,
        routes: list[_Route],
        reader: SqliteSource,
        queue: asyncio.Queue[Any],
    ) -> None:
        """Load the tables SQLite maps itself (:mod:`ferry.native.load`), chunk after chunk.

        Into PostgreSQL the tables' chunks are interleaved so each table has read the same
        share of its rows: a table of long texts keeps the server busy, one of many small
        rows keeps the reader busy, and in turns both work at once (first run 0.75× the time
        of table after table on the benchmark's data)."""
        if target.dialect_name == "sqlite":
            await queue.join()  # SQLite copies in the target's own thread: no pipeline
            for route in routes:
                await self._insert_native(target, route, reader)
            return
        streams = [(route, self._native_chunks(target, route, reader)) for route in routes]
        try:
            while streams:
                stream = min(streams, key=lambda s: _share_read(s[0]))
                work = await anext(stream[1], None)
                if work is None:
                    streams.remove(stream)
                else:
                    await queue.put(work)
        finally:  # a cancel or an error: close the tables' chunk readers now, not at exit
            for _, chunks in streams:
                await chunks.aclose()

    async def _native_chunks(
        self, target: Target, route: _Route, reader: SqliteSource
    ) -> AsyncGenerator[_Work, None]:
        """``route``'s table, chunk after chunk, as SQLite maps it: binary COPY where every
        column's type takes it (the server copies values instead of parsing text), else CSV;
        then the rows SQLite leaves out, mapped by Python."""
        native = route.native
        assert native is not None
        source = self.source_tables[route.spec.source]
        rows = await self._start_native(route, reader)
        types = native.binary_types
        encode = await target.binary_encoder(types) if types is not None else None
        sql = native.csv_sql() if encode is None else native.binary_sql()
        after = -(2**63)
        while True:
            self.cancel.raise_if_cancelled()
            began = time.perf_counter()
            if encode is None:
                text, count, mapped, last = await asyncio.to_thread(
                    reader.query_one, sql, (after, rows), native.origin
                )
                # COPY takes a last line without \n
                encoded = Encoded(0, text or b"", csv=True)
            else:
                data, count, mapped, last = await asyncio.to_thread(
                    _binary_chunk, reader, native, route.info.name, sql, encode, (after, rows)
                )
                encoded = Encoded(0, data, binary=True)
            if not count:
                return
            route.result.rows_read += count
            seconds = time.perf_counter() - began
            yield _Work(
                route, route.result.rows_read, [], [], 0, encoded, seconds, native_rows=mapped
            )
            if mapped < count:
                flagged = await self._rowid_work(
                    route, target, reader, source, after, last, flagged=True
                )
                flagged.rows_read = route.result.rows_read
                yield flagged
            after = last

    async def _start_native(self, route: _Route, reader: SqliteSource) -> int:
        """Start ``route``'s native load; the rows per chunk (about ``_NATIVE_CHUNK_BYTES``
        of source values, 1000 to 100,000)."""
        native = route.native
        assert native is not None
        route.started = time.perf_counter()
        route.row_fn = route.mapper.row_function(route.adapters)  # for the rows SQLite leaves
        width = await asyncio.to_thread(reader.row_bytes, native.origin, native.source_columns)
        return max(1000, min(100_000, _NATIVE_CHUNK_BYTES // max(width, 16)))

    async def _insert_native(self, target: Target, route: _Route, reader: SqliteSource) -> None:
        """A SQLite target copies the rows from the attached source, a chunk at a time."""
        native = route.native
        assert native is not None
        source = self.source_tables[route.spec.source]
        rows = await self._start_native(route, reader)
        sql = native.insert_sql(route.info.name, await target.attach(reader.path))
        # The next chunk is found and its text checked (in the reader's thread) while SQLite
        # copies this one (in the target's): the check costs about as much as the copy. The
        # reader does one thing at a time: Python reads rows only once the check is done.
        after = -(2**63)
        ahead: asyncio.Future[tuple[int | None, int, int, bool]] | None = _chunk_ahead(
            reader, native, after, rows
        )
        try:
            while ahead is not None:
                self.cancel.raise_if_cancelled()
                began = time.perf_counter()
                end, last, count, utf8 = await ahead
                ahead = None if end is None else _chunk_ahead(reader, native, end, rows)
                if count and not utf8:
                    # Text that is not UTF-8, which SQLite would copy as it is: Python maps
                    # the chunk (the plan's invalid_text decides).
                    await _idle(ahead)
                    work = await self._rowid_work(route, target, reader, source, after, last)
                    await self._write(target, work)
                elif count:
                    insert = NativeInsert(reader.path, sql, (after, last))
                    try:
                        loaded = await target.load_direct(route.stage, Encoded(0, insert))
                    except DirectLoadRefused as exc:
                        raise _RestartStaged(exc) from None
                    route.loaded += loaded or 0
                    route.result.mapped_by_sqlite += loaded or 0
                    route.result.rows_read += count
                    route.busy += time.perf_counter() - began
                    if (loaded or 0) < count:
                        await _idle(ahead)
                        flagged = await self._rowid_work(
                            route, target, reader, source, after, last, flagged=True
                        )
                        flagged.rows_read = route.result.rows_read
                        await self._write(target, flagged)
                    else:
                        self._progress(route, route.result.rows_read)
                after = last
        finally:
            await _idle(ahead)  # the reader's thread is done before the reader is reused

    async def _rowid_work(
        self,
        route: _Route,
        target: Target,
        reader: SqliteSource,
        source: SourceTable,
        after: int,
        last: int,
        *,
        flagged: bool = False,
    ) -> _Work:
        """The rows of rowids ``(after, last]`` mapped by Python: every row (counted as read
        here), or with ``flagged`` only those SQLite left to Python (read with its chunk)."""
        native = route.native
        assert native is not None
        sql = native.flagged_sql() if flagged else rows_sql(native.origin, native.source_columns)
        rows = await asyncio.to_thread(
            reader.rows_where, source, sql, (after, last), native.source_columns
        )
        work = await asyncio.to_thread(_map_rows, route, target, rows)
        if not flagged:
            route.result.rows_read += len(rows)
            work.rows_read = route.result.rows_read
        return work

    def _progress(self, route: _Route, rows_read: int) -> None:
        elapsed = max(time.perf_counter() - route.started, 1e-6)
        total = route.total
        if total is None:  # a JSON file counts nothing ahead: estimate from the bytes read
            reader = self.readers.get(route.spec.source.split(".", 1)[0])
            total = estimated_total(rows_read, reader.read_share() if reader else None)
        self.emit(TableProgress(route.info.name, rows_read, total, rows_read / elapsed))

    async def _write(self, target: Target, work: _Work) -> None:
        """Write one mapped batch (stage or direct) and account for it."""
        route = work.route
        began = time.perf_counter()
        route.result.skipped += work.skipped
        for key, reason, row in work.rejected:
            self.reject(route, key, reason, row)
        if route.direct:
            try:
                await target.load_direct(route.stage, work.encoded)
            except DirectLoadRefused as exc:
                raise _RestartStaged(exc) from None
            if work.native_rows is None:
                route.loaded += len(work.prepared)
            else:
                route.loaded += work.native_rows
                route.result.mapped_by_sqlite += work.native_rows
        else:
            encoded = work.encoded
            if route.compare_first and work.prepared:
                encoded = await self._mark_unchanged(target, route, work.prepared)
            refused = await target.write_stage(route.stage, work.prepared, encoded)
            for index, reason in refused:
                values = work.prepared[index]
                row_values = route.mapper.values_dict(values)
                self.reject(route, route.mapper.key_of(values), reason, row_values, "constraint")
        route.busy += work.seconds + time.perf_counter() - began
        self._progress(route, work.rows_read)

    async def _mark_unchanged(
        self, target: Target, route: _Route, prepared: list[tuple[Any, ...]]
    ) -> Encoded:
        """Look the batch's keys up in the target and encode the rows, the unchanged ones as
        key-only markers (see :meth:`Target.encode_rows`)."""
        stage = route.stage
        key = stage.columns.index(stage.key[0])
        existing = await target.existing_rows(stage, [row[key] for row in prepared])
        compared = [stage.columns.index(c) for c in stage.compare]

        def encode() -> Encoded:
            same = []
            for row in prepared:
                old = existing.get(row[key])
                same.append(old is not None and old == tuple([row[i] for i in compared]))
            return target.encode_rows(stage, prepared, direct=False, same=same)

        return await asyncio.to_thread(encode)

    async def _widen_for_new_fields(
        self, target: Target, route: _Route, new: dict[str, Any]
    ) -> None:
        """Fields the first records did not show (``new``: a value of each, from
        :func:`_new_fields`): add columns to a table Ferry created, otherwise warn once that
        they are not migrated."""
        known = route.known_fields
        for field_name, sample in new.items():
            known.add(field_name)
            mapped = field_name in route.mapper.source_fields
            in_table = field_name in route.info.columns
            carried = route.spec.map_all and field_name not in route.spec.ignore
            if carried and in_table and not mapped and field_name not in route.mapper.columns:
                type_existing = route.info.columns[field_name].type
                await target.add_stage_column(route.stage, route.info.columns[field_name])
                route.mapper.add_column(
                    field_name, ColumnSpec.model_validate({"from": field_name}), type_existing
                )
                styles = self.styles.get(route.info.name, TableStyles())
                route.adapters.append(styles.adapter(target, field_name, type_existing))
            elif route.info.created and carried and not mapped and not in_table:
                type_: LogicalType = (
                    route.spec.types.get(field_name) or value_type(sample) or "text"
                )
                column = ColumnInfo(field_name, type_)
                check_names(
                    TableInfo(route.info.name, {field_name: column}),
                    target.capabilities.max_identifier_bytes,
                )
                self.result.ddl.append(await target.add_column(route.info, column))
                await target.add_stage_column(route.stage, column)
                route.mapper.add_column(
                    field_name, ColumnSpec.model_validate({"from": field_name}), type_
                )
                route.adapters.append(target.adapt(type_))
            else:
                self._note_unmapped(route, field_name)

    # -- merging -----------------------------------------------------------------------------
    def _diffs_wanted(self, route: _Route) -> bool:
        return "*" in self.diff_tables or route.info.name in self.diff_tables

    def _note_inserts(self, route: _Route, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            key = route.mapper.key_of(row)
            first = {k: row[k] for k in route.mapper.key if k in row}  # the key columns lead
            values = first | {k: v for k, v in row.items() if k not in first}
            self.result.inserts.append(RowInsert(route.info.name, key, values))

    async def _merge(self, target: Target, route: _Route) -> None:
        stage, spec, result = route.stage, route.spec, route.result
        started = time.perf_counter()
        if route.unchanged is not None:
            # Source files and table as the last run left them: every row is unchanged.
            skipped_result(result, route.unchanged)
            self.emit(TableFinished(route.info.name, result.counts(), 0.0))
            self.result.tables.append(result)
            return
        if route.direct:
            # Loaded straight into the table, which was empty: every row is an insert.
            if self._diffs_wanted(route):
                loaded = await target.loaded_rows(stage, self.diff_limit)
                self._note_inserts(route, loaded)
            result.inserted = route.loaded
            result.seconds = route.busy
            self.emit(TableFinished(route.info.name, result.counts(), 0.0))
            self.result.tables.append(result)
            return
        await target.index_stage(stage)
        duplicates, dropped = await target.dedupe_stage(stage, MAX_KEPT_REJECTS)
        if duplicates:
            result.duplicates = duplicates
            first = list(dict.fromkeys(route.mapper.key_of(row) for row in dropped))[:5]
            self.warn(
                f"{spec.source}: {duplicates} rows repeat a key of a later row in "
                f"{route.info.name}; the last one of each key is used (first: "
                f"{'; '.join(first)})",
                route.info.name,
            )
            for row in dropped[: MAX_KEPT_REJECTS - len(self.result.rejects)]:
                self.result.rejects.append(
                    Reject(
                        route.info.name,
                        route.mapper.key_of(row),
                        "duplicate key: a later row with the same key replaces it",
                        row,
                        kind="duplicate",
                        key_values={k: row.get(k) for k in route.mapper.key},
                    )
                )
        if spec.conflict == "error":
            counts = await target.classify(stage, "error", None)
            if counts.conflicts:
                keys = await target.conflict_keys(stage, 5)
                shown = "; ".join(route.mapper.key_of(k) for k in keys)
                raise ConflictError(
                    f"table {route.info.name}: {counts.conflicts} rows already exist in the "
                    f"target with other values (first: {shown})",
                    hint='The plan\'s conflict rule is "error". Choose insert, update or newer '
                    "for that table, or fix the data. The target is unchanged.",
                )
        # A rejected row never reached the stage, so its key would look missing from the
        # source: deleting then would remove the very row the source still holds.
        delete_missing = spec.delete_missing and not result.rejected
        if spec.delete_missing and result.rejected:
            self.warn(
                f"{route.info.name}: rows missing from the source were not deleted because "
                f"{result.rejected} source rows were rejected",
                route.info.name,
            )
        kept: list[str] = []
        if self._diffs_wanted(route):
            self._note_inserts(route, await target.inserted_rows(stage, self.diff_limit))
            changed = await target.changed_rows(
                stage, spec.conflict, spec.newer_by, self.diff_limit
            )
            skip = set(route.mapper.now_columns)
            for before, after, applied in changed:
                key = route.mapper.key_of(after)
                self.result.diffs.append(row_diff(route.info, key, before, after, applied, skip))
                if not applied:
                    kept.append(key)
        elif spec.conflict in ("insert", "newer") and spec.mode == "merge":
            # the report lists kept conflicts by key (an audit asks which rows kept old values)
            changed = await target.changed_rows(
                stage, spec.conflict, spec.newer_by, MAX_KEPT_CONFLICTS
            )
            kept = [route.mapper.key_of(after) for _, after, applied in changed if not applied]
        self.result.kept_conflicts += [
            {"table": route.info.name, "key": key} for key in kept[:MAX_KEPT_CONFLICTS]
        ]
        counts = await target.merge(stage, spec.conflict, spec.newer_by, delete_missing)
        result.inserted, result.updated = counts.inserted, counts.updated
        result.unchanged, result.conflicts = counts.unchanged, counts.conflicts
        result.deleted += counts.deleted  # (mode replace: the rows deleted before the load)
        if counts.conflicts and spec.conflict in ("insert", "newer"):
            rule = "newer rows in the target" if spec.conflict == "newer" else "existing rows"
            self.warn(
                f"{route.info.name}: {counts.conflicts} conflicting rows kept as they are "
                f"in the target ({rule} win)",
                route.info.name,
            )
        for row, reason in counts.rejected:
            self.reject(route, route.mapper.key_of(row), reason, row, "constraint")
        result.seconds = route.busy + (time.perf_counter() - started)
        self.emit(TableFinished(route.info.name, result.counts(), time.perf_counter() - started))
        self.result.tables.append(result)


def _share_read(route: _Route) -> float:
    """The share of its source rows ``route`` has read (0 while the count is unknown)."""
    return route.result.rows_read / route.total if route.total else 0.0


def _binary_chunk(
    reader: SqliteSource,
    native: NativeLoad,
    table: str,
    sql: str,
    encode: Callable[[list[tuple[Any, ...]]], bytearray],
    span: tuple[int, int],
) -> tuple[bytearray, int, int, int]:
    """One chunk, at most ``rows`` rows after rowid ``after`` (``span``), as binary COPY (in a
    worker thread): (data, rows in the chunk, rows in the data, last rowid of the chunk)."""
    after, rows = span
    end = reader.chunk_end(native.origin, after, rows)
    last = end if end is not None else 2**63 - 1
    count = rows if end is not None else reader.count_range(native.origin, after, last)
    if not count:
        return bytearray(), 0, 0, last
    found = reader.query_all(sql, (after, last), native.origin)
    try:
        data = encode(found)
    except (TypeError, ValueError, OverflowError) as exc:  # not a value the SQL promises
        raise _RestartStaged(DirectLoadRefused(table, f"binary COPY: {exc}")) from None
    return data, count, len(found), last


def _chunk_ahead(
    reader: SqliteSource, native: NativeLoad, after: int, rows: int
) -> asyncio.Future[tuple[int | None, int, int, bool]]:
    """:func:`_sqlite_chunk` started in a worker thread."""
    return asyncio.ensure_future(asyncio.to_thread(_sqlite_chunk, reader, native, after, rows))


async def _idle(ahead: asyncio.Future[Any] | None) -> None:
    """Wait until ``ahead`` is done (its outcome is read later, or not at all)."""
    if ahead is not None:
        if not ahead.done():
            await asyncio.wait({ahead})
        if not ahead.cancelled():
            ahead.exception()  # seen: an error is raised where it is awaited, if it is


def _sqlite_chunk(
    reader: SqliteSource, native: NativeLoad, after: int, rows: int
) -> tuple[int | None, int, int, bool]:
    """The native chunk of at most ``rows`` rows after rowid ``after`` (in a worker thread):
    (its end rowid, None for the last chunk; its last rowid; its rows; True when every text
    value in it is UTF-8, checked by one decode of each text column's values joined)."""
    end = reader.chunk_end(native.origin, after, rows)
    last = end if end is not None else 2**63 - 1
    count = rows if end is not None else reader.count_range(native.origin, after, last)
    texts = [c.field for c in native.columns if c.type == "text"]
    if not count or not texts:
        return end, last, count, True
    joined = reader.query_one(chunk_sql(native.origin, texts), (after, last), native.origin)
    return end, last, count, all_utf8(joined)


def _new_fields(known: set[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Fields of ``rows`` not in ``known``, each with a value (a non-null one where a row has
    it), in first-seen order (runs in a worker thread)."""
    if all(map(known.issuperset, rows)):  # the common case, at C speed
        return {}
    new: dict[str, Any] = {}
    for row in rows:
        if not known.issuperset(row):
            for key, value in row.items():
                if key not in known and (key not in new or new[key] is None):
                    new[key] = value
    return new


def _map_rows(route: _Route, target: Target, rows: list[dict[str, Any]]) -> _Work:
    """Map, cast, adapt and encode one batch (runs in a worker thread)."""
    began = time.perf_counter()
    map_row = route.row_fn
    assert map_row is not None
    prepared: list[tuple[Any, ...]] = []
    rejected: list[tuple[str, str, dict[str, Any]]] = []
    skipped = 0
    for row in rows:
        try:
            values = map_row(row)
        except RowRefused as exc:
            rejected.append((_source_key(route, row), exc.reason, row))
            continue
        if values is None:
            skipped += 1
            continue
        prepared.append(values)
    # A compare-first batch is encoded once its unchanged rows are known (_mark_unchanged).
    encoded = (
        Encoded(0, None)
        if route.compare_first
        else (target.encode_rows(route.stage, prepared, route.direct))
    )
    seconds = time.perf_counter() - began
    return _Work(route, 0, prepared, rejected, skipped, encoded, seconds)


def _source_key_values(route: _Route, row: dict[str, Any]) -> dict[str, Any]:
    """The key columns of a row the mapping refused, by target column: each read from the
    source field the plan maps to it (the field of the same name otherwise)."""
    columns = route.spec.columns
    return {k: row.get(columns[k].from_ or k if k in columns else k) for k in route.mapper.key}


def _source_key(route: _Route, row: dict[str, Any]) -> str:
    fields = [c.from_ or name for name, c in route.spec.columns.items() if name in route.mapper.key]
    names = fields or route.mapper.key
    return ", ".join(f"{k}={row.get(k)!r}" for k in names) or "(no key)"


__all__ = ["Cancelled", "Reject", "RunResult", "TableResult", "migrate"]
