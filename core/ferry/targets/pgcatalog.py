"""What a PostgreSQL target is and holds, read from its catalog: the dialect SQL behind the
questions :class:`~ferry.targets.base.Target` answers for ``check``, the schema steps and
verify (its version, the run's privileges, the names taken in its schema, whether a relation
or an extension exists), kept apart from the loading in :mod:`ferry.targets.postgres`."""

from __future__ import annotations

from typing import Any

from ..shape.identifiers import quote
from ..shape.textorder import PG_DATABASE_SQL, PG_ORDER_SQL, TextOrder, pg_order
from .base import Privilege, Target

# Every relation of the target's schema (the one Ferry creates its tables in).
_NAMES = """
SELECT c.relname, c.relkind FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace
"""
_KINDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "i": "index",
    "I": "index",
    "f": "foreign table",
    "c": "type",
}


async def server_version(target: Target) -> str:
    """``PostgreSQL 16.2 …``."""
    return "PostgreSQL " + str(await target.scalar("SHOW server_version", "reading the version"))


async def privileges(target: Target, existing: list[str]) -> list[Privilege]:
    """May the user create tables in the schema, and insert and update the ``existing``
    tables the plan loads."""
    found = []
    if target.created_schema:
        # Made in the check's transaction (rolled back) so the schema step could be tried.
        found.append(
            Privilege(
                "privileges",
                True,
                f"schema {target.created_schema} does not exist yet: a run creates it",
            )
        )
    can_create = await target.scalar(
        "SELECT has_schema_privilege(current_user, current_schema(), 'CREATE')",
        "checking privileges",
    )
    found.append(
        Privilege(
            "privileges",
            bool(can_create),
            "may create tables" if can_create else "may not create tables",
            "" if can_create else "GRANT CREATE ON SCHEMA to the user.",
        )
    )
    for name in existing:
        literal = quote(name).replace("'", "''")
        allowed = await target.scalar(
            f"SELECT has_table_privilege('{literal}', 'INSERT') AND "
            f"has_table_privilege('{literal}', 'UPDATE')",
            "checking table privileges",
        )
        if not allowed:
            found.append(
                Privilege(
                    f"table {name}",
                    False,
                    "no INSERT/UPDATE right",
                    f"GRANT INSERT, UPDATE ON {name} to the user.",
                )
            )
    return found


async def relation_exists(target: Target, name: str) -> bool:
    """A table or view of exactly that name on the search path."""
    literal = name.replace("'", "''")
    sql = f"SELECT count(*) FROM pg_class WHERE relname = '{literal}' AND pg_table_is_visible(oid)"
    return bool(await target.scalar(sql, f"looking for view {name}"))


async def names_taken(target: Target) -> list[tuple[str, str]]:
    """``(name, kind)`` of every relation in the target's schema."""
    rows = await target.fetch_dicts(_NAMES, "the names taken in the target's schema")
    return [(str(r["relname"]), _KINDS.get(str(r["relkind"]), "relation")) for r in rows]


async def has_extension(target: Target, name: str) -> bool:
    """The database has extension ``name`` installed."""
    literal = name.replace("'", "''")
    return bool(
        await target.scalar(
            f"SELECT count(*) FROM pg_extension WHERE extname = '{literal}'",
            f"looking for the {name} extension",
        )
    )


async def text_order(target: Target) -> TextOrder:
    """How the database sorts text a column does not collate itself."""
    words = await target.scalar(PG_ORDER_SQL, "reading how the database sorts text")
    row = await target.scalar(PG_DATABASE_SQL, "reading the database's collation")
    return pg_order(words, row)


async def user_sql_value(target: Target, sql: str) -> Any:
    """The first value of a user's query through psycopg's own cursor: SQLAlchemy's driver
    layer would read ``%`` as a parameter marker (``LIKE 'a%'``)."""
    conn = target.conn
    async with conn.begin_nested():
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection
        async with driver.cursor() as cursor:
            await cursor.execute(sql)
            row = await cursor.fetchone() if cursor.description else None
    return row[0] if row else None


async def column_sql_type(target: Target, table: str, column: str) -> str:
    """The column's type as ``format_type`` spells it (``text`` when it cannot be found)."""
    table_literal = quote(table).replace("'", "''")
    column_literal = column.replace("'", "''")
    found = await target.scalar(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        f"to_regclass('{table_literal}') AND attname = '{column_literal}'",
        f"reading the type of {table}.{column}",
    )
    return str(found or "text")
