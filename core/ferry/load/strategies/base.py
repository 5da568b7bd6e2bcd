"""The protocol every load mode follows (see :mod:`ferry.load.strategies`)."""

from __future__ import annotations

from typing import Any, ClassVar

from ...targets import Stage, Target
from ...targets.base import Encoded
from ..decide import LoadDecision
from ..rerun import table_state
from ..route import Route, RunView, Work


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

    async def finish(self, run: RunView, target: Target, route: Route) -> None:
        """Every row is in: merge or count, fill ``route.result``, append it to the run's."""
        raise NotImplementedError

    async def row_state(self, target: Target, route: Route) -> tuple[int, list[str]] | None:
        """The table's row count and row versions for a re-run's fingerprint
        (:mod:`ferry.load.rerun`); None keeps the fingerprint the table already has."""
        return await table_state(target, route.info.name)


__all__ = ["LoadStrategy"]
