"""``undo(plan, run_id=…)``: revert exactly what one run changed, in one transaction.

The run's changeset (:mod:`ferry.load.changeset`) says which rows it inserted, updated and
deleted, with their before-images and fingerprints. The undo, under the target's run lock:

1. refuses when the run is not a completed migration, recorded no changeset, loaded a table
   without a key (or from empty on a target without row versions, unless the plan recorded
   that load row by row), or a later (not undone) run changed one of its rows (naming those
   runs);
2. looks for rows the app changed since the run (fingerprint not the run's, an updated row
   gone, a deleted row back): it lists them and stops, or with ``keep_app_changes`` leaves
   them and reverts the rest (every statement skips them by the same conditions). A first
   load recorded by row version (PostgreSQL ``xmin``, no per-row record) owns the rows that
   still carry its version: any other row of the table that no later run wrote is the app's
   (inserted or changed: row versions cannot tell which), listed the same way;
3. puts deleted rows back and updated rows' before-images back, parents first, then deletes
   the inserted rows, children first; drops the tables the run created once they hold nothing
   (the app's triggers Ferry carried set aside meanwhile, :mod:`ferry.shape.triggersaside`);
4. proves it: each restored row's fingerprint equals its before-image's (a SHA-256 over them
   per table, both ways), and no inserted row is left but the kept ones; and a table an
   ``ON DELETE CASCADE`` emptied of rows the run did not insert stops the undo;
5. forgets the run's changeset, marks the run ``undone`` in the journal, journals itself
   (mode ``undo``) and commits. ``preview=True`` does all of it and rolls back.

The module is a little long because those five steps share one transaction and one view of
the changeset; their SQL text is apart, in :mod:`ferry.undo.undosql`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import update

from .. import __version__
from ..errors import FerryError
from ..events import CancelToken, Emit, StepStarted, ignore_events
from ..load.changeset import TableChanges, read_changesets, versioned_runs
from ..load.journal import ensure_journal, journal_place, read_journal
from ..plan import Plan
from ..safety.runlock import hold_target_async
from ..shape.identifiers import quote
from ..shape.schema import TableInfo, dependency_order
from ..shape.triggersaside import put_back, set_aside
from ..targets import Target, open_target
from . import undosql
from .result import UNDO, UNDONE, UndoRefused, UndoResult, UndoTable

_log = logging.getLogger(__name__)

#: rows the app changed listed in a refusal (and keys per table a preview lists)
LISTED = 20


async def undo(
    plan: Plan,
    *,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    run_id: str | None = None,
    keep_app_changes: bool = False,
    preview: bool = False,
    write_reports: bool = True,
    wait: bool = False,
) -> UndoResult:
    """Undo run ``run_id`` of the plan's target (None: the last migration not undone).

    Raises :class:`~ferry.undo.result.UndoRefused` (the target unchanged) when the app changed
    rows the run wrote (unless ``keep_app_changes``) or later runs built on it; any other
    :class:`~ferry.errors.FerryError` leaves the target unchanged too. ``preview`` counts and
    lists what would change, changing nothing.
    """
    cancel = cancel or CancelToken()
    async with hold_target_async(plan.target, plan.base_dir, wait=wait, emit=emit, cancel=cancel):
        target = open_target(plan.target, plan.base_dir)
        target.emit = emit
        emit(StepStarted("connect", target.describe()))
        await target.open()
        try:
            result = await _Undo(plan, target, emit, cancel, keep_app_changes, preview).run(run_id)
            cancel.raise_if_cancelled()
            await target.finish(commit=not preview)
        except BaseException:
            if target.engine is not None:
                with contextlib.suppress(FerryError):
                    await target.finish(commit=False)
            raise
    if write_reports:
        result.report_path = _write_report(plan, result)
    _log.info("undo of run %s: %s", result.undone_run, result.status)
    return result


class _Undo:
    def __init__(
        self,
        plan: Plan,
        target: Target,
        emit: Emit,
        cancel: CancelToken,
        keep_app_changes: bool,
        preview: bool,
    ) -> None:
        self.plan, self.target, self.emit, self.cancel = plan, target, emit, cancel
        self.keep, self.preview = keep_app_changes, preview
        #: completed migrations after the one undone, not undone themselves
        self.later: list[str] = []
        now = datetime.now(UTC)
        self.result = UndoResult(
            run_id=uuid.uuid4().hex[:16],
            undone_run="",
            plan_name=plan.name,
            plan_hash=plan.digest(),
            target=target.describe(),
            status="running",
            started_at=now,
            finished_at=now,
        )

    async def run(self, run_id: str | None) -> UndoResult:
        journal = await read_journal(self.target)
        run = _pick_run(journal, run_id)
        self.result.undone_run = str(run["run_id"])
        changes = await self._changes(run)
        self.later = [
            str(r["run_id"])
            for r in journal
            if r.get("mode") == "migrate"
            and r.get("status") == "completed"
            and str(r["run_id"]) != str(run["run_id"])
            and r["started_at"] > run["started_at"]
        ]
        await self._refuse_later_runs(run, changes)
        self.emit(StepStarted("check", "rows the app changed since the run"))
        conflicts = await self._app_changes(changes)
        if conflicts and not self.keep:
            shown = "; ".join(f"{c['table']} {c['key']}" for c in conflicts[:5])
            raise UndoRefused(
                f"the app changed {len(conflicts)} row(s) run {self.result.undone_run} wrote "
                f"(first: {shown}): undo never overwrites them",
                hint="Look at those rows; `ferry undo --keep-app-changes` leaves them as the app "
                "wrote them and reverts the rest. The target is unchanged.",
                app_changes=conflicts,
            )
        self.result.app_changes = conflicts
        await self._list_rows(changes)
        tables = await self.target.reflect()
        order = dependency_order([c.table for c in changes], tables)
        by_name = {c.table: c for c in changes}
        parts = {c.table: UndoTable(c.table) for c in changes}
        for conflict in conflicts:
            parts[conflict["table"]].kept += 1
        self.emit(StepStarted("undo", f"run {self.result.undone_run}"))
        # the app's triggers Ferry carried fire on none of undo's writes either: they would
        # change rows beyond the run's (a cascade) and may call the app's own functions
        aside = await set_aside(self.target)
        await self._apply(order, by_name, parts, tables)
        await self._prove(order, by_name, parts)
        await self._drop_created(order, by_name, parts)
        for name in order:
            await self._exec(undosql.forget(by_name[name].image, self.result.undone_run), name)
        await put_back(self.target, aside)
        self.result.tables = [parts[name] for name in order]
        if self.result.verdict != "PASS":
            failed = ", ".join(t.name for t in self.result.tables if t.verdict != "PASS")
            raise FerryError(
                f"undo of run {self.result.undone_run} could not prove its result ({failed}): "
                "rows differ from their before-images",
                hint="Nothing was changed. Please report this with the run's report.",
            )
        self.result.status = "previewed" if self.preview else "completed"
        self.result.finished_at = datetime.now(UTC)
        if not self.preview:
            await self._journal()
        return self.result

    # -- what may be undone ------------------------------------------------------------------
    async def _changes(self, run: dict[str, Any]) -> list[TableChanges]:
        run_id = str(run["run_id"])
        changes = await read_changesets(self.target, run_id)
        if not changes and not _changed_rows(run):
            raise UndoRefused(
                f"run {run_id} changed no row: there is nothing to undo",
                hint="`ferry runs PLAN` lists the runs of this target and what each changed. "
                "The target is unchanged.",
            )
        if not changes:
            raise UndoRefused(
                f"run {run_id} recorded no changeset: it cannot be undone exactly",
                hint="Runs of Ferry versions before `ferry undo` record none; `ferry rollback` "
                "restores the backup taken before it instead. The target is unchanged.",
            )
        unkeyed = [c for c in changes if not c.undoable]
        if unkeyed:
            named = "; ".join(f"{c.table}: {c.note}" for c in unkeyed)
            raise UndoRefused(
                f"run {run_id} changed tables whose rows it cannot tell apart ({named})",
                hint="`ferry rollback` restores the backup taken before the run instead. "
                "The target is unchanged.",
            )
        return changes

    async def _refuse_later_runs(self, run: dict[str, Any], changes: list[TableChanges]) -> None:
        later, run_id = self.later, str(run["run_id"])
        found: set[str] = set()
        for change in changes:
            if change.version is not None:
                sql = undosql.later_runs_versioned(change.image, run_id, change.version, later)
            else:
                sql = undosql.later_runs(change.image, run_id, later)
            if sql is not None:
                rows = await self.target.fetch_dicts(
                    sql, f"looking for later runs of {change.table}"
                )
                found |= {str(r["run_id"]) for r in rows}
        if found:
            ordered = [r for r in later if r in found]
            raise UndoRefused(
                f"later run(s) {', '.join(ordered)} changed rows run {run['run_id']} wrote: "
                "undo those first",
                hint=f"`ferry undo PLAN --run {ordered[-1]}` first (the last one first). "
                "The target is unchanged.",
                later_runs=ordered,
            )

    async def _app_changes(self, changes: list[TableChanges]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for change in changes:
            if change.version is not None:
                rows = await self.target.fetch_dicts(
                    undosql.app_rows(
                        change.image, change.run_id, change.version, self.later, 10_000
                    ),
                    f"looking for rows of {change.table} the app wrote",
                )
                found += [
                    {"table": change.table, "key": _key_text(change, r), "action": "insert"}
                    for r in rows
                ]
                continue
            rows = await self.target.fetch_dicts(
                undosql.app_changes(change.image, self.result.undone_run, 10_000),
                f"looking for rows of {change.table} the app changed",
            )
            for row in rows:
                found.append(
                    {
                        "table": change.table,
                        "key": _key_text(change, row),
                        "action": row["ferry_action"],
                    }
                )
        return found

    async def _list_rows(self, changes: list[TableChanges]) -> None:
        for change in changes:
            if change.version is not None:
                rows = await self.target.fetch_dicts(
                    undosql.owned_rows(change.image, change.run_id, change.version, LISTED),
                    f"listing the changes to {change.table}",
                )
                self.result.rows += [
                    {"table": change.table, "key": _key_text(change, r), "action": "insert"}
                    for r in rows
                ]
                continue
            rows = await self.target.fetch_dicts(
                undosql.listed(change.image, self.result.undone_run, LISTED),
                f"listing the changes to {change.table}",
            )
            self.result.rows += [
                {"table": change.table, "key": _key_text(change, r), "action": r["ferry_action"]}
                for r in rows
            ]

    # -- the undo ------------------------------------------------------------------------------
    async def _apply(
        self,
        order: list[str],
        by_name: dict[str, TableChanges],
        parts: dict[str, UndoTable],
        tables: dict[str, TableInfo],
    ) -> None:
        run_id = self.result.undone_run
        for name in order:  # parents first: a restored row's references exist
            self.cancel.raise_if_cancelled()
            image = by_name[name].image
            if by_name[name].version is not None:  # a first load: nothing to put back
                continue
            info = tables.get(name)
            # the target computes these from the row: they come back with the other columns
            computed = {c for c, col in info.columns.items() if col.generated} if info else set()
            restore = undosql.restore_deleted(image, run_id, computed)
            parts[name].restored = await self._exec(restore, name)
            updated = undosql.restore_updated(image, run_id, computed)
            if updated is not None:
                parts[name].reverted = await self._exec(updated, name)
            owners = await versioned_runs(self.target, name)
            restored = undosql.record_restored(image, run_id, owners)
            if restored is not None and owners:  # rows a first load wrote stay its own
                await self._exec(restored, name)
        referencing = _referencing(order, tables)
        before = {name: await self._count(name) for name in referencing}
        for name in reversed(order):  # children first
            self.cancel.raise_if_cancelled()
            change = by_name[name]
            await self._refuse_referenced(change, tables)
            if change.version is not None:
                sql = undosql.delete_owned(change.image, run_id, change.version)
            else:
                sql = undosql.delete_inserted(
                    change.image, run_id, self.target.merge_dialect.delete_alias
                )
            parts[name].deleted = await self._exec(sql, name)
        for name, count in before.items():
            lost = count - await self._count(name) - (parts[name].deleted if name in parts else 0)
            if lost > 0:
                raise UndoRefused(
                    f"deleting the rows run {run_id} inserted would also delete {lost} row(s) "
                    f"of {name} it did not insert (ON DELETE CASCADE)",
                    hint=f"Those rows of {name} reference rows the run inserted; move or "
                    "delete them first. The target is unchanged.",
                )

    async def _refuse_referenced(self, change: TableChanges, tables: dict[str, TableInfo]) -> None:
        """Refuse, naming the rows, when rows the undo leaves (the app's, in any table)
        reference a row it is about to delete: the delete would fail, cascade into them or
        set their reference to NULL. The run's own rows of child tables are gone by now."""
        actions = {
            (c.table, c.columns): c.action for c in await self.target.cascades_into(change.table)
        }
        for child, info in sorted(tables.items()):
            for fk in info.foreign_keys:
                if fk.ref_table != change.table or len(fk.columns) != len(fk.ref_columns):
                    continue
                shown = list(dict.fromkeys([*(info.primary_key or ()), *fk.columns]))
                sql = undosql.referencing_rows(
                    change.image,
                    self.result.undone_run,
                    change.version,
                    child,
                    shown,
                    list(zip(fk.columns, fk.ref_columns, strict=True)),
                    6,
                )
                rows = await self.target.fetch_dicts(sql, f"looking for rows of {child}")
                if not rows:
                    continue
                first = "; ".join(
                    ", ".join(f"{k}={v!r}" for k, v in row.items()) for row in rows[:5]
                )
                more = " and more" if len(rows) > 5 else ""
                action = actions.get((child, tuple(fk.columns)))
                how = f" (its foreign key's ON DELETE {action} would change them)" if action else ""
                raise UndoRefused(
                    f"rows of {child} the undo leaves reference rows of {change.table} run "
                    f"{self.result.undone_run} inserted ({child}: {first}{more}): undoing "
                    f"the run would delete their {change.table} row under them{how}",
                    hint=f"Delete those rows of {child} or point them at another row of "
                    f"{change.table} first, or `ferry rollback` to the run's backup. "
                    "The target is unchanged.",
                )

    async def _prove(
        self, order: list[str], by_name: dict[str, TableChanges], parts: dict[str, UndoTable]
    ) -> None:
        kept = {(c["table"], c["key"]) for c in self.result.app_changes}
        run_id = self.result.undone_run
        for name in order:
            change, part = by_name[name], parts[name]
            if change.version is not None:  # no before-images: none of its rows left
                left = await self.target.scalar(
                    undosql.count_owned(change.image, run_id, change.version), f"checking {name}"
                )
                part.inserted_left = int(left or 0)
                part.expected_checksum = part.actual_checksum = _checksum([])
                part.verdict = "PASS" if not part.inserted_left else "FAIL"
                continue
            pairs = await self.target.fetch_dicts(
                undosql.restored_pairs(change.image, run_id), f"checking {name}"
            )
            pairs = [p for p in pairs if (name, _key_text(change, p)) not in kept]
            part.expected_checksum = _checksum(str(p["want"]) for p in pairs)
            part.actual_checksum = _checksum(str(p["got"]) for p in pairs)
            left = await self.target.fetch_dicts(
                undosql.inserted_left(change.image, run_id), f"checking {name}"
            )
            part.inserted_left = sum(1 for r in left if (name, _key_text(change, r)) not in kept)
            ok = part.expected_checksum == part.actual_checksum and not part.inserted_left
            part.verdict = "PASS" if ok else "FAIL"

    async def _drop_created(
        self, order: list[str], by_name: dict[str, TableChanges], parts: dict[str, UndoTable]
    ) -> None:
        """Drop the tables the run created, children first, when they hold nothing now."""
        for name in reversed(order):
            if not by_name[name].created or not await self.target.is_empty(TableInfo(name)):
                continue
            try:
                async with self.target.conn.begin_nested():
                    await self.target.conn.exec_driver_sql(f"DROP TABLE {quote(name)}")
            except sa_exc.DBAPIError as exc:  # another table references it: it stays
                self.result.warnings.append(f"{name}: the run created it, but it stays ({exc})")
                continue
            parts[name].dropped = True

    # -- the record -----------------------------------------------------------------------------
    async def _journal(self) -> None:
        await ensure_journal(self.target)
        place = journal_place(self.target.dialect_name)
        tables: dict[str, Any] = {t.name: t.counts() for t in self.result.tables}
        tables["undone_runs"] = [self.result.undone_run]
        result = self.result
        from ..report.write import report_paths

        folder = self.plan.resolve(self.plan.report.dir)
        result.report_path = str(report_paths("undo", result.run_id, folder).html)
        try:
            await self.target.conn.execute(
                update(place.runs)
                .where(place.runs.c.run_id == result.undone_run)
                .values(status=UNDONE)
            )
            await self.target.conn.execute(
                place.runs.insert().values(
                    run_id=result.run_id,
                    plan_name=result.plan_name,
                    plan_hash=result.plan_hash,
                    ferry_version=__version__,
                    mode=UNDO,
                    status="completed",
                    started_at=result.started_at,
                    finished_at=result.finished_at,
                    tables=_json(tables),
                    warnings=len(result.warnings),
                    rejected=0,
                    backup_id=None,
                    report_path=result.report_path,
                )
            )
        except sa_exc.DBAPIError as exc:
            raise self.target.wrap(exc, f"journaling the undo in {place.label}") from None

    # -- helpers ----------------------------------------------------------------------------------
    async def _exec(self, sql: str, table: str) -> int:
        return await self.target.execute(sql, f"undoing the changes to {table}")

    async def _count(self, table: str) -> int:
        found = await self.target.scalar(
            f"SELECT COUNT(*) FROM {quote(table)}", f"counting the rows of {table}"
        )
        return int(found or 0)


def _pick_run(journal: list[dict[str, Any]], run_id: str | None) -> dict[str, Any]:
    """The journaled run to undo: ``run_id``, else the last completed migration."""
    migrations = [r for r in journal if r.get("mode") == "migrate"]
    if run_id is None:
        done = [r for r in migrations if r.get("status") == "completed"]
        if not done:
            raise UndoRefused(
                "the target's journal holds no completed migration to undo",
                hint="`ferry runs PLAN` lists the runs of this target.",
            )
        # a sync's cycles and a cutover's final sync often change nothing: the run to undo
        # is the last one that changed rows
        changed = [r for r in done if _changed_rows(r)]
        if not changed:
            raise UndoRefused(
                f"none of the target's {len(done)} completed migration(s) changed a row: "
                "there is nothing to undo",
                hint="`ferry runs PLAN` lists the runs of this target. The target is unchanged.",
            )
        return changed[-1]
    found = [r for r in journal if str(r["run_id"]) == run_id]
    if not found:
        raise UndoRefused(
            f"run {run_id} is not in the target's journal",
            hint="`ferry runs PLAN` lists the runs of this target and their ids.",
        )
    run = found[0]
    if run.get("mode") != "migrate" or run.get("status") != "completed":
        state = "already undone" if run.get("status") == UNDONE else f"{run.get('status')}"
        raise UndoRefused(
            f"run {run_id} is a {run.get('mode')} run ({state}): only a completed migration "
            "can be undone",
            hint="`ferry runs PLAN` lists the runs of this target.",
        )
    return run


def _changed_rows(run: dict[str, Any]) -> int:
    """Rows a journaled run inserted, updated or deleted, over its tables."""
    tables = run.get("tables") or {}
    return sum(
        int(counts.get(kind) or 0)
        for counts in tables.values()
        if isinstance(counts, dict)
        for kind in ("inserted", "updated", "deleted")
    )


def _referencing(order: list[str], tables: dict[str, TableInfo]) -> list[str]:
    """Tables with a foreign key to one of ``order`` (a cascade could reach them)."""
    return sorted(
        name
        for name, info in tables.items()
        if any(fk.ref_table in order and fk.ref_table != name for fk in info.foreign_keys)
    )


def _key_text(change: TableChanges, row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={row[k]!r}" for k in change.image.key)


def _checksum(values: Any) -> str:
    digest = hashlib.sha256()
    for value in sorted(values):
        digest.update(value.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _json(data: Any) -> str:
    import json

    return json.dumps(data, sort_keys=True)


def _write_report(plan: Plan, result: UndoResult) -> str | None:
    """The undo's report (kind ``undo``) beside the plan's other reports; a report that
    cannot be written is a warning, never a failed undo."""
    from ..report.write import write_report

    folder = plan.resolve(plan.report.dir)
    if not Path(plan.base_dir).is_dir():
        return None
    try:
        paths = write_report("undo", result.to_dict(), plan, folder)
    except OSError as exc:
        result.warnings.append(f"the undo's report could not be written to {folder}: {exc}")
        return None
    return str(paths.html)


__all__ = ["undo"]
