"""An in-memory source reader for engine tests, and small helpers shared by them.

``install(monkeypatch, {"jobs": FakeTable(rows, key=("id",))})`` makes every plan source read
from the given tables instead of files: a source named ``jobs`` provides the tables ``jobs``
and ``jobs.<child>`` of the mapping. Column types are inferred from the rows (as a reader's
``scan`` would) unless the table declares them. The engine tests therefore do not depend on
the real JSON/env/text readers.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import ferry.load.mapping
from ferry.events import CancelToken, Event
from ferry.migrate import RunResult, migrate
from ferry.plan import Plan, SourceSpec, plan_from_dict
from ferry.sources.base import Batch, ParentLink, SourceReader, SourceTable
from ferry.values.logical import INT64_MAX, INT64_MIN, LogicalType, TypeTracker


@dataclass
class FakeTable:
    """Rows of one source table; ``columns`` None means: infer the types from the rows."""

    rows: list[dict[str, Any]]
    key: tuple[str, ...] = ()
    columns: dict[str, LogicalType] | None = None
    parent: ParentLink | None = None


@dataclass
class FakeState:
    """What the fake readers saw: how many were opened and closed."""

    opened: int = 0
    closed: int = 0
    batch_sizes: list[int] = field(default_factory=list)


class FakeSource(SourceReader):
    """Serves the tables of ``tables`` whose name is the spec's name or starts with it + '.'."""

    def __init__(
        self, spec: SourceSpec, base_dir: Path, tables: dict[str, FakeTable], state: FakeState
    ) -> None:
        super().__init__(spec, base_dir)
        self.state = state
        self.tables = {
            name: table
            for name, table in tables.items()
            if name == spec.name or name.startswith(spec.name + ".")
        }
        state.opened += 1

    def describe(self) -> list[SourceTable]:
        described = []
        for name, table in self.tables.items():
            if table.columns is None:
                tracker = TypeTracker()
                for row in table.rows:
                    tracker.add(row)
                columns = tracker.result()
            else:
                columns = dict(table.columns)
            described.append(
                SourceTable(
                    name,
                    columns,
                    key=table.key,
                    parent=table.parent,
                    row_estimate=len(table.rows),
                )
            )
        return described

    def batches(self, batch_size: int) -> Iterator[Batch]:
        self.state.batch_sizes.append(batch_size)
        for name, table in self.tables.items():
            for start in range(0, len(table.rows), batch_size):
                # Copies: the engine must not depend on (or change) the reader's dicts.
                yield Batch(name, [dict(r) for r in table.rows[start : start + batch_size]])

    def close(self) -> None:
        self.state.closed += 1


def install(monkeypatch: pytest.MonkeyPatch, tables: dict[str, FakeTable]) -> FakeState:
    """Make the engine read every plan source from ``tables``."""
    state = FakeState()

    def open_fake(spec: SourceSpec, base_dir: Path, sources: object = ()) -> SourceReader:
        return FakeSource(spec, base_dir, tables, state)

    monkeypatch.setattr(ferry.load.mapping, "open_source", open_fake)
    return state


def make_plan(
    url: str,
    tables: list[dict[str, Any]],
    base_dir: Path,
    *,
    sources: list[str] | None = None,
    target: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Plan:
    """A plan over fake sources: one JSON-kind source per name (the path is never read)."""
    names = sources or sorted({t["source"].split(".", 1)[0] for t in tables})
    data: dict[str, Any] = {
        "target": {"url": url, **(target or {})},
        "sources": [{"name": n, "kind": "json", "path": f"{n}.json"} for n in names],
        "tables": tables,
    }
    if options:
        data["options"] = options
    return plan_from_dict(data, base_dir)


def run(
    plan: Plan,
    *,
    preview: bool = False,
    emit: Callable[[Event], None] | None = None,
    cancel: CancelToken | None = None,
) -> RunResult:
    """``migrate`` from synchronous test code."""
    events: Callable[[Event], None] = emit or (lambda event: None)
    return asyncio.run(migrate(plan, emit=events, cancel=cancel, preview=preview))


def sha256(path: Path) -> str:
    """The file's SHA-256 (to prove a target was left byte-identical)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query against a SQLite file (a fresh connection, closed afterwards)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def sqlite_exec(path: Path, script: str) -> None:
    """Run a SQL script against a SQLite file and commit."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
        conn.commit()
    finally:
        conn.close()


#: one row of every logical type a source can hand over (and a second with other styles)
TYPED_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "big": INT64_MAX,
        "neg": INT64_MIN,
        "f": 1.5,
        "flag": True,
        "ts": "2024-05-01T10:00:00Z",
        "meta": {"a": [1, "é"]},
        "blob": b"\x00\xff",
        "nothing": None,
        "name": "Ada",
    },
    {
        "id": 2,
        "big": 2**40,
        "neg": -1,
        "f": 2,
        "flag": False,
        "ts": "2024-05-01 12:00:00",
        "meta": [1, 2],
        "blob": b"",
        "nothing": None,
        "name": None,
    },
    {
        "id": 3,
        "big": 0,
        "neg": 0,
        "f": -0.25,
        "flag": None,
        "ts": "2024-05-01T12:00:00.123456+02:00",
        "meta": "just text",
        "blob": None,
        "nothing": None,
        "name": "Ünïcode ✓",
    },
    {
        "id": 4,
        "big": None,
        "neg": None,
        "f": None,
        "flag": True,
        "ts": "2024-05-01T10:00:00.5",
        "meta": None,
        "blob": b"x",
        "nothing": None,
        "name": "",
    },
]


def counts(**changed: int) -> dict[str, int]:
    """A table result's counts: every one 0 but those given."""
    base = {
        "read": 0,
        "inserted": 0,
        "updated": 0,
        "unchanged": 0,
        "conflicts": 0,
        "rejected": 0,
        "duplicates": 0,
        "skipped": 0,
        "deleted": 0,
    }
    return base | changed
