"""The staged modes: rows go to a staging table, then are deduplicated, classified and merged
by key under the table's conflict rule (the general path), and its compare-first variant."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..errors import ConflictError
from ..events import TableFinished
from ..results import Reject
from ..runcontext import MAX_KEPT_REJECTS
from ..targets import Stage, Target
from ..targets.base import Encoded
from .diff import row_diff
from .direct import diffs_wanted, note_inserts
from .route import Route, RunView, Work
from .strategy import LoadStrategy

#: keys of kept conflicts listed per table in the report; beyond this only the count grows
MAX_KEPT_CONFLICTS = 100


class StagedLoad(LoadStrategy):
    """Stage every row, then merge stage into table (set-based, :mod:`ferry.load.mergesql`)."""

    #: rows counted unchanged without being staged (a delta load's, :mod:`ferry.load.delta`)
    skipped_unchanged = 0
    #: the row versions the merge's rows carry, where it returned them (MergeCounts.versions)
    merged_versions: list[str] | None = None

    #: the stage is indexed, and the rows missing from it deleted (delete_missing_first)
    indexed = deleted_first = False

    def deletes_missing(self, route: Route) -> bool:
        """Whether the merge deletes the table's rows whose key the stage lacks."""
        return route.spec.delete_missing

    async def delete_missing_first(self, run: RunView, target: Target, route: Route) -> None:
        """Delete the table's rows whose key the stage lacks before any table is merged
        (children first: see :func:`ferry.load.finish.merge_tables`), recording their
        before-images; counted as the rows missing, a cascade within the table included."""
        if not self.deletes_missing(route) or route.result.rejected:
            return  # (finish warns of the rejected rows and deletes nothing)
        await target.index_stage(route.stage)
        self.indexed = True
        if run.changes is not None:
            await run.changes.deleting_missing(route.info, route.stage, route.spec.mode)
        route.result.deleted += await target.delete_missing(route.stage)
        self.deleted_first = True

    def encode(self, target: Target, stage: Stage, prepared: list[tuple[Any, ...]]) -> Encoded:
        return target.encode_rows(stage, prepared, False)

    async def write(self, run: RunView, target: Target, work: Work) -> None:
        route = work.route
        refused = await target.write_stage(
            route.stage, work.prepared, await self._encoded(target, work)
        )
        for index, reason in refused:
            values = work.prepared[index]
            row_values = route.mapper.values_dict(values)
            run.reject(route, route.mapper.key_of(values), reason, row_values, "constraint")

    async def _encoded(self, target: Target, work: Work) -> Encoded:
        return work.encoded

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        stage, spec, result = route.stage, route.spec, route.result
        started = time.perf_counter()
        if not self.indexed:
            await target.index_stage(stage)
        await _dedupe(run, target, route)
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
        deletes = self.deletes_missing(route) and not self.deleted_first
        delete_missing = deletes and not result.rejected
        if deletes and result.rejected:
            run.warn(
                f"{route.info.name}: rows missing from the source were not deleted because "
                f"{result.rejected} source rows were rejected",
                route.info.name,
            )
        await _note_changes(run, target, route)
        merged = None
        if run.changes is not None:  # the merge records its changeset as it writes, or None
            merged = await run.changes.merge_recorded(
                route.info, stage, spec.conflict, delete_missing, spec.mode
            )
        if merged is None:
            if run.changes is not None:  # undo: keys inserted, before-images (changeset)
                await run.changes.before_merge(
                    route.info, stage, spec.conflict, spec.newer_by, delete_missing, spec.mode
                )
            merged = await target.merge(stage, spec.conflict, spec.newer_by, delete_missing)
            if run.changes is not None:  # undo: the rows' fingerprints as the merge left them
                await run.changes.after_merge(route.info)
        counts = merged
        self.merged_versions = counts.versions
        result.inserted, result.updated = counts.inserted, counts.updated
        result.unchanged = counts.unchanged + self.skipped_unchanged
        result.conflicts = counts.conflicts
        result.deleted += counts.deleted  # (mode replace: the rows deleted before the load)
        if counts.conflicts and spec.conflict in ("insert", "newer"):
            rule = "newer rows in the target" if spec.conflict == "newer" else "existing rows"
            run.warn(
                f"{route.info.name}: {counts.conflicts} conflicting rows kept as they are "
                f"in the target ({rule} win)",
                route.info.name,
            )
        for row, reason in counts.rejected:
            run.reject(route, route.mapper.key_of(row), reason, row, "constraint")
        result.seconds = route.busy + (time.perf_counter() - started)
        run.emit(TableFinished(route.info.name, result.counts(), time.perf_counter() - started))
        run.result.tables.append(result)


class CompareFirstLoad(StagedLoad):
    """Staged, but each batch's keys are looked up in the target first: a row it holds
    unchanged is staged as its key alone (a re-run on unchanged data writes almost nothing)."""

    def encode(self, target: Target, stage: Stage, prepared: list[tuple[Any, ...]]) -> Encoded:
        return Encoded(0, None)  # encoded once its unchanged rows are known (_encoded)

    async def _encoded(self, target: Target, work: Work) -> Encoded:
        if not work.prepared:
            return work.encoded
        return await mark_unchanged(target, work.route, work.prepared)


async def mark_unchanged(target: Target, route: Route, prepared: list[tuple[Any, ...]]) -> Encoded:
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


async def _dedupe(run: RunView, target: Target, route: Route) -> None:
    """Drop staged rows whose key a later row repeats (the last wins), and say so."""
    duplicates, dropped = await target.dedupe_stage(route.stage, MAX_KEPT_REJECTS)
    if not duplicates:
        return
    route.result.duplicates = duplicates
    first = list(dict.fromkeys(route.mapper.key_of(row) for row in dropped))[:5]
    run.warn(
        f"{route.spec.source}: {duplicates} rows repeat a key of a later row in "
        f"{route.info.name}; the last one of each key is used (first: "
        f"{'; '.join(first)})",
        route.info.name,
    )
    for row in dropped[: MAX_KEPT_REJECTS - len(run.result.rejects)]:
        run.result.rejects.append(
            Reject(
                route.info.name,
                route.mapper.key_of(row),
                "duplicate key: a later row with the same key replaces it",
                row,
                kind="duplicate",
                key_values={k: row.get(k) for k in route.mapper.key},
            )
        )


async def _note_changes(run: RunView, target: Target, route: Route) -> None:
    """The row diffs a preview asked for, and the keys of conflicts kept as they are."""
    stage, spec = route.stage, route.spec
    kept: list[str] = []
    if diffs_wanted(run, route):
        note_inserts(run, route, await target.inserted_rows(stage, run.diff_limit))
        changed = await target.changed_rows(stage, spec.conflict, spec.newer_by, run.diff_limit)
        skip = set(route.mapper.now_columns)
        for before, after, applied in changed:
            key = route.mapper.key_of(after)
            run.result.diffs.append(row_diff(route.info, key, before, after, applied, skip))
            if not applied:
                kept.append(key)
    elif spec.conflict in ("insert", "newer") and spec.mode == "merge":
        # the report lists kept conflicts by key (an audit asks which rows kept old values)
        changed = await target.changed_rows(stage, spec.conflict, spec.newer_by, MAX_KEPT_CONFLICTS)
        kept = [route.mapper.key_of(after) for _, after, applied in changed if not applied]
    run.result.kept_conflicts += [
        {"table": route.info.name, "key": key} for key in kept[:MAX_KEPT_CONFLICTS]
    ]


__all__ = [
    "MAX_KEPT_CONFLICTS",
    "MAX_KEPT_REJECTS",
    "CompareFirstLoad",
    "StagedLoad",
    "mark_unchanged",
]
