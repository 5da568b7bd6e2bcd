"""Verification's fast path on a PostgreSQL target (:mod:`ferry.verify.fast`): the server's
settings and catalog the fast path reads, and the row-hash statement, each under a savepoint
in the verification's read transaction. A statement that fails leaves the table to the general
path, unless the connection is gone (then the target's error is raised, as the general path
would)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ..shape.identifiers import quote
from ..targets import Target
from .fastsql import Fingerprint, pg_fingerprint

_WORKERS = "max_parallel_workers_per_gather"


class PgSide:
    """The target's side of the fast path on PostgreSQL."""

    def __init__(self, target: Target) -> None:
        self.target = target

    async def usable(self) -> bool:
        """UTF-8 text (``md5`` hashes the bytes Python encodes) and literal backslashes."""
        try:
            async with self.target.conn.begin_nested():
                result = await self.target.conn.execute(
                    text(
                        "SELECT current_setting('server_encoding'), "
                        "current_setting('standard_conforming_strings')"
                    )
                )
                encoding, conforming = result.one()
        except sa_exc.DBAPIError as exc:
            await self.still_usable(exc, "reading the server's settings")
            return False
        return bool(encoding == "UTF8" and conforming == "on")

    async def types(self, table: str) -> tuple[dict[str, str], frozenset[str]]:
        """Column to type name, and the columns declared NOT NULL, for a plain table (none
        for a partitioned or inherited one, whose rows a primary key does not make unique)."""
        sql = text(
            "SELECT a.attname, t.typname, a.attnotnull, c.relkind, c.relhassubclass "
            "FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(:name) AND a.attnum > 0 AND NOT a.attisdropped"
        )
        try:
            async with self.target.conn.begin_nested():
                rows = (await self.target.conn.execute(sql, {"name": quote(table)})).all()
        except sa_exc.DBAPIError as exc:
            await self.still_usable(exc, f"reading the columns of {table}")
            return {}, frozenset()
        if any(kind != "r" or children for *_, kind, children in rows):
            return {}, frozenset()
        types = {str(name): str(typname) for name, typname, *_ in rows}
        return types, frozenset(str(name) for name, _, not_null, *_ in rows if not_null)

    async def no_parallel_workers(self) -> str | None:
        """Tell the planner to use no parallel workers (until :meth:`set_parallel_workers`
        or the transaction's end); returns the setting to restore, None when unchanged.
        Otherwise it may run a row-hash statement on three processes (two workers sending
        each row's digest to the leader): no less CPU in all, and the cores it takes are the
        ones the source side, hashing at the same time on this machine as a rule, runs on."""
        conn = self.target.conn
        try:
            async with conn.begin_nested():
                result = await conn.execute(text(f"SELECT current_setting('{_WORKERS}')"))
                old = str(result.scalar_one())
        except sa_exc.DBAPIError as exc:
            await self.still_usable(exc, "reading the server's settings")
            return None
        return old if await self.set_parallel_workers("0") else None

    async def set_parallel_workers(self, value: str) -> bool:
        """Set ``max_parallel_workers_per_gather`` until the transaction ends."""
        conn = self.target.conn
        try:
            async with conn.begin_nested():
                await conn.execute(
                    text(f"SELECT set_config('{_WORKERS}', :value, true)"), {"value": value}
                )
        except sa_exc.DBAPIError as exc:
            await self.still_usable(exc, f"setting {_WORKERS}")
            return False
        return True

    async def fingerprint(self, sql: str, table: str) -> Fingerprint | None:
        """Run a table's :func:`~ferry.verify.fastsql.pg_sql`; None for the general path."""
        conn = self.target.conn
        try:
            async with conn.begin_nested():
                result = await conn.exec_driver_sql(self.target.driver_sql(sql))
                row = result.one()
        except sa_exc.DBAPIError as exc:
            await self.still_usable(exc, f"reading table {table}")
            return None  # the general path reads the table and reports what is wrong
        return pg_fingerprint(row)

    async def still_usable(self, exc: sa_exc.DBAPIError, what: str) -> None:
        """After a failed statement (rolled back to its savepoint): raise the target's error
        when the connection is gone, as the general path would."""
        conn = self.target.conn
        if not exc.connection_invalidated and not conn.invalidated:
            try:
                async with conn.begin_nested():
                    await conn.exec_driver_sql("SELECT 1")
                return
            except sa_exc.SQLAlchemyError:
                pass
        raise self.target.wrap(exc, what) from None
