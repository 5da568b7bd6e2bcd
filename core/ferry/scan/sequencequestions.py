"""``ferry init`` into a PostgreSQL schema the app made: the sequences no column owns.

Synapse (and any app that calls ``nextval`` itself) keeps sequences no column owns and no
default takes from: ``events_stream_seq`` numbers ``events.stream_ordering``, and it refuses
to start when the sequence stands behind the values its tables hold. The catalog does not say
which columns such a sequence numbers, so the draft asks (``target.sequences``), naming each
with where it stands: an answer ``NAME=TABLE.COLUMN, …`` sets ``[target] sequences`` (the run
moves each past its columns, :mod:`ferry.load.freesequences`); ``leave`` (the default) moves
none, and the run names them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..errors import FerryError
from ..load.freesequences import FreeSequence, free_sequences
from ..plan import QuestionSpec, TableSpec, TargetSpec
from ..plansets import VALUE_MAP
from ..targets import open_target

_SHOWN = 30


def ask_about_free_sequences(
    target: TargetSpec, target_base: Path, tables: list[TableSpec], existing: set[str]
) -> list[QuestionSpec]:
    """The question about the target's free sequences, when the draft feeds tables the
    PostgreSQL target already has and it keeps any; none otherwise."""
    if target.is_sqlite or not any(t.name in existing for t in tables):
        return []
    try:
        free = asyncio.run(_read(target, target_base))
    except FerryError:
        return []  # `ferry check` reports a target it cannot read
    if not free:
        return []
    shown = [f"{s.name}: at {s.last}" for s in free[:_SHOWN]]
    if len(free) > _SHOWN:
        shown.append(f"and {len(free) - _SHOWN} more")
    return [
        QuestionSpec(
            id="target.sequences",
            ask=(
                f"The target keeps {len(free)} sequence(s) no column owns and no default takes "
                "from: the app numbers rows with them itself, and its next number may be one "
                "the run loads. Which columns does each number? Answer NAME=TABLE.COLUMN, … "
                "(a sequence numbering several: NAME=TABLE.COLUMN TABLE.COLUMN); the run moves "
                "each past the highest value there. leave: none is moved, and the run names "
                "them."
            ),
            evidence=shown,
            choices=["leave"],
            default="leave",
            sets={"leave": {}},
            value_sets={"target.sequences": VALUE_MAP},
        )
    ]


async def _read(target: TargetSpec, target_base: Path) -> list[FreeSequence]:
    handle = open_target(target, target_base)
    await handle.open(read_only=True)
    try:
        return await free_sequences(handle)
    finally:
        await handle.finish(commit=False)


__all__ = ["ask_about_free_sequences"]
