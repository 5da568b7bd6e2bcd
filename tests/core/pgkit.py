"""Small helpers for tests that look at a real PostgreSQL database directly."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import psycopg

from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.results import RunResult


def pg_exec(url: str, *statements: str) -> None:
    """Run statements in autocommit mode."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """All rows of a query."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def pg_tables(url: str) -> list[str]:
    """The tables of the public schema, sorted."""
    return [
        r[0]
        for r in pg_rows(
            url,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY table_name",
        )
    ]


def settled(url: str) -> None:
    """Wait (up to ~4 s) until the server ended every other session of ``url``'s database: a
    run's sessions take its run lock with them, and a run straight after, in the same
    process, would otherwise find the target busy."""
    for _ in range(200):
        others = pg_rows(
            url,
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        if not others[0][0]:
            return
        time.sleep(0.02)


def migrated(plan: Plan) -> RunResult:
    """``migrate(plan)`` without reports, once the run's sessions have ended (:func:`settled`)."""
    result = asyncio.run(migrate(plan, write_reports=False))
    settled(plan.target.url)
    return result


def parents_items_plan(folder: Path, url: str, name: str) -> Plan:
    """The plan moving ``parents`` and ``items`` of ``folder/app.db`` into ``url`` by ``id``,
    keeping row prints (the delta tests' two tables)."""
    return plan_from_dict(
        {
            "name": name,
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [
                {"name": t, "source": f"app.{t}", "key": ["id"]} for t in ("parents", "items")
            ],
            "options": {"row_prints": True},
        },
        folder,
    )
