"""A created table's foreign key is checked by merging two index-only scans where both tables'
rows are frozen and the child has an index leading with the key (ferry.targets.pgforeignkeys);
otherwise the server's own plan stands. The check finds the same rows either way."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_rows
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.targets.pgforeignkeys import merge_checked

pytestmark = pytest.mark.pg

_ANTI_JOIN = (
    "EXPLAIN SELECT c.team_id FROM ONLY player c LEFT JOIN ONLY team p ON p.id = c.team_id "
    "WHERE p.id IS NULL AND c.team_id IS NOT NULL"
)


async def _load(conn: AsyncConnection, freeze: bool, index: str | None) -> None:
    """team (100 rows) and player (1000), created in this transaction; ``freeze``: written
    with COPY … FREEZE, else inserted; ``index``: player's index columns."""
    await conn.exec_driver_sql("CREATE TABLE team (id BIGINT PRIMARY KEY)")
    await conn.exec_driver_sql(
        "CREATE TABLE player (id BIGINT PRIMARY KEY, team_id BIGINT, name TEXT)"
    )
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    option = " (FREEZE)" if freeze else ""
    async with raw.cursor() as cursor:
        async with cursor.copy(f"COPY team (id) FROM STDIN{option}") as copy:
            for i in range(100):
                await copy.write_row((i,))
        async with cursor.copy(f"COPY player (id, team_id, name) FROM STDIN{option}") as copy:
            for i in range(1000):
                await copy.write_row((i, i % 100, f"p{i}"))
    await conn.exec_driver_sql("CREATE INDEX team_any ON team (id DESC)")  # records the pages
    if index:
        await conn.exec_driver_sql(f"CREATE INDEX player_team ON player ({index})")


def _in_transaction(url: str, body: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        engine = create_async_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            async with engine.connect() as conn, conn.begin() as tx:
                found = await body(conn)
                await tx.rollback()
                return found
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _plan_and_setting(freeze: bool, index: str | None) -> Callable[[AsyncConnection], Any]:
    async def body(conn: AsyncConnection) -> tuple[bool, str, str]:
        await _load(conn, freeze, index)
        async with merge_checked(conn, "player", ("team_id",), "team") as merged:
            plan = "\n".join(r[0] for r in await conn.exec_driver_sql(_ANTI_JOIN))
            inside = (await conn.exec_driver_sql("SHOW enable_hashjoin")).scalar_one()
        after = (await conn.exec_driver_sql("SHOW enable_hashjoin")).scalar_one()
        return merged, plan, f"{inside} {after}"

    return body


def test_frozen_rows_with_an_index_on_the_key_are_checked_by_a_merge(pg_url: str) -> None:
    merged, plan, _ = _in_transaction(pg_url, _plan_and_setting(True, "team_id, name"))
    assert merged
    assert "Merge Anti Join" in plan
    assert "Index Only Scan using player_team" in plan  # (team is one page: sorted)


def test_the_planner_settings_are_back_after_the_check(pg_url: str) -> None:
    _, _, settings = _in_transaction(pg_url, _plan_and_setting(True, "team_id"))
    assert settings == "off on"


def test_without_an_index_leading_with_the_key_the_servers_plan_stands(pg_url: str) -> None:
    merged, _, settings = _in_transaction(pg_url, _plan_and_setting(True, "name, team_id"))
    assert not merged
    assert settings == "on on"


def test_rows_not_frozen_keep_the_servers_plan(pg_url: str) -> None:
    merged, _, settings = _in_transaction(pg_url, _plan_and_setting(False, "team_id"))
    assert not merged
    assert settings == "on on"


def test_an_orphan_still_fails_the_key_checked_by_a_merge(tmp_path: Path, pg_url: str) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    db.executescript(
        "CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE INDEX team_name ON team (name);"
        "CREATE TABLE player (id INTEGER PRIMARY KEY,"
        " team_id INTEGER NOT NULL REFERENCES team (id));"
        "CREATE INDEX player_team ON player (team_id);"
        "INSERT INTO team VALUES (1, 'Reds'); INSERT INTO player VALUES (10, 1), (30, 9);"
    )
    db.close()
    plan = plan_from_dict(
        {
            "name": "orphan",
            "target": {"url": pg_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(tmp_path / "app.db")}],
            "tables": [
                {"name": "team", "source": "app.team", "key": ["id"]},
                {"name": "player", "source": "app.player", "key": ["id"]},
            ],
        },
        tmp_path,
    )
    with pytest.raises(Exception, match=r"Key \(team_id\)=\(9\) is not present"):
        asyncio.run(migrate(plan, write_reports=False))
    assert pg_rows(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []
