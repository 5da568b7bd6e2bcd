"""The first rows of one source table, for the column mapping editor's source preview.

Qt-free; runs in a worker thread (it opens and reads the source through the engine's readers).
``stop`` ends the reading early (the editor was closed).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ferry import Plan
from ferry.sources import open_source

#: rows the preview shows
PEEK_ROWS = 50


@dataclass
class SourcePeek:
    """A source table's fields (described, then as the rows show them) and its first rows."""

    table: str
    fields: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def peek_source(
    plan: Plan, table: str, limit: int = PEEK_ROWS, stop: threading.Event | None = None
) -> SourcePeek:
    """The first ``limit`` rows of source table ``table`` (``settings``, ``executions.steps``)."""
    stop = stop or threading.Event()
    peek = SourcePeek(table)
    spec = plan.source(table.split(".", 1)[0])
    reader = open_source(spec, plan.base_dir, plan.sources)
    try:
        for described in reader.describe():
            if described.name == table:
                peek.fields = list(described.columns)
        for batch in reader.batches(max(limit, 1)):
            if stop.is_set() or len(peek.rows) >= limit:
                break
            if batch.table == table:
                peek.rows.extend(batch.rows[: limit - len(peek.rows)])
    finally:
        reader.close()
    for row in peek.rows:  # a field the description missed (a key only some records have)
        peek.fields += [name for name in row if name not in peek.fields]
    return peek
