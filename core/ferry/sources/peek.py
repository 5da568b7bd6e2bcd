"""Looks into a plan's sources without migrating them: what the wizard's Start page lists of
each source (kind, size, row count) and the first rows of one source table (the column
mapping editor's preview).

Qt-free and blocking: the wizard runs these in a worker thread. ``stop`` (a
:class:`threading.Event`) ends the reading early (another plan was opened, the editor closed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import FerryError
from ..plan import Plan
from . import Batch, open_source

#: rows a peek reads by default
PEEK_ROWS = 50


@dataclass
class SourceSummary:
    """One source as a list shows it: its kind, where it is, its size, rows and tables."""

    name: str
    kind: str
    where: str
    size: int | None = None
    rows: int | None = None
    tables: list[str] = field(default_factory=list)
    problem: str = ""


class Stopped(Exception):
    """The summary was no longer wanted (``stop`` was set)."""


def summarise_sources(plan: Plan, stop: threading.Event | None = None) -> list[SourceSummary]:
    """Describe every source of ``plan``; a source that cannot be read gets its problem.

    A source whose reader knows its row counts up front (SQLite, PostgreSQL, .env, text) is
    only described; a JSON source is read once and its rows counted, as ``ferry init`` does.
    Raises :class:`Stopped` once ``stop`` is set.
    """
    stop = stop or threading.Event()
    summaries = []
    for spec in plan.sources:
        where = spec.path or spec.url or " + ".join(spec.inputs)  # a merge: its inputs
        summary = SourceSummary(spec.name, spec.kind, where)
        try:
            reader = open_source(spec, plan.base_dir, plan.sources)
            try:
                files = reader.files()
                summary.size = sum(f.stat().st_size for f in files if f.is_file())
                tables = reader.describe()
                summary.tables = [t.name for t in tables]
                if all(t.row_estimate is not None for t in tables):
                    summary.rows = sum(t.row_estimate or 0 for t in tables)
                else:
                    summary.rows = _count_rows(reader.batches(5000), stop)
            finally:
                reader.close()
        except FerryError as exc:
            summary.problem = exc.message
        except OSError as exc:
            summary.problem = f"cannot read {exc.filename or spec.path}: {exc.strerror or exc}"
        summaries.append(summary)
        if stop.is_set():
            raise Stopped()
    return summaries


def _count_rows(batches: Iterator[Batch], stop: threading.Event) -> int:
    rows = 0
    for batch in batches:
        if stop.is_set():
            raise Stopped()
        rows += len(batch.rows)
    return rows


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
