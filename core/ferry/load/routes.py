"""The run's plan step: per table spec its route (mapper, stage, value styles) and its load
decision, made once before any row is read (:mod:`ferry.load.decide`).

The facts a decision needs are looked up here, only as far as the decision needs them: the
table's emptiness where rows could go straight in, whether SQLite can map it itself where
they do, whether the last run's fingerprint still matches where they do not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import earlydelta
from ..native.load import NativeLoad, keep_source_text, native_load
from ..plan import TableSpec
from ..results import TableResult
from ..shape.schema import TableInfo, dependency_order
from ..sources import SourceTable
from ..targets import Target
from ..targets.base import ATTACHED_FILES
from ..values.targetstyles import TableStyles, table_styles
from ..values.textbytes import check_bytes_mode
from ..values.transform import RowMapper
from .decide import LoadDecision, LoadFacts, decide, straight_in
from .delta import DeltaLoad, LineDeltaLoad, SqlDeltaLoad
from .direct import ApartNativeLoad, DirectLoad, NativeDirectLoad, UnchangedLoad
from .earlyscan import PAGES, EarlyScan, print_book, scan_early, state_holds
from .hashload import HashedCompareLoad
from .hashsql import HashSql, hash_sql
from .inworker import in_worker
from .jsonlines import line_source
from .keeptext import keep_text_columns
from .loadorder import parent_loaded_later, parent_merged_later, parents_first
from .mapping import check_mapping, row_mapper
from .modes import delete_all, refuse_second_append
from .printbook import PrintBook, print_key_field
from .rerun import still_unchanged
from .route import Route, RunView
from .rowprints import PrintsEntry
from .staged import CompareFirstLoad, StagedLoad
from .strategy import LoadStrategy
from .stream import note_unmapped

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource

#: makes the warning callback of a table's value mapping (the run's, per table)
ValueWarner = Callable[[str], Callable[[str, str], None]]


async def plan_routes(
    run: RunView,
    target: Target,
    tables: dict[str, TableInfo],
    value_warner: ValueWarner,
    refusals: dict[str, str],
    fingerprints: dict[str, dict[str, Any]],
    kept_prints: dict[str, PrintsEntry] | None = None,
    in_process: Collection[str] = (),
) -> list[Route]:
    """Each table spec's route and load decision (``refusals``: tables whose direct load was
    refused earlier in this run, with the reason; ``fingerprints``: the last run's;
    ``kept_prints``: the tables whose row prints the last run kept, :mod:`ferry.load.delta`;
    ``in_process``: tables whose file the workers gave up on, :mod:`ferry.load.inworker`)."""
    routes: list[Route] = []
    attaching: set[Path] = set()  # the SQLite files native loads attach to the target
    replaced = await _replace_rows(run, target, tables)
    for spec in parents_first(run.plan.tables, tables):
        info = tables[spec.name]
        source = run.source_tables[spec.source]
        mapper = row_mapper(
            run.plan, spec, info, source, run.started_at, warn=value_warner(spec.name)
        )
        check_mapping(spec, info, mapper)
        check_bytes_mode(
            spec, info, target.capabilities.text_is_utf8_only, mapper.invalid_text_modes()
        )
        compare = [c for c in mapper.columns if c not in mapper.key and c not in mapper.now_columns]
        if spec.mode == "append":
            await refuse_second_append(target, info.name)
        # Appended rows match nothing: the stage has no key (every row is an insert).
        stage_key = mapper.key if spec.mode == "merge" else []
        stage = await target.create_stage(info, list(mapper.columns), stage_key, compare)
        styles = await table_styles(target, spec, info, mapper.columns)
        run.styles[info.name] = styles
        for message in styles.warnings:
            run.warn(message, info.name, kind=f"{info.name}:style:{message}")
        adapters = styles.adapters(target, info, mapper.columns)
        kept = keep_text_columns(run, target, spec, info, mapper, adapters, styles)
        planner = _Decider(run, target, spec, info, mapper, source, attaching, routes)
        in_sql = rerun_source(run, spec) is not None
        lines = not in_sql and await line_source(run, spec)
        # unset: kept for a JSON file one record per line, where keeping them costs little,
        # for a table loaded before (a plan run again is run again) and in a sync's cycles
        wanted = run.plan.options.row_prints
        if wanted is None:
            wanted = lines or run.syncing or spec.name in run.loaded_before
        keeps = run.sample is None and wanted
        field = print_key_field(spec, mapper) if keeps else None
        blocker = await _pages_blocker(run, spec, source, field) if in_sql and field else None
        cells = blocker == ""
        form = "lines" if lines else "cells" if cells else "values"
        entry = (kept_prints or {}).get(info.name) if field else None
        if entry and (entry.key_field != field or entry.form != form):
            entry = None
        printed = None
        if blocker is not None:
            printed = PAGES if cells else f"in SQL (not from pages: {blocker})"
        decision, native, fingerprint = await planner.decide(
            styles, refusals, fingerprints, entry, printed
        )
        apart = field is not None and not lines  # prints the workers' keys cannot serve
        if await asyncio.to_thread(
            in_worker, run, spec, decision.mode, apart, adapters, in_process
        ):
            decision = replace(decision, in_worker=True)
        book = None
        if field is not None:  # (a delta's pages compared meanwhile: ferry.load.earlyscan)
            book = await print_book(run, target, spec, info.name, field, decision.mode ==
                "delta", planner.early, in_sql=in_sql, lines=lines, cells=cells)  # fmt: skip
        if native is not None and kept:
            native = keep_source_text(native, kept)
        hashed = None
        if decision.mode == "compare-first" and decision.facts.refused is None and in_sql:
            reader = cast("SqliteSource", run.readers[spec.source.split(".", 1)[0]])
            found = await hash_sql(target, reader, spec, info, mapper, source, styles, kept)
            if isinstance(found, HashSql):
                hashed = found
                why = f"{decision.why}; rows compared by their hashes in SQL first"
                decision = replace(decision, why=why)
        result = TableResult(
            spec.name,
            spec.source,
            created=info.created,
            deleted=replaced.pop(info.name, 0),
            load_mode=spec.mode,
            decision=decision,
        )
        route = Route(
            spec=spec,
            info=info,
            mapper=mapper,
            stage=stage,
            result=result,
            adapters=adapters,
            known_fields=set(source.columns),
            total=source.row_estimate,
            strategy=strategy_for(
                decision,
                native=native,
                fingerprint=fingerprint,
                entry=entry,
                book=book,
                hashed=hashed,
            ),
            prints=book,
        )
        if not info.created:
            for field_name in source.columns:
                note_unmapped(run, route, field_name)
        routes.append(route)
    earlydelta.discard_untaken()  # (its pages and states compared for a delta that is none)
    return routes


def rerun_source(run: RunView, spec: TableSpec) -> str | None:
    """The source whose unchanged files let a re-run skip ``spec``'s table: a SQLite
    source table feeding this spec alone, into a table no other spec feeds."""
    name = spec.source.split(".", 1)[0]
    reader = run.readers.get(name)
    if (
        run.sample is not None
        or reader is None
        or not reader.capabilities.sqlite_file
        or sum(1 for s in run.plan.tables if s.source == spec.source) != 1
        or sum(1 for s in run.plan.tables if s.name == spec.name) != 1
    ):
        return None
    return name


async def _pages_blocker(run: RunView, spec: TableSpec, source: SourceTable, field: str) -> str:
    """Why ``spec``'s SQLite source table cannot be printed from its file's pages ("" when
    it can: :mod:`ferry.load.pageprints`)."""
    reader = cast("SqliteSource", run.readers[spec.source.split(".", 1)[0]])
    return await asyncio.to_thread(reader.page_blocker, source.origin, field)


class _Decider:
    """Looks up the facts of one table spec's load decision, as far as it needs them."""

    def __init__(
        self,
        run: RunView,
        target: Target,
        spec: TableSpec,
        info: TableInfo,
        mapper: RowMapper,
        source: SourceTable,
        attaching: set[Path],
        planned: list[Route],
    ) -> None:
        self.run, self.target, self.spec = run, target, spec
        self.planned = planned  #: the routes planned before (its parents: ferry.load.loadorder)
        self.info, self.mapper, self.source = info, mapper, source
        #: the source files the plan's native loads so far attach (shared by the specs)
        self.attaching = attaching
        self.early: EarlyScan = (None, None)  #: (a delta's: ferry.load.earlyscan)

    async def decide(
        self,
        styles: TableStyles,
        refusals: dict[str, str],
        fingerprints: dict[str, dict[str, Any]],
        entry: PrintsEntry | None = None,
        printed: str | None = None,
    ) -> tuple[LoadDecision, NativeLoad | None, dict[str, Any] | None]:
        """The decision, the native load's SQL (native) and the matched fingerprint
        (unchanged); ``entry``: the row prints the last run kept of the table (delta);
        ``printed``: how its SQLite source rows are printed."""
        spec, info, mapper = self.spec, self.info, self.mapper
        keyed = bool(mapper.key) and set(info.primary_key) == set(mapper.key)
        facts = LoadFacts(
            plan_mode=spec.mode,
            key_is_primary_key=keyed,
            one_column_key=len(mapper.key) == 1,
            fed_alone=sum(1 for s in self.run.plan.tables if s.name == spec.name) == 1,
            refused=refusals.get(info.name),
            parent_merged=parent_merged_later(info, self.planned),
            printed=printed,
        )
        if spec.mode != "merge" or keyed:
            facts = _with(facts, table_empty=await self.target.is_empty(info))
        native: NativeLoad | None = None
        fingerprint: dict[str, Any] | None = None
        if straight_in(facts):
            # SQLite's mapping writes Ferry's own spelling: a styled table goes to Python.
            if set(styles.chosen) & set(mapper.columns):
                blocker = "the target table keeps its own spelling of values"
            elif not (blocker := parent_loaded_later(info, self.planned)):
                blocker, native = await self._native()
            facts = _with(facts, native_blocker=blocker, native_form=self._form(native))
            if native is not None and self.target.capabilities.loads_apart:
                facts = _with(facts, apart_blocker=await self._apart())
        elif spec.name in fingerprints and (source_name := rerun_source(self.run, spec)):
            files = self.run.watch.fingerprint(source_name)
            found = fingerprints[spec.name]
            unchanged = await still_unchanged(self.target, info.name, found, files)
            facts = _with(facts, unchanged=unchanged)
            fingerprint = found if unchanged else None
        if (
            entry is not None
            and not facts.unchanged
            and facts.key_is_primary_key
            and facts.one_column_key
            and facts.table_empty is False
            and facts.fed_alone
        ):
            facts = await self._delta(facts, entry)
        return decide(info.name, facts), native, fingerprint

    async def _delta(self, facts: LoadFacts, entry: PrintsEntry) -> LoadFacts:
        """Whether the row prints the last run kept still describe the table."""
        if entry.source != self.spec.source:
            return _with(facts, delta=False, delta_blocker="the last run read another source")
        if facts.printed == PAGES:  # its pages compared while its state is checked
            self.early = await scan_early(self.run, self.target, self.spec, self.info.name)
        if not await state_holds(self.target, self.info.name, list(self.info.columns), entry):
            return _with(
                facts,
                delta=False,
                delta_blocker="the target was written to since the last run kept the table's "
                "row prints",
            )
        return _with(facts, delta=True)

    async def _apart(self) -> str:
        """Why the table cannot be loaded on a connection of its own ("" when it can)."""
        if not self.run.plan.options.load_apart:
            return "load_apart is off in the plan's options (the default)"
        if not self.info.created or not self.info.ddl:
            return "the table existed before the run"
        # A view the run made on the new table would have to be dropped with it.
        if any(o.kind == "view" and o.status == "carried" for o in self.run.result.schema_objects):
            return "the run creates views, which read the tables it creates"
        return await self.target.apart_blocker()

    def _form(self, native: NativeLoad | None) -> str | None:
        if native is None:
            return None
        if self.target.capabilities.attaches_sqlite:
            return "INSERT … SELECT from the attached source file"
        if self.target.capabilities.binary_copy and native.binary_types is not None:
            return "binary COPY"
        return "COPY CSV"

    async def _native(self) -> tuple[str, NativeLoad | None]:
        """How SQLite maps this directly loaded table itself, when it can (a whole read, a
        SQLite source table feeding this spec alone, plain columns): ("", its SQL), else
        (why not, None)."""
        run, spec, source, target = self.run, self.spec, self.source, self.target
        reader = run.readers.get(spec.source.split(".", 1)[0])
        if not run.plan.options.native:
            return "native loads are off in the plan's options", None
        if run.sample is not None:
            return "a preview sample reads the first rows only", None
        if reader is None or not reader.capabilities.sqlite_file:
            return "the source is not a SQLite file", None
        if sum(1 for s in run.plan.tables if s.source == spec.source) != 1:
            return "its source table feeds several table specs", None
        # A column of that name would stand for the rowid the chunks are read by.
        if {"rowid", "oid", "_rowid_"} & {c.lower() for c in source.columns}:
            return "a source column is named rowid, oid or _rowid_", None
        if not await target.takes_native():
            return "the target does not take rows SQLite maps (its encoding)", None
        native = native_load(
            spec,
            self.info,
            self.mapper,
            source,
            target.capabilities.binary_copy,
            zone=run.plan.options.zone is not UTC,
            required=spec.skip_when_null,
        )
        if native is None:
            why = (
                "a column is not a plain copy (a hook, a step other than text ops, a cast or JSON)"
            )
            return why, None
        sqlite = cast("SqliteSource", reader)  # a SQLite file, as its capabilities say
        if not await asyncio.to_thread(sqlite.has_rowid, native.origin):
            return "the source table has no rowid", None
        if target.capabilities.attaches_sqlite and sqlite.path not in self.attaching:
            if len(self.attaching) >= ATTACHED_FILES:
                return f"the target attaches at most {ATTACHED_FILES} SQLite source files", None
            self.attaching.add(sqlite.path)
        return "", native


def _with(facts: LoadFacts, **changes: Any) -> LoadFacts:
    return replace(facts, **changes)


async def _replace_rows(
    run: RunView, target: Target, tables: dict[str, TableInfo]
) -> dict[str, int]:
    """Delete the rows of the tables the plan loads with ``mode = "replace"`` (children
    first), before any row is written: how many each had (the counts show them deleted)."""
    replaced = list(dict.fromkeys(s.name for s in run.plan.tables if s.mode == "replace"))
    deleted: dict[str, int] = {}
    for name in reversed(dependency_order(replaced, tables)):
        deleted[name] = await delete_all(target, name)
        if deleted[name]:
            said = f"{name}: mode = replace: its {deleted[name]} rows are replaced by the source's"
            run.warn(said, name)
    return deleted


def strategy_for(
    decision: LoadDecision,
    *,
    native: NativeLoad | None = None,
    fingerprint: dict[str, Any] | None = None,
    entry: PrintsEntry | None = None,
    book: PrintBook | None = None,
    hashed: HashSql | None = None,
) -> LoadStrategy:
    """The mode object carrying out ``decision`` (``native``: the SQL of a native load;
    ``fingerprint``: the journaled one an unchanged table still matches; ``entry``: the row
    prints a delta compares with; ``book``: how this run prints the rows; ``hashed``: the
    row-hash SQL a compare-first table is compared with, :mod:`ferry.load.hashload`)."""
    if decision.mode == "delta":
        assert entry is not None
        if book is not None and book.in_sql:
            return SqlDeltaLoad(decision, entry)
        if book is not None and book.lines:
            return LineDeltaLoad(decision, entry)
        return DeltaLoad(decision, entry)
    if decision.mode == "unchanged":
        assert fingerprint is not None
        return UnchangedLoad(decision, fingerprint)
    if decision.mode == "native":
        assert native is not None
        return NativeDirectLoad(decision, native)
    if decision.mode == "parallel":
        assert native is not None
        return ApartNativeLoad(decision, native)
    if decision.mode == "direct":
        return DirectLoad(decision)
    if decision.mode == "compare-first":
        if hashed is not None:
            return HashedCompareLoad(decision, hashed)
        return CompareFirstLoad(decision)
    return StagedLoad(decision)


__all__ = ["ValueWarner", "plan_routes", "rerun_source", "strategy_for"]
