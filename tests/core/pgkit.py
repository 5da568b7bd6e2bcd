"""Small helpers for tests that look at a real PostgreSQL database directly."""

from __future__ import annotations

from typing import Any

import psycopg


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
