"""What the hashed compare-first tests share: a plan moving a SQLite file's ``items`` into a
target, SQL run on the source, a run, and a table's counts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.results import RunResult, TableResult


def items_plan(folder: Path, url: str, **table: Any) -> Any:
    """``app.db``'s ``items`` into ``url`` (row_prints unset: a first run keeps none, the
    re-run compares first and keeps them)."""
    return plan_from_dict(
        {
            "name": "hashed",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "items", "source": "app.items", "key": ["id"], **table}],
        },
        folder,
    )


def on_source(folder: Path, sql: str) -> None:
    """Run ``sql`` on ``app.db`` and commit."""
    db = sqlite3.connect(folder / "app.db")
    db.executescript(sql)
    db.commit()
    db.close()


def run(plan: Any) -> RunResult:
    """One migration, no report files."""
    return asyncio.run(migrate(plan, write_reports=False))


def counts(table: TableResult) -> tuple[int, int, int, int]:
    """Unchanged, updated, inserted, deleted."""
    return table.unchanged, table.updated, table.inserted, table.deleted
