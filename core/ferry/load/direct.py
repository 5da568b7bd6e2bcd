"""The modes that skip stage and merge: rows straight into an empty table (``direct``, and
``native`` where SQLite maps them itself), and ``unchanged`` tables nothing is read of."""

from __future__ import annotations

from typing import Any

from ..events import TableFinished
from ..native.load import NativeLoad
from ..targets import Stage, Target
from ..targets.base import ApartLoad, DirectLoadRefused, Encoded
from .decide import LoadDecision
from .diff import RowInsert
from .rerun import loaded_state, skipped_result
from .route import RestartStaged, Route, RunView, Work
from .strategy import LoadStrategy


class DirectLoad(LoadStrategy):
    """Rows go straight into the (empty) table: every row is an insert. A row the database
    refuses raises :class:`~ferry.load.route.RestartStaged`: the run starts over staged."""

    def encode(self, target: Target, stage: Stage, prepared: list[tuple[Any, ...]]) -> Encoded:
        return target.encode_rows(stage, prepared, True)

    async def write(self, run: RunView, target: Target, work: Work) -> None:
        route = work.route
        try:
            await self.load(target, route, work.encoded)
        except DirectLoadRefused as exc:
            raise RestartStaged(exc) from None
        if work.native_rows is None:
            route.loaded += len(work.prepared)
        else:
            route.loaded += work.native_rows
            route.result.mapped_by_sqlite += work.native_rows

    async def load(self, target: Target, route: Route, encoded: Encoded) -> None:
        """Send one encoded batch into the table (raises :class:`DirectLoadRefused`)."""
        await target.load_direct(route.stage, encoded)

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        result = route.result
        if diffs_wanted(run, route):
            note_inserts(run, route, await target.loaded_rows(route.stage, run.diff_limit))
        result.inserted = route.loaded
        if run.changes is not None:  # undo: every row of the table is this run's
            await run.changes.loaded(route.info, route.stage, route.spec.mode, route.loaded)
        result.seconds = route.busy
        run.emit(TableFinished(route.info.name, result.counts(), 0.0))
        run.result.tables.append(result)

    async def row_state(self, target: Target, route: Route) -> tuple[int, list[str]] | None:
        # every row was written by this run, in one subtransaction
        return await loaded_state(target, route.info.name, route.loaded)


class NativeDirectLoad(DirectLoad):
    """A direct load SQLite maps itself (:mod:`ferry.native.stream` reads the table; the rows
    SQLite leaves out come back through :meth:`write` mapped by Python)."""

    reads_rows = False

    def __init__(self, decision: LoadDecision, native: NativeLoad) -> None:
        super().__init__(decision)
        self.native = native


class ApartNativeLoad(NativeDirectLoad):
    """A native load into a table this run created, on a connection of its own into a
    private table (:mod:`ferry.native.apart` streams it and sets ``apart``), put in place by
    the run's transaction before the table is finished."""

    def __init__(self, decision: LoadDecision, native: NativeLoad) -> None:
        super().__init__(decision, native)
        #: the private table, once open
        self.apart: ApartLoad | None = None

    async def load(self, target: Target, route: Route, encoded: Encoded) -> None:
        assert self.apart is not None
        await self.apart.copy(route.stage.columns, encoded)


class UnchangedLoad(LoadStrategy):
    """Source files and table as the last run left them: nothing is read, every row counts
    unchanged (:mod:`ferry.load.rerun`)."""

    reads_rows = False

    def __init__(self, decision: LoadDecision, fingerprint: dict[str, Any]) -> None:
        super().__init__(decision)
        self.fingerprint = fingerprint

    def encode(self, target: Target, stage: Stage, prepared: list[tuple[Any, ...]]) -> Encoded:
        raise AssertionError("an unchanged table is not read")

    async def write(self, run: RunView, target: Target, work: Work) -> None:
        raise AssertionError("an unchanged table is not read")

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        skipped_result(route.result, self.fingerprint)
        run.emit(TableFinished(route.info.name, route.result.counts(), 0.0))
        run.result.tables.append(route.result)

    async def row_state(self, target: Target, route: Route) -> tuple[int, list[str]] | None:
        route.result.fingerprint = self.fingerprint
        return None


def diffs_wanted(run: RunView, route: Route) -> bool:
    """Whether the preview asked for this table's row diffs."""
    return "*" in run.diff_tables or route.info.name in run.diff_tables


def note_inserts(run: RunView, route: Route, rows: list[dict[str, Any]]) -> None:
    """The first rows inserted into the table, for the preview's diff."""
    for row in rows:
        key = route.mapper.key_of(row)
        first = {k: row[k] for k in route.mapper.key if k in row}  # the key columns lead
        values = first | {k: v for k, v in row.items() if k not in first}
        run.result.inserts.append(RowInsert(route.info.name, key, values))


__all__ = [
    "ApartNativeLoad",
    "DirectLoad",
    "NativeDirectLoad",
    "UnchangedLoad",
    "diffs_wanted",
    "note_inserts",
]
