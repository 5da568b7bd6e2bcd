"""The load modes as objects: one per :class:`~ferry.load.decide.LoadDecision` mode.

Each mode object answers the same few questions for the run, so the run delegates instead of
branching on the mode: how a mapped batch is encoded (:meth:`LoadStrategy.encode`, in a
worker thread), how it is written (:meth:`LoadStrategy.write`), how the table is finished
once every row is in (:meth:`LoadStrategy.finish`: merge, or count what went straight in),
and what a re-run compares to skip it (:meth:`LoadStrategy.row_state`). The calls are per
batch or per table, never per row: the hot loops stay in :func:`ferry.load.route.map_rows` and
the target.

The modes: ``staged`` and ``compare-first`` in :mod:`ferry.load.staged`; ``direct``,
``native`` and ``unchanged`` in :mod:`ferry.load.direct` (a native table's chunks are streamed
by :mod:`ferry.native.stream`); :func:`ferry.load.routes.strategy_for` picks one per decision.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..targets import Stage, Target
from ..targets.base import Encoded
from .decide import LoadDecision
from .rerun import table_state
from .route import Route, RunView, Work


class LoadStrategy:
    """How one table's rows go in (the base: the protocol every mode follows)."""

    #: the run's ordinary read feeds this table (False: nothing is read, or the mode reads
    #: the table itself)
    reads_rows: ClassVar[bool] = True

    def __init__(self, decision: LoadDecision) -> None:
        self.decision = decision

    def encode(self, target: Target, stage: Stage, prepared: list[tuple[Any, ...]]) -> Encoded:
        """One mapped batch as the target takes it (in a worker thread)."""
        raise NotImplementedError

    async def write(self, run: RunView, target: Target, work: Work) -> None:
        """Write one mapped batch (its rejects and counts are the pipeline's)."""
        raise NotImplementedError

    async def delete_missing_first(self, run: RunView, target: Target, route: Route) -> None:
        """Every row is in, no table merged yet: delete the rows missing from the source now
        where the mode deletes them as a set (called children first; the base: nothing)."""

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        """Every row is in: merge or count, fill ``route.result``, append it to the run's."""
        raise NotImplementedError

    async def row_state(self, target: Target, route: Route) -> tuple[int, list[str]] | None:
        """The table's row count and row versions for a re-run's fingerprint
        (:mod:`ferry.load.rerun`); None keeps the fingerprint the table already has."""
        return await table_state(target, route.info.name)


__all__ = ["LoadStrategy"]
