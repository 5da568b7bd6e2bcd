"""Verification: does the target hold what the sources say, after the plan's transforms?

``verify(plan)`` streams every source through the same :class:`~ferry.transform.RowMapper` a
migration uses (rows it rejects or skips are not expected), hashes each row into a temporary
SQLite file, streams the target table the same way, and compares the two by key with SQL
(:mod:`ferry.checksum`), so memory stays flat whatever the size. Per table spec it reports
matched, mismatched, missing, extra, rejected and kept rows, an order-independent checksum of
each side, foreign-key orphans and a verdict; then the plan's assertions run on the target.
The target is only read: it is opened read-only where the database allows it and rolled back.

Rules: a key missing from the target (or left unchanged there) that the last completed run
journaled as rejected counts as ``rejected``; a differing row is ``kept`` under conflict rule
``insert``, under ``newer`` when the target's ``newer_by`` is not older, or when a later table
spec of the same table wrote it; any other missing or differing row, and any orphan, FAILs.
Rows only the target holds are ``extra``: shown, never a failure (the app may have its own).
"""

from __future__ import annotations

import asyncio
import operator
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from .checksum import (
    UNREADABLE,
    HashStore,
    Normalizer,
    Problem,
    RowCodec,
    checksum_hex,
    decode_key,
    digest,
    key_bytes,
    newer_value,
    normalizer,
)
from .errors import FerryError, PlanError, TargetError
from .events import (
    CancelToken,
    Emit,
    StepFinished,
    StepStarted,
    TableFinished,
    TableProgress,
    Warning,
    ignore_events,
)
from .identifiers import quote
from .journal import read_journal, read_rejects
from .mapping import check_mapping, infer_table, open_plan_sources, with_key
from .plan import AssertionSpec, ColumnSpec, Plan, TableSpec
from .report import write_report
from .schema import TableInfo
from .sources import Batch, SourceReader, SourceTable
from .targets import Target, open_target
from .targets.base import first_line
from .transform import RowMapper, load_hook
from .transform import RowRejected as MapRejected
from .values import LogicalType

PASS, FAIL = "PASS", "FAIL"
#: keys listed per table (failures first, then orphans, then rows explained by the journal)
MAX_LISTED = 10
_ORPHAN_EXAMPLES = 3
_TABLE_MISSING = {"key": "(table)", "problem": "table missing"}
_SHOWN_CHARS = 60
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass
class TableCheck:
    """The verification of one table spec (one source feeding one target table)."""

    name: str
    source: str
    expected_rows: int = 0
    target_rows: int = 0
    matched: int = 0
    mismatched: int = 0
    missing: int = 0
    extra: int = 0
    rejected: int = 0
    kept: int = 0
    source_checksum: str = ""
    target_checksum: str = ""
    checksum: str = PASS
    mismatches: list[dict[str, str]] = field(default_factory=list)
    orphans: int = 0
    verdict: str = PASS

    def to_dict(self) -> dict[str, Any]:
        """Plain data, in the report's order."""
        return {
            "name": self.name,
            "source": self.source,
            "expected_rows": self.expected_rows,
            "target_rows": self.target_rows,
            "matched": self.matched,
            "mismatched": self.mismatched,
            "missing": self.missing,
            "extra": self.extra,
            "rejected": self.rejected,
            "kept": self.kept,
            "source_checksum": self.source_checksum,
            "target_checksum": self.target_checksum,
            "checksum": self.checksum,
            "mismatches": [dict(m) for m in self.mismatches],
            "orphans": self.orphans,
            "verdict": self.verdict,
        }


@dataclass
class AssertionCheck:
    """One plan assertion run on the target."""

    name: str
    sql: str
    op: str
    expect: Any
    actual: Any
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the actual value as JSON can hold it)."""
        return {
            "name": self.name,
            "sql": self.sql,
            "op": self.op,
            "expect": self.expect,
            "actual": _plain(self.actual),
            "verdict": self.verdict,
        }


@dataclass
class VerifyResult:
    """The outcome of a verification: PASS only when every table and assertion passes."""

    run_id: str
    plan_name: str
    target: str
    started_at: datetime
    finished_at: datetime
    tables: list[TableCheck] = field(default_factory=list)
    assertions: list[AssertionCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the journaled run whose rejected rows were taken into account (None: no run)
    migration_run_id: str | None = None
    #: the HTML report, when one was written
    report_path: str | None = None

    @property
    def verdict(self) -> str:
        """PASS or FAIL."""
        parts = [t.verdict for t in self.tables] + [a.verdict for a in self.assertions]
        return PASS if all(p == PASS for p in parts) else FAIL

    @property
    def passed(self) -> bool:
        """True on PASS."""
        return self.verdict == PASS

    def table(self, name: str, source: str | None = None) -> TableCheck:
        """The check of table ``name`` (fed from ``source`` when the table has several)."""
        return next(
            t for t in self.tables if t.name == name and (source is None or t.source == source)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the report."""
        return {
            "verdict": self.verdict,
            "run_id": self.run_id,
            "plan_name": self.plan_name,
            "target": self.target,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "tables": [t.to_dict() for t in self.tables],
            "assertions": [a.to_dict() for a in self.assertions],
            "warnings": list(self.warnings),
        }


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
    result = await _Verify(plan, emit, cancel or CancelToken()).execute()
    if write_reports:
        folder = plan.resolve(plan.report.dir)
        try:
            result.report_path = str(write_report("verify", result.to_dict(), plan, folder).html)
        except OSError as exc:
            message = f"the report could not be written to {folder}: {exc.strerror or exc}"
            result.warnings.append(message)
            emit(Warning(message))
    return result


@dataclass
class _Check:
    """One table spec under verification."""

    number: int
    spec: TableSpec
    info: TableInfo
    mapper: RowMapper
    label: str
    exists: bool
    known_fields: set[str]
    total: int | None
    result: TableCheck
    source_norms: dict[str, Normalizer]
    target_norms: dict[str, Normalizer]
    transform_rejected: int = 0
    skipped: int = 0
    rows_read: int = 0
    seq: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def compared(self) -> list[str]:
        """Columns whose values are compared: not the key, not ``now`` columns."""
        skip = set(self.mapper.key) | self.mapper.now_columns
        return [c for c in self.mapper.columns if c not in skip]

    def type_of(self, column: str) -> LogicalType:
        return self.info.columns[column].type


class _Verify:
    def __init__(self, plan: Plan, emit: Emit, cancel: CancelToken) -> None:
        self.plan = plan
        self.emit = emit
        self.cancel = cancel
        now = datetime.now(UTC)
        self.result = VerifyResult(uuid.uuid4().hex[:16], plan.name, "", now, now)
        self.readers: dict[str, SourceReader] = {}
        self.source_tables: dict[str, SourceTable] = {}
        self.dialect = ""

    def warn(self, message: str, table: str = "") -> None:
        self.result.warnings.append(message)
        self.emit(Warning(message, table))

    def step(self, name: str, detail: str = "") -> float:
        self.emit(StepStarted(name, detail))
        return time.perf_counter()

    def step_done(self, name: str, started: float, detail: str = "") -> None:
        self.emit(StepFinished(name, time.perf_counter() - started, detail))

    # -- the run -----------------------------------------------------------------------------
    async def execute(self) -> VerifyResult:
        if not self.plan.tables and not self.plan.assertions:
            raise PlanError(
                "the plan has no [[tables]] and no [[assertions]]: there is nothing to verify",
                hint="Add tables, or draft a plan with `ferry init DIR`.",
            )
        try:
            await self._open_sources()
            target = open_target(self.plan.target, self.plan.base_dir)
            self.dialect = target.dialect_name
            self.result.target = target.describe()
            _refuse_missing_file(target)
            with tempfile.TemporaryDirectory(
                prefix="ferry-verify-", ignore_cleanup_errors=True
            ) as folder:
                store = HashStore(Path(folder) / "verify.sqlite")
                try:
                    started = self.step("connect", target.describe())
                    await target.open(read_only=True)
                    self.step_done("connect", started)
                    try:
                        await self._run(target, store)
                    finally:
                        await asyncio.shield(target.finish(commit=False))
                finally:
                    store.close()
        finally:
            for reader in self.readers.values():
                reader.close()
        self.result.finished_at = datetime.now(UTC)
        return self.result

    async def _open_sources(self) -> None:
        self.readers, self.source_tables = await open_plan_sources(self.plan)

    async def _run(self, target: Target, store: HashStore) -> None:
        tables = await target.reflect()
        rejected = await self._journaled_rejects(target)
        checks = self._make_checks(tables)
        for check in checks:
            store.add_check(check.number)

        started = self.step("read", "sources")
        await self._read_sources(checks, store)
        self.step_done("read", started)

        started = self.step("compare", "target")
        for check in checks:
            if check.exists:
                await self._read_target(target, check, store)
            keys = self._rejected_keys(check, rejected.get(check.spec.name, []))
            await asyncio.to_thread(store.put_rejected, check.number, keys)
        for check in checks:
            self.cancel.raise_if_cancelled()
            for warning in await asyncio.to_thread(self._compare, check, checks, store):
                self.warn(warning, check.spec.name)
        self.step_done("compare", started)

        started = self.step("integrity", "foreign keys")
        orphans: dict[str, tuple[int, list[dict[str, str]]]] = {}
        for check in checks:
            if check.exists and check.spec.name not in orphans:
                orphans[check.spec.name] = await self._orphans(target, check.info, tables)
            count, examples = orphans.get(check.spec.name, (0, []))
            self._finish_table(check, count, examples)
        self.step_done("integrity", started)

        if self.plan.assertions:
            started = self.step("assertions")
            for spec in self.plan.assertions:
                self.cancel.raise_if_cancelled()
                self.result.assertions.append(await self._assertion(target, spec))
            self.step_done("assertions", started)

    # -- checks ------------------------------------------------------------------------------
    def _make_checks(self, tables: dict[str, TableInfo]) -> list[_Check]:
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
            hook = load_hook(spec.hook, self.plan.base_dir) if spec.hook else None
            try:
                mapper = RowMapper(
                    with_key(spec, info, source),
                    info,
                    source.columns,
                    self.result.started_at,
                    hook,
                    timezone=self.plan.options.zone,
                )
            except PlanError:
                if exists:
                    raise
                # Without the table there is no key to compare by: nothing more to say.
                result.verdict = result.checksum = FAIL
                result.mismatches = [dict(_TABLE_MISSING)]
                continue
            if exists:
                check_mapping(spec, info, mapper)
            label = spec.name if names.count(spec.name) == 1 else f"{spec.name} ({spec.source})"
            checks.append(
                _Check(
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

    # -- the source side ---------------------------------------------------------------------
    async def _read_sources(self, checks: list[_Check], store: HashStore) -> None:
        by_source: dict[str, list[_Check]] = {}
        for check in checks:
            by_source.setdefault(check.spec.source, []).append(check)
        batch_size = self.plan.options.batch_size
        for reader in self.readers.values():
            batches = reader.batches(batch_size)
            while True:
                self.cancel.raise_if_cancelled()
                batch = await asyncio.to_thread(_next_batch, batches)
                if batch is None:
                    break
                for check in by_source.get(batch.table, []):
                    _widen(check, batch.rows)
                    await asyncio.to_thread(self._digest_source, check, batch.rows, store)
                    check.rows_read += len(batch.rows)
                    elapsed = max(time.perf_counter() - check.started, 1e-6)
                    self.emit(
                        TableProgress(
                            check.label, check.rows_read, check.total, check.rows_read / elapsed
                        )
                    )

    def _digest_source(self, check: _Check, rows: list[dict[str, Any]], store: HashStore) -> None:
        """Map, normalise and hash one batch (in a worker thread)."""
        mapper = check.mapper
        columns = list(mapper.columns)
        norms = self._norms(check, "source")
        keys = [(columns.index(k), norms[k]) for k in mapper.key]
        compared = [(columns.index(c), norms[c]) for c in check.compared]
        codec = RowCodec(check.compared)
        newer = self._newer_getter(check, columns, norms)
        out: list[tuple[bytes, bytes, Any, bytes, int]] = []
        for row in rows:
            try:
                values = mapper.map(row)
            except MapRejected:
                check.transform_rejected += 1
                continue
            if values is None:
                check.skipped += 1
                continue
            encoded = codec.encode([norm(values[i]) for i, norm in compared])
            check.seq += 1
            out.append(
                (
                    key_bytes([norm(values[i]) for i, norm in keys]),
                    digest(encoded),
                    newer(values),
                    encoded,
                    check.seq,
                )
            )
        store.put_source(check.number, out)

    def _norms(self, check: _Check, side: str) -> dict[str, Normalizer]:
        """Normalisers by column; PostgreSQL ``real`` columns round both sides to 32 bits."""
        norms = check.source_norms if side == "source" else check.target_norms
        for column in check.mapper.columns:
            if column not in norms:
                info = check.info.columns[column]
                norms[column] = normalizer(
                    info.type,
                    json_as_text=side == "target" and self.dialect == "sqlite",
                    single_precision=self.dialect == "postgresql"
                    and info.sql_type.upper() in ("REAL", "FLOAT4"),
                )
        return norms

    def _newer_getter(
        self, check: _Check, columns: list[str], norms: dict[str, Normalizer]
    ) -> Callable[[tuple[Any, ...]], Any]:
        newer_by = check.spec.newer_by
        if not newer_by or newer_by not in columns:
            return lambda values: None
        index, norm, type_ = columns.index(newer_by), norms[newer_by], check.type_of(newer_by)
        return lambda values: newer_value(type_, norm(values[index]))

    # -- the target side ---------------------------------------------------------------------
    async def _read_target(self, target: Target, check: _Check, store: HashStore) -> None:
        mapper = check.mapper
        columns = list(dict.fromkeys([*mapper.key, *check.compared, *_newer_column(check)]))
        sql = f"SELECT {', '.join(map(quote, columns))} FROM {quote(check.info.name)}"
        label = f"{check.label} (target)"
        batch_size = self.plan.options.batch_size
        started, done = time.perf_counter(), 0
        try:
            result = await target.conn.stream(_text(sql).execution_options(yield_per=batch_size))
            try:
                async for rows in result.partitions(batch_size):
                    self.cancel.raise_if_cancelled()
                    await asyncio.to_thread(self._digest_target, check, columns, rows, store)
                    done += len(rows)
                    elapsed = max(time.perf_counter() - started, 1e-6)
                    self.emit(TableProgress(label, done, None, done / elapsed))
            finally:
                await result.close()
        except sa_exc.DBAPIError as exc:
            raise target.wrap(exc, f"reading table {check.info.name}") from None
        await asyncio.to_thread(store.index_target, check.number)

    def _digest_target(
        self, check: _Check, columns: list[str], rows: Any, store: HashStore
    ) -> None:
        norms = self._norms(check, "target")
        keys = [(columns.index(k), norms[k]) for k in check.mapper.key]
        compared = [(columns.index(c), norms[c]) for c in check.compared]
        codec = RowCodec(check.compared)
        newer = self._newer_getter(check, columns, norms)
        out: list[tuple[bytes, bytes, Any, bytes]] = []
        for row in rows:
            encoded = codec.encode([norm(row[i]) for i, norm in compared])
            out.append(
                (
                    key_bytes([norm(row[i]) for i, norm in keys]),
                    digest(encoded),
                    newer(row),
                    encoded,
                )
            )
        store.put_target(check.number, out)

    # -- the journal -------------------------------------------------------------------------
    async def _journaled_rejects(self, target: Target) -> dict[str, list[dict[str, Any]]]:
        """Rejected rows (constraint, duplicate) of the last completed run, by table."""
        runs = [r for r in await read_journal(target) if r.get("status") == "completed"]
        if not runs:
            if self.plan.tables:
                self.warn(
                    "the target journals no completed migration: rows a run rejected "
                    "cannot be told from missing ones"
                )
            return {}
        last = runs[-1]
        self.result.migration_run_id = str(last["run_id"])
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

    def _rejected_keys(
        self, check: _Check, rejects: list[dict[str, Any]]
    ) -> list[tuple[bytes, str]]:
        norms = self._norms(check, "target")
        keys = []
        for reject in rejects:
            values = reject.get("key_values") or {}
            if all(k in values for k in check.mapper.key):
                key = key_bytes([norms[k](values[k]) for k in check.mapper.key])
                keys.append((key, str(reject.get("reason") or "")))
        return keys

    # -- comparing ---------------------------------------------------------------------------
    def _compare(self, check: _Check, checks: list[_Check], store: HashStore) -> list[str]:
        """Classify the keys of one check and fill its result (in a worker thread: the
        warnings are returned, to be emitted from the event loop)."""
        warnings = []
        later = [
            c.number
            for c in checks
            if c.number > check.number
            and c.spec.name == check.spec.name
            and c.mapper.key == check.mapper.key
            and c.exists
        ]
        found = store.compare(
            check.number,
            check.spec.conflict,
            later,
            MAX_LISTED,
            newer=bool(check.spec.newer_by),
        )
        result, counts = check.result, found.counts
        result.expected_rows = found.expected_rows
        result.target_rows = found.target_rows
        result.matched = counts["matched"]
        result.mismatched = counts["mismatched"]
        result.missing = counts["missing"]
        result.extra = found.extra
        result.rejected = counts["rejected"] + check.transform_rejected
        result.kept = counts["kept"] + counts["superseded"]
        result.source_checksum = checksum_hex(found.source_checksum)
        result.target_checksum = checksum_hex(found.target_checksum)
        result.checksum = PASS if found.source_checksum == found.target_checksum else FAIL
        result.mismatches = [self._problem(check, p) for p in found.problems]
        if not check.exists:
            result.checksum = FAIL
            result.mismatches.insert(0, dict(_TABLE_MISSING))
            del result.mismatches[MAX_LISTED:]
        if counts["superseded"]:
            warnings.append(
                f"{check.label}: {counts['superseded']} rows hold the values of a later "
                f"source of table {check.spec.name} (counted as kept)",
            )
        if check.skipped:
            warnings.append(
                f"{check.label}: {check.skipped} source rows skipped by the plan "
                "(skip_when_null or hook) are not expected in the target",
            )
        if found.duplicate_target_keys:
            warnings.append(
                f"table {check.spec.name}: {found.duplicate_target_keys} target rows repeat "
                f"the key of another row ({', '.join(check.mapper.key)})",
            )
        return warnings

    def _problem(self, check: _Check, problem: Problem) -> dict[str, str]:
        key = _show_key(check, problem.key)
        if problem.status == "missing":
            return {"key": key, "problem": "missing from the target"}
        run = self.result.migration_run_id
        if problem.status == "rejected":
            what = "not in the target" if problem.target is None else "left unchanged"
            return {
                "key": key,
                "problem": f"{what}: rejected by run {run} ({problem.reason}); not a failure",
            }
        target = problem.target or {}
        differing = [
            c for c in check.compared if problem.source.get(c) != target.get(c)
        ] or check.compared
        parts = [
            f"{c}: source {_show(problem.source.get(c), check.type_of(c))}, "
            f"target {_show(target.get(c), check.type_of(c))}"
            for c in differing[:3]
        ]
        if len(differing) > 3:
            parts.append(f"and {len(differing) - 3} more columns")
        return {"key": key, "problem": "differs: " + "; ".join(parts)}

    def _finish_table(self, check: _Check, orphans: int, examples: list[dict[str, str]]) -> None:
        result = check.result
        result.orphans = orphans
        if examples:
            failing = [m for m in result.mismatches if "not a failure" not in m["problem"]]
            rest = [m for m in result.mismatches if "not a failure" in m["problem"]]
            result.mismatches = (failing + examples + rest)[:MAX_LISTED]
        failed = (
            not check.exists
            or result.mismatched
            or result.missing
            or result.orphans
            or result.checksum != PASS
        )
        result.verdict = FAIL if failed else PASS
        counts = {
            "expected": result.expected_rows,
            "target": result.target_rows,
            "matched": result.matched,
            "mismatched": result.mismatched,
            "missing": result.missing,
            "extra": result.extra,
            "rejected": result.rejected,
            "kept": result.kept,
            "orphans": result.orphans,
        }
        self.emit(TableFinished(check.label, counts, time.perf_counter() - check.started))

    # -- foreign keys ------------------------------------------------------------------------
    async def _orphans(
        self, target: Target, info: TableInfo, tables: dict[str, TableInfo]
    ) -> tuple[int, list[dict[str, str]]]:
        """Rows whose non-NULL foreign key values have no parent row, and a few examples."""
        total, examples = 0, []
        table = quote(info.name)
        for fk in info.foreign_keys:
            parent = tables.get(fk.ref_table)
            refs = fk.ref_columns or (parent.primary_key if parent else ())
            present = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in fk.columns)
            if parent is None or len(refs) != len(fk.columns):
                self.warn(
                    f"table {info.name}: its foreign key ({', '.join(fk.columns)}) references "
                    f"{fk.ref_table}, which the target lacks",
                    info.name,
                )
                where = present
            else:
                join = " AND ".join(
                    f"p.{quote(r)} = c.{quote(c)}" for c, r in zip(fk.columns, refs, strict=True)
                )
                where = f"{present} AND NOT EXISTS (SELECT 1 FROM {quote(fk.ref_table)} AS p "
                where += f"WHERE {join})"
            what = f"checking the foreign keys of {info.name}"
            count = int(
                await _scalar(target, f"SELECT count(*) FROM {table} AS c WHERE {where}", what) or 0
            )
            total += count
            if count:
                cols = ", ".join(f"c.{quote(c)}" for c in fk.columns)
                rows = await _rows(
                    target,
                    f"SELECT {cols} FROM {table} AS c WHERE {where} LIMIT {_ORPHAN_EXAMPLES}",
                    what,
                )
                for row in rows:
                    key = ", ".join(f"{c}={v!r}" for c, v in zip(fk.columns, row, strict=True))
                    examples.append(
                        {"key": key, "problem": f"orphan: no row in {fk.ref_table} holds it"}
                    )
        if target.dialect_name == "sqlite" and info.foreign_keys:
            name = "'" + info.name.replace("'", "''") + "'"
            try:
                checked = await _scalar(
                    target, f"SELECT count(*) FROM pragma_foreign_key_check({name})", "fk check"
                )
            except TargetError as exc:
                self.warn(f"table {info.name}: PRAGMA foreign_key_check failed: {exc}", info.name)
            else:
                total = max(total, int(checked or 0))
        return total, examples

    # -- assertions --------------------------------------------------------------------------
    async def _assertion(self, target: Target, spec: AssertionSpec) -> AssertionCheck:
        try:
            actual = await _first_value(target, spec.sql)
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            message = first_line(getattr(exc, "orig", None) or exc)
            return AssertionCheck(
                spec.name, spec.sql, spec.op, spec.expect, f"error: {message}", FAIL
            )
        verdict = PASS if holds(actual, spec.op, spec.expect) else FAIL
        return AssertionCheck(spec.name, spec.sql, spec.op, spec.expect, actual, verdict)


# -- helpers -----------------------------------------------------------------------------------


def _refuse_missing_file(target: Target) -> None:
    """Verifying a SQLite file that does not exist would create an empty one."""
    path = getattr(target, "path", None)
    if target.dialect_name == "sqlite" and isinstance(path, Path) and not path.exists():
        raise TargetError(
            f"target {path} does not exist: there is nothing to verify",
            hint="Run `ferry migrate` first, or point [target] url at the migrated database.",
        )


def _next_batch(batches: Iterator[Batch]) -> Batch | None:
    try:
        return next(batches)
    except StopIteration:
        return None
    except RecursionError:
        raise FerryError(
            "a source is nested too deeply to read",
            hint="Flatten the data or keep nested parts as JSON.",
        ) from None


def _widen(check: _Check, rows: list[dict[str, Any]]) -> None:
    """Fields the first records did not show map to target columns as in a migration."""
    known, mapper, spec = check.known_fields, check.mapper, check.spec
    for row in rows:
        if known.issuperset(row):
            continue
        for name in row:
            if name in known:
                continue
            known.add(name)
            if (
                spec.map_all
                and name in check.info.columns
                and name not in mapper.source_fields
                and name not in mapper.columns
            ):
                mapper.add_column(
                    name, ColumnSpec.model_validate({"from": name}), check.type_of(name)
                )


def _newer_column(check: _Check) -> list[str]:
    newer_by = check.spec.newer_by
    return [newer_by] if newer_by and newer_by in check.mapper.columns else []


def _show(value: str | None, type_: LogicalType) -> str:
    if value is None:
        return "NULL"
    if type_ in ("integer", "float", "boolean") and not value.startswith(UNREADABLE):
        return value
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 4] + "...'"


def _show_key(check: _Check, key: bytes) -> str:
    values = decode_key(key)
    return ", ".join(
        f"{k}={_show(v, check.type_of(k))}" for k, v in zip(check.mapper.key, values, strict=False)
    )


def _text(sql: str) -> Any:
    """A textual statement whose colons are literal (identifiers may hold them)."""
    return text(sql.replace(":", "\\:"))


async def _scalar(target: Target, sql: str, what: str) -> Any:
    try:
        return (await target.conn.execute(_text(sql))).scalar()
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, what) from None


async def _rows(target: Target, sql: str, what: str) -> list[tuple[Any, ...]]:
    try:
        return [tuple(r) for r in await target.conn.execute(_text(sql))]
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, what) from None


async def _first_value(target: Target, sql: str) -> Any:
    """The first column of the first row of an assertion's query (None: no row), under a
    savepoint so a failing query leaves the transaction usable. The SQL goes to the driver as
    it is written (no parameter markers: ``LIKE 'a%'`` is fine on PostgreSQL)."""
    conn = target.conn
    async with conn.begin_nested():
        if target.dialect_name == "postgresql":
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.cursor() as cursor:
                await cursor.execute(sql)
                row = await cursor.fetchone() if cursor.description else None
        else:
            result = await conn.exec_driver_sql(sql)
            row = result.first() if result.returns_rows else None
    return row[0] if row else None


def _is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.DBAPIError | sqlite3.Error) or type(exc).__module__.startswith(
        "psycopg"
    )


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_plain(value))


def holds(actual: Any, op: str, expect: Any) -> bool:
    """``actual op expect``: as numbers when both are numbers, else as text; NULL fails."""
    if actual is None:
        return False
    left, right = _number(actual), _number(expect)
    if left is not None and right is not None:
        return _OPS[op](left, right)
    return _OPS[op](_as_text(actual), _as_text(expect))


def _plain(value: Any) -> Any:
    """A query result as JSON holds it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


__all__ = ["AssertionCheck", "TableCheck", "VerifyResult", "holds", "verify"]
