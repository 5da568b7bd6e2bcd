"""One target table fed from one source table during a run, and the batches on their way.

A :class:`Route` carries what the run knows of a table spec while it streams (mapper, stage,
result, the mode object its :class:`~ferry.load.decide.LoadDecision` chose); a :class:`Work`
is one mapped batch from the reading thread to the writer. :class:`RunView` is the narrow part
of the run the mode objects and the pipeline use (warnings, rejects, events, cancel), so they
never import the run itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..events import CancelToken, Emit
from ..plan import Plan, TableSpec
from ..results import RunResult, TableResult
from ..safety.sourcewatch import SourceWatch
from ..shape.schema import TableInfo
from ..sources import SourceReader, SourceTable
from ..targets import Stage, Target
from ..targets.base import DirectLoadRefused, Encoded
from ..values.targetstyles import TableStyles
from ..values.transform import RowMapper, RowRefused, refused_key
from .decide import LoadDecision

if TYPE_CHECKING:
    from .changeset import ChangeRecorder
    from .printbook import PrintBook
    from .strategy import LoadStrategy


class RestartStaged(Exception):
    """A direct load was refused: the run starts over with that table staged."""

    def __init__(self, refused: DirectLoadRefused) -> None:
        super().__init__(str(refused))
        self.refused = refused


@dataclass
class Route:
    """One target table fed from one source table during a run."""

    spec: TableSpec
    info: TableInfo
    mapper: RowMapper
    stage: Stage
    result: TableResult
    adapters: list[Any]
    known_fields: set[str]
    total: int | None
    #: how the rows go in (:mod:`ferry.load.strategy`), carrying out ``decision``
    strategy: LoadStrategy
    #: when the table's first batch arrived (for rows/s)
    started: float = field(default_factory=time.perf_counter)
    #: seconds spent on this table alone (mapping, staging, merging)
    busy: float = 0.0
    #: rows loaded straight into the target table
    loaded: int = 0
    #: the table's indexes were built with its rows (copied whole: ferry.targets.sqlitecopy)
    indexed: bool = False
    #: the mapper's compiled row function with the adapters (rebuilt when columns are added)
    row_fn: Callable[[dict[str, Any]], tuple[Any, ...] | None] | None = None
    #: this run's prints of the source rows (:mod:`ferry.load.delta`), None when none are kept
    prints: PrintBook | None = None

    @property
    def decision(self) -> LoadDecision:
        """The load decision this route carries out."""
        return self.strategy.decision


@dataclass
class Work:
    """One mapped batch on its way from the reading thread to the target."""

    route: Route
    rows_read: int
    prepared: list[tuple[Any, ...]]
    rejected: list[tuple[str, str, dict[str, Any]]]
    skipped: int
    encoded: Encoded
    seconds: float
    #: rows in ``encoded`` when they are not ``prepared`` (a native chunk)
    native_rows: int | None = None


class RunView(Protocol):
    """What the mode objects and the pipeline use of the run (:mod:`ferry.migrate`)."""

    plan: Plan
    emit: Emit
    cancel: CancelToken
    preview: bool
    result: RunResult
    readers: dict[str, SourceReader]
    source_tables: dict[str, SourceTable]
    styles: dict[str, TableStyles]
    sample: int | None
    diff_tables: set[str]
    diff_limit: int
    #: when the run started (the mapping's ``now``)
    started_at: datetime
    #: the source files' fingerprints (:mod:`ferry.safety.sourcewatch`)
    watch: SourceWatch
    #: records what the run changes, for ``ferry undo`` (None in a preview)
    changes: ChangeRecorder | None
    #: the tables (of table specs) an earlier completed migration loaded
    loaded_before: set[str]
    #: a run of a series (``ferry sync``'s cycles): unset row prints are kept
    syncing: bool

    def warn(self, message: str, table: str = "", kind: str = "", key: str = "") -> None: ...

    def reject(
        self, route: Route, key: str, reason: str, row: dict[str, Any], kind: str = "transform"
    ) -> None: ...


def map_rows(route: Route, target: Target, rows: list[dict[str, Any]]) -> Work:
    """Map, cast, adapt and encode one batch (runs in a worker thread)."""
    began = time.perf_counter()
    map_row = route.row_fn
    assert map_row is not None
    prepared: list[tuple[Any, ...]] = []
    rejected: list[tuple[str, str, dict[str, Any]]] = []
    skipped = 0
    book = route.prints
    if book is not None and book.prints_as_read:
        rows = book.take(rows)  # printed; a delta load maps only new and changed rows
    for row in rows:
        try:
            values = map_row(row)
        except RowRefused as exc:
            rejected.append((source_key(route, row), exc.reason, row))
            continue
        if values is None:
            skipped += 1
            continue
        prepared.append(values)
    encoded = route.strategy.encode(target, route.stage, prepared)
    seconds = time.perf_counter() - began
    return Work(route, 0, prepared, rejected, skipped, encoded, seconds)


def new_fields(known: set[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
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


def source_key_values(route: Route, row: dict[str, Any]) -> dict[str, Any]:
    """The key columns of a row the mapping refused, by target column: each read from the
    source field the plan maps to it (the field of the same name otherwise)."""
    columns = route.spec.columns
    return {k: row.get(columns[k].from_ or k if k in columns else k) for k in route.mapper.key}


def source_key(route: Route, row: dict[str, Any]) -> str:
    """A refused source row's key as text, by the source fields mapped to the key."""
    return refused_key(route.spec, route.mapper.key, row)


def share_read(route: Route) -> float:
    """The share of its source rows ``route`` has read (0 while the count is unknown)."""
    return route.result.rows_read / route.total if route.total else 0.0


__all__ = [
    "RestartStaged",
    "Route",
    "RunView",
    "Work",
    "map_rows",
    "new_fields",
    "share_read",
    "source_key",
    "source_key_values",
]
