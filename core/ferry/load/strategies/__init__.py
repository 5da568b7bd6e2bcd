"""The load modes as objects: one per :class:`~ferry.load.decide.LoadDecision` mode.

Each mode object answers the same few questions for the run, so the run delegates instead of
branching on the mode: how a mapped batch is encoded (:meth:`LoadStrategy.encode`, in a
worker thread), how it is written (:meth:`LoadStrategy.write`), how the table is finished
once every row is in (:meth:`LoadStrategy.finish`: merge, or count what went straight in),
and what a re-run compares to skip it (:meth:`LoadStrategy.row_state`). The calls are per
batch or per table, never per row: the hot loops stay in :func:`ferry.load.route.map_rows` and
the target.
"""

from __future__ import annotations

from typing import Any

from ...native.load import NativeLoad
from ..decide import LoadDecision
from .base import LoadStrategy
from .direct import DirectLoad, NativeDirectLoad, UnchangedLoad
from .staged import CompareFirstLoad, StagedLoad


def strategy_for(
    decision: LoadDecision,
    *,
    native: NativeLoad | None = None,
    fingerprint: dict[str, Any] | None = None,
) -> LoadStrategy:
    """The mode object carrying out ``decision`` (``native``: the SQL of a native load;
    ``fingerprint``: the journaled one an unchanged table still matches)."""
    if decision.mode == "unchanged":
        assert fingerprint is not None
        return UnchangedLoad(decision, fingerprint)
    if decision.mode == "native":
        assert native is not None
        return NativeDirectLoad(decision, native)
    if decision.mode == "direct":
        return DirectLoad(decision)
    if decision.mode == "compare-first":
        return CompareFirstLoad(decision)
    return StagedLoad(decision)


__all__ = [
    "CompareFirstLoad",
    "DirectLoad",
    "LoadStrategy",
    "NativeDirectLoad",
    "StagedLoad",
    "UnchangedLoad",
    "strategy_for",
]
