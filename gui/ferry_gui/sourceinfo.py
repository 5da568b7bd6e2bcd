"""What the Start page shows of an opened plan's sources: kind, size and a row count.

Runs in a worker thread (it reads the files). A source whose reader knows its row counts up
front (SQLite, PostgreSQL, .env, text) is only described; a JSON source is read once and its
rows counted, as ``ferry init`` does. ``stop`` ends the work early (another plan was opened).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from ferry import FerryError, Plan
from ferry.sources import Batch, open_source


@dataclass
class SourceSummary:
    """One row of the Start page's source list."""

    name: str
    kind: str
    where: str
    size: int | None = None
    rows: int | None = None
    tables: list[str] = field(default_factory=list)
    problem: str = ""


class Stopped(Exception):
    """The summary was no longer wanted."""


def summarise_sources(plan: Plan, stop: threading.Event | None = None) -> list[SourceSummary]:
    """Describe every source of ``plan``; a source that cannot be read gets its problem."""
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
