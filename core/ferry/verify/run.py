"""Verification: does the target hold what the sources say, after the plan's transforms?

``verify(plan)`` streams every source through the same :class:`~ferry.values.transform.RowMapper` a
migration uses (rows it rejects or skips are not expected), hashes each row into a temporary
SQLite file, streams the target table the same way, and compares the two by key with SQL
(:mod:`ferry.verify.checksum`), so memory stays flat whatever the size. Per table spec it reports
matched, mismatched, missing, extra, rejected and kept rows, an order-independent checksum of
each side, foreign-key orphans and a verdict; then the plan's assertions run on the target.
The target is only read: it is opened read-only where the database allows it and rolled back.

Rules: a key missing from the target (or left unchanged there) that the last completed run
journaled as rejected counts as ``rejected``; a differing row is ``kept`` under conflict rule
``insert``, under ``newer`` when the target's ``newer_by`` is not older, or when a later table
spec of the same table wrote it; any other missing or differing row, and any orphan, FAILs.
Rows only the target holds are ``extra``: shown, never a failure (the app may have its own).

First, :mod:`ferry.verify.fast` tries to prove tables read from a SQLite source with plain
columns equal with one checksum per side computed inside the databases (step ``fast``); a table
it proves gets exactly the result the general path would give it, the others (and every table
it cannot try) go the general way above. The parts: :mod:`ferry.verify.read` hashes both sides
into the store, :mod:`ferry.verify.compare` classifies the keys and sets each table's verdict,
:mod:`ferry.verify.integrity` checks foreign keys and runs the assertions,
:mod:`ferry.verify.result` holds the result; this module runs them.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..capabilities import TargetCapabilities
from ..errors import PlanError, TargetError
from ..events import CancelToken, Emit, ignore_events
from ..load.journal import read_journal, read_rejects
from ..load.mapping import check_mapping, infer_table, row_mapper
from ..plan import Plan, TableSpec
from ..runcontext import RunContext
from ..safety.logfile import log_exception, logged
from ..shape.schema import TableInfo
from ..shape.sqlitetypes import plan_sqlite_types
from ..sources import SourceReader, SourceTable, open_source
from ..targets import Target, open_target
from ..values.transform import RowMapper
from .checksum import HashStore
from .compare import MAX_LISTED, TABLE_MISSING, compare, finish_table
from .fast import FastPath, fill_result
from .integrity import OrphanCounts, holds, run_assertion
from .read import SideReader, SpecCheck
from .result import FAIL, PASS, AssertionCheck, TableCheck, VerifyResult

_log = logging.getLogger(__name__)


async def verify(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    write_reports: bool = True,
) -> VerifyResult:
    """Compare the plan's sources (after transform) with the target; the target is only read.

    With ``write_reports`` the HTML and JSON report go to the plan's report folder (a report
    that cannot be written is a warning). Raises a :class:`~ferry.errors.FerryError` when a
    source or the target cannot be read (a TargetError for an unreachable target), or
    :class:`~ferry.errors.Cancelled`.
    """
    _log.info("verification of plan %s started", plan.name)
    emit = logged(emit, _log)
    run = _Verify(plan, emit, cancel or CancelToken())
    try:
        result = await run.execute()
    except BaseException as exc:
        log_exception(_log, "verification", exc)
        raise
    if write_reports:
        written = run.ctx.write_report(result.to_dict())
        if written is not None:
            result.report_path = str(written.html)
    return result


class _Verify:
    def __init__(self, plan: Plan, emit: Emit, cancel: CancelToken) -> None:
        self.plan = plan
        self.emit = emit
        self.cancel = cancel
        now = datetime.now(UTC)
        self.result = VerifyResult(uuid.uuid4().hex[:16], plan.name, "", now, now)
        #: warnings with their caps, steps, the sources and the report (ferry.runcontext)
        self.ctx = RunContext(plan, emit, cancel, "verify", record=self.result)
        self.readers: dict[str, SourceReader] = {}
        self.source_tables: dict[str, SourceTable] = {}
        #: what the target can do (known once it is made)
        self.capabilities = TargetCapabilities()

    def warn(self, message: str, table: str = "") -> None:
        self.ctx.warn(message, table)

    # -- the run -----------------------------------------------------------------------------
    async def execute(self) -> VerifyResult:
        if not self.plan.tables and not self.plan.assertions:
            raise PlanError(
                "the plan has no [[tables]] and no [[assertions]]: there is nothing to verify",
                hint="Add tables, or draft a plan with `ferry init DIR`.",
            )
        # The sources are opened (and described) while the target connects; a source that
        # cannot be read is reported first, as when one came after the other.
        sources = asyncio.ensure_future(self._open_sources())
        try:
            try:
                target = open_target(self.plan.target, self.plan.base_dir)
                self.capabilities = target.capabilities
                self.result.target = target.describe()
                _refuse_missing_file(target)
            except BaseException:
                await sources
                raise
            with tempfile.TemporaryDirectory(
                prefix="ferry-verify-", ignore_cleanup_errors=True
            ) as folder:
                store = HashStore(Path(folder) / "verify.sqlite")
                try:
                    with self.ctx.step("connect", target.describe()):
                        await _connect_after(sources, target)
                    try:
                        await self._run(target, store)
                    finally:
                        await asyncio.shield(target.finish(commit=False))
                finally:
                    store.close()
        finally:
            if not sources.done():
                sources.cancel()
            await asyncio.gather(sources, return_exceptions=True)
            self.ctx.close_sources()
        self.result.finished_at = datetime.now(UTC)
        return self.result

    async def _open_sources(self) -> None:
        await self.ctx.open_sources()
        assert self.ctx.watch is not None
        self.readers, self.source_tables = self.ctx.readers, self.ctx.source_tables
        self.watch = self.ctx.watch

    async def _run(self, target: Target, store: HashStore) -> None:
        tables = await target.reflect()
        plan_sqlite_types(self.plan, tables)
        rejected = await self._journaled_rejects(target)
        checks = self._make_checks(tables)
        for check in checks:
            store.add_check(check.number)

        orphans = OrphanCounts(target, tables)
        proven = await self._fast(target, checks, orphans)
        rest = [c for c in checks if c.number not in proven]
        slow = bool(rest) or not proven
        sides = SideReader(self.capabilities, self.plan.options.batch_size, self.cancel, self.emit)
        if slow:
            await self._read(sides, target, rest, store)
        for change in await asyncio.to_thread(self.watch.changes):
            self.warn(change.verify_message())

        if slow:
            with self.ctx.step("compare", "target"):
                for check in rest:
                    keys = sides.rejected_keys(check, rejected.get(check.spec.name, []))
                    await asyncio.to_thread(store.put_rejected, check.number, keys)
                for check in rest:
                    self.cancel.raise_if_cancelled()
                    run_id = self.result.migration_run_id
                    for warning in await asyncio.to_thread(compare, check, checks, store, run_id):
                        self.warn(warning, check.spec.name)

        with self.ctx.step("integrity", "foreign keys"):
            counted: dict[str, tuple[int, list[dict[str, str]]]] = {}
            for check in checks:
                if check.exists and check.spec.name not in counted:
                    counted[check.spec.name] = await orphans.of(check.info, self.warn)
                count, examples = counted.get(check.spec.name, (0, []))
                finish_table(check, count, examples, self.emit)

        if self.plan.assertions:
            with self.ctx.step("assertions"):
                for spec in self.plan.assertions:
                    self.cancel.raise_if_cancelled()
                    self.result.assertions.append(await run_assertion(target, spec))

    async def _fast(
        self, target: Target, checks: list[SpecCheck], orphans: OrphanCounts
    ) -> set[int]:
        """Prove tables equal with one checksum per side (:mod:`ferry.verify.fast`); the
        numbers of the checks it proved, whose results it filled in. A server that sums
        its rows' hashes is often done first: it counts the orphans meanwhile."""
        fast_path = FastPath(target, self.emit, self.cancel)
        fast = await fast_path.prepare(checks, self.readers, self.source_tables)
        if not fast:
            return set()
        labels = ", ".join(item.check.label for item in fast)
        proven = set()
        with self.ctx.step("fast", f"checksums inside the databases: {labels}") as step:
            infos = [c.info for c in checks if c.exists]
            server = self.capabilities.sums_row_hashes
            await fast_path.run(fast, (lambda: orphans.count_ahead(infos)) if server else None)
            self.cancel.raise_if_cancelled()
            outcomes = []
            for item in fast:
                if item.proven:
                    assert item.source is not None
                    fill_result(item.check, item.source)
                    proven.add(item.check.number)
                outcomes.append(f"{item.check.label}: {'equal' if item.proven else 'to compare'}")
            step.done_detail = "; ".join(outcomes)
        return proven

    async def _read(
        self, sides: SideReader, target: Target, checks: list[SpecCheck], store: HashStore
    ) -> None:
        """Hash both sides of ``checks`` into the store (sources and target at once)."""
        readers, own = _readers_for(checks, self.readers, self.source_tables)
        with self.ctx.step("read", "sources and target"):
            try:
                # Both sides at once: the database sends (and the source file yields) rows
                # while Python hashes the other side's. A table whose later source records
                # may still add compared columns is read once the sources are done.
                early = [c for c in checks if c.exists and not _may_widen(c)]
                await _together(
                    sides.read_sources(readers, checks, store),
                    _read_targets(sides, target, early, store),
                )
                late = [c for c in checks if c.exists and c not in early]
                await _read_targets(sides, target, late, store)
            finally:
                for reader in own:
                    reader.close()

    # -- checks ------------------------------------------------------------------------------
    def _mapper(self, spec: TableSpec, info: TableInfo, source: SourceTable) -> RowMapper:
        """The mapper the run used for ``spec`` (same factory, clock, zone and hook)."""
        return row_mapper(self.plan, spec, info, source, self.result.started_at)

    def _make_checks(self, tables: dict[str, TableInfo]) -> list[SpecCheck]:
        checks = []
        names = [t.name for t in self.plan.tables]
        for number, spec in enumerate(self.plan.tables):
            source = self.source_tables[spec.source]
            info = tables.get(spec.name)
            exists = info is not None
            if info is None:
                info = infer_table(self.plan, spec.name, self.source_tables)
                self.warn(f"table {spec.name} is missing in the target", spec.name)
            result = TableCheck(spec.name, spec.source)
            self.result.tables.append(result)
            try:
                mapper = self._mapper(spec, info, source)
            except PlanError:
                if exists:
                    raise
                # Without the table there is no key to compare by: nothing more to say.
                result.verdict = result.checksum = FAIL
                result.mismatches = [dict(TABLE_MISSING)]
                continue
            if spec.mode != "merge" and not mapper.key:
                # Appended rows have no key: each is compared as a whole (all its columns).
                keyed = spec.model_copy(update={"key": list(mapper.columns)})
                mapper = self._mapper(keyed, info, source)
                mapper.whole_rows()
            if exists:
                check_mapping(spec, info, mapper)
            label = spec.name if names.count(spec.name) == 1 else f"{spec.name} ({spec.source})"
            checks.append(
                SpecCheck(
                    number=number,
                    spec=mapper.spec,
                    info=info,
                    mapper=mapper,
                    label=label,
                    exists=exists,
                    known_fields=set(source.columns),
                    total=source.row_estimate,
                    result=result,
                    source_norms={},
                    target_norms={},
                )
            )
        return checks

    # -- the journal -------------------------------------------------------------------------
    async def _journaled_rejects(self, target: Target) -> dict[str, list[dict[str, Any]]]:
        """Rejected rows (constraint, duplicate) of the last completed run, by table."""
        runs = [
            r
            for r in await read_journal(target)
            if r.get("status") == "completed" and r.get("mode", "migrate") == "migrate"
        ]
        if not runs:
            if self.plan.tables:
                self.warn(
                    "the target journals no completed migration: rows a run rejected "
                    "cannot be told from missing ones"
                )
            return {}
        last = runs[-1]
        self.result.migration_run_id = str(last["run_id"])
        self.result.migration_report = last.get("report_path") or None
        self.result.migration_backup_id = last.get("backup_id") or None
        if last.get("plan_hash") != self.plan.digest():
            self.warn(f"the last completed run ({last['run_id']}) used another version of the plan")
        by_table: dict[str, list[dict[str, Any]]] = {}
        rejects = await read_rejects(target, str(last["run_id"]))
        for reject in rejects:
            if reject.get("kind") in ("constraint", "duplicate"):
                by_table.setdefault(str(reject["table_name"]), []).append(reject)
        if len(rejects) < int(last.get("rejected") or 0):
            self.warn(
                f"run {last['run_id']} journaled {len(rejects)} of its {last['rejected']} "
                "rejected rows; rows beyond those may show as missing"
            )
        return by_table


async def _read_targets(
    sides: SideReader, target: Target, checks: list[SpecCheck], store: HashStore
) -> None:
    for check in checks:
        await sides.read_target(target, check, store)


def _readers_for(
    checks: list[SpecCheck],
    readers: dict[str, SourceReader],
    source_tables: dict[str, SourceTable],
) -> tuple[dict[str, SourceReader], list[SourceReader]]:
    """The readers ``checks`` need, and those made here (to close): a SQLite source whose
    other tables the fast path proved reads only the tables still to compare."""
    needed: dict[str, list[str]] = {}
    for check in checks:
        origins = needed.setdefault(check.spec.source.split(".", 1)[0], [])
        origin = source_tables[check.spec.source].origin
        if origin not in origins:
            origins.append(origin)
    chosen: dict[str, SourceReader] = {}
    own: list[SourceReader] = []
    for name, reader in readers.items():
        if name not in needed:
            continue
        prefix = f"{name}."
        described = [t.origin for n, t in source_tables.items() if n.startswith(prefix)]
        if reader.capabilities.sqlite_file and set(needed[name]) != set(described):
            spec = reader.spec.model_copy(update={"tables": needed[name]})
            reader = open_source(spec, reader.base_dir)
            own.append(reader)
        chosen[name] = reader
    return chosen, own


def _may_widen(check: SpecCheck) -> bool:
    """Whether source records may still map fields to more of the table's columns."""
    return check.spec.map_all and not set(check.info.columns) <= set(check.mapper.columns)


async def _together(*steps: Coroutine[Any, Any, None]) -> None:
    """Run ``steps`` concurrently; the first failure cancels the others and is raised."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _connect_after(sources: asyncio.Future[None], target: Target) -> None:
    """Connect to the target while ``sources`` opens; raise the sources' error first (the
    target is closed again then)."""
    connect = asyncio.ensure_future(target.open(read_only=True))
    try:
        await sources
    except BaseException:
        # Let the connection attempt end (it is short, and bounded by the connect timeout).
        opened = await asyncio.gather(asyncio.shield(connect), return_exceptions=True)
        if not isinstance(opened[0], BaseException):
            await asyncio.shield(target.finish(commit=False))
        raise
    await connect


def _refuse_missing_file(target: Target) -> None:
    """Verifying a SQLite file that does not exist would create an empty one."""
    if target.file_missing():
        raise TargetError(
            f"target {target.describe()} does not exist: there is nothing to verify",
            hint="Run `ferry migrate` first, or point [target] url at the migrated database.",
        )


__all__ = [
    "FAIL",
    "MAX_LISTED",
    "PASS",
    "AssertionCheck",
    "TableCheck",
    "VerifyResult",
    "holds",
    "verify",
]
