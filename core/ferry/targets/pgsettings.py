"""Planner settings changed for a few statements, in the run's transaction only.

``set_config(name, value, true)`` lasts until the transaction ends; the previous values are
put back after the block so the rest of the run plans as the server was configured. A failed
statement aborts the transaction, which undoes the settings with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from ..shape.ddl import sql_literal


@asynccontextmanager
async def local_settings(conn: Any, settings: Mapping[str, str]) -> AsyncIterator[None]:
    """Inside the block ``settings`` hold on ``conn`` (the run's SQLAlchemy
    ``AsyncConnection``, inside its transaction); after it, the values from before."""
    before: dict[str, str | None] = {}
    for name, value in settings.items():
        row = (await conn.exec_driver_sql(f"SELECT current_setting('{name}')")).first()
        before[name] = row[0] if row else None
        await conn.exec_driver_sql(f"SELECT set_config('{name}', {sql_literal(value)}, true)")
    yield
    for name, old in before.items():
        if old is not None:
            await conn.exec_driver_sql(f"SELECT set_config('{name}', {sql_literal(old)}, true)")


__all__ = ["local_settings"]
