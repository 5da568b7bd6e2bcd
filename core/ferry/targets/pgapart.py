"""Loading a table the run created on a PostgreSQL connection of its own (``loads_apart``).

A first load into new tables is bound by the server's work on one connection (one backend,
one core). A table this run created can instead be loaded on a connection of its own, in
parallel with the others: into a table of the same definition (the same ``CREATE TABLE``) in
a private schema, ``_ferry_load_<run>_<n>``, where its indexes are built too, committed there.
The run's own transaction then swaps it into place (:meth:`ApartTable.swap_in`): it drops the
empty table it created, moves the loaded one into the target schema (``ALTER TABLE … SET
SCHEMA``: its indexes, constraints, identity sequence and row type move with it) and drops the
private schema. DDL is transactional in PostgreSQL, so the app's schema sees all of it at the
run's one commit, journal row included, or none of it.

A private schema is nobody else's: its name starts with ``_ferry_load_``, which ``pg_schema``
refuses. A run that fails drops its private schemas (:meth:`ApartTable.discard`); one killed
leaves committed ones behind, which the next run drops before it loads, holding the target's
run lock (:func:`drop_leftovers`), so no other run's private schema can be among them.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import TransactionStatus

from ..shape.identifiers import quote
from .asyncengine import AsyncConnection, AsyncEngine
from .base import DirectLoadRefused, Encoded, first_line
from .pgcompression import compress_with_lz4

if TYPE_CHECKING:
    from .postgres import PostgresTarget

_log = logging.getLogger(__name__)

ACTIVE = TransactionStatus.ACTIVE

#: how every private schema's name starts (never a plan's: ``pg_schema`` refuses it)
PRIVATE_PREFIX = "_ferry_load_"

#: how long cleaning up may wait for a lock before it leaves the schema to the next run
_CLEANUP_LOCK_TIMEOUT = "5s"


class ApartTable:
    """One created table loaded on a connection of its own into a private schema."""

    def __init__(self, target: PostgresTarget, table: str, schema: str) -> None:
        self.target = target
        self.table = table
        #: the private schema
        self.schema = schema
        self._conn: AsyncConnection | None = None
        #: kept: the run disposes the target's engine before its private tables are dropped
        self._engine: AsyncEngine | None = target.engine
        #: committed on its own connection: the private schema exists until dropped
        self.committed = False

    @property
    def ref(self) -> str:
        """The private table, schema-qualified."""
        return f"{quote(self.schema)}.{quote(self.table)}"

    async def open(self, ddl: str) -> None:
        """Connect, create the private schema and the table in it with ``ddl`` (the created
        table's own ``CREATE TABLE``: unqualified, it lands first on the search path)."""
        assert self._engine is not None
        try:
            self._conn = await self._engine.connect()
            await self._conn.begin()
            await self.execute(f"CREATE SCHEMA {quote(self.schema)}")
            await self._conn.exec_driver_sql(
                "SELECT set_config('search_path', %(first)s || ', ' || "
                "current_setting('search_path'), true)",
                {"first": quote(self.schema)},
            )
            if self.target.spec.compression == "lz4":
                await compress_with_lz4(self._conn)
            await self.execute(ddl)
        except Exception as exc:
            await self._close()  # (nothing was committed)
            raise self.target.wrap(exc, f"creating a private table for {self.table}") from None

    async def execute(self, statement: str) -> None:
        """Run ``statement`` in the table's transaction (unqualified names find the private
        table first); a refusal comes as the driver's error."""
        assert self._conn is not None
        await self._conn.exec_driver_sql(self.target.driver_sql(statement))

    async def copy(self, columns: list[str], encoded: Encoded) -> None:
        """COPY one chunk into the private table; a value or constraint the server refuses
        raises :class:`DirectLoadRefused`, as a direct load into the table would."""
        assert self._conn is not None
        names = ", ".join(map(quote, columns))
        form = "binary" if encoded.binary else "csv" if encoded.csv else "text"
        try:
            raw = await self._conn.get_raw_connection()
            driver: Any = raw.driver_connection
            # FREEZE: the table is new in this transaction, so its rows may be written as
            # visible to all; reading them (index builds, the foreign key check, the app)
            # then needs no commit-status lookups. Their xmin stays this transaction's.
            sql = f"COPY {self.ref} ({names}) FROM STDIN (FORMAT {form}, FREEZE)"
            async with driver.cursor() as cursor, cursor.copy(sql) as copy:
                if isinstance(encoded.data, bytes | bytearray):
                    await copy.write(encoded.data)
                else:
                    for row in encoded.data:
                        await copy.write_row(row)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise DirectLoadRefused(self.table, first_line(exc)) from None
        except psycopg.Error as exc:
            raise self.target.wrap(exc, f"loading rows into {self.table}") from None

    async def commit(self) -> None:
        """Commit the private table (rows and indexes) and close its connection."""
        assert self._conn is not None
        self.committed = True  # from now on it may be: a cancel cannot tell
        try:
            await self._conn.commit()
        except Exception as exc:
            raise self.target.wrap(exc, f"committing the private table of {self.table}") from None
        await self._close()

    async def swap_in(self) -> None:
        """In the run's transaction: put the loaded table in place of the empty one the run
        created, and drop the private schema (see the module docstring)."""
        target = self.target
        found = await target.conn.exec_driver_sql("SELECT current_schema()")
        home = found.scalar()
        assert isinstance(home, str)
        for statement in (
            f"DROP TABLE {quote(home)}.{quote(self.table)}",
            f"ALTER TABLE {self.ref} SET SCHEMA {quote(home)}",
            f"DROP SCHEMA {quote(self.schema)}",
        ):
            await target.execute(statement, f"putting the loaded {self.table} in place")

    async def discard(self) -> None:
        """Drop the private schema and everything in it (after the run's own transaction
        ended: it may hold the table's lock). Best effort: what stays is dropped by the next
        run (:func:`drop_leftovers`)."""
        await self._close()
        if self.committed and self._engine is not None:
            with contextlib.suppress(Exception):
                await _drop_schemas(self._engine, [self.schema])
            self.committed = False

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            if driver is not None and driver.info.transaction_status == ACTIVE:
                # A COPY or index build stopped half-way: the server would finish it first
                # (holding the table's lock) before it noticed the connection is gone.
                await driver.cancel_safe(timeout=5)
            await conn.close()  # an open transaction is rolled back
        except Exception:
            with contextlib.suppress(Exception):
                await conn.invalidate()


async def apart_blocker(target: PostgresTarget) -> str:
    """Why the run's created tables cannot be loaded apart ("" when they can)."""
    if target.created_schema is not None:
        return f"the run creates schema {target.created_schema}, unseen by other connections"
    found = await target.conn.exec_driver_sql(
        "SELECT has_database_privilege(current_database(), 'CREATE')"
    )
    if not found.scalar():
        return "the user may not create schemas (CREATE on the database) for private tables"
    return ""


async def leftovers(target: PostgresTarget) -> list[str]:
    """The private schemas in the database (on the run's connection)."""
    found = await target.conn.exec_driver_sql(
        "SELECT nspname FROM pg_namespace WHERE left(nspname, %(n)s) = %(prefix)s",
        {"n": len(PRIVATE_PREFIX), "prefix": PRIVATE_PREFIX},
    )
    return [str(row[0]) for row in found]


async def drop_leftovers(target: PostgresTarget) -> list[str]:
    """Drop the private schemas a killed run left (see the module docstring); their names."""
    names = await leftovers(target)  # (a connection of its own only to drop them)
    if names and target.engine is not None:
        try:
            await _drop_schemas(target.engine, names)
        except Exception as exc:  # still there: invisible to the app, tried again next run
            _log.warning("could not drop the private schemas %s: %s", ", ".join(names), exc)
            return []
        _log.info("dropped private schemas a run left behind: %s", ", ".join(names))
    return names


async def _drop_schemas(engine: AsyncEngine, names: list[str]) -> None:
    async with engine.connect() as conn:
        await conn.exec_driver_sql(f"SET lock_timeout = '{_CLEANUP_LOCK_TIMEOUT}'")
        for name in names:
            await conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quote(name)} CASCADE")
        await conn.commit()


__all__ = ["PRIVATE_PREFIX", "ApartTable", "apart_blocker", "drop_leftovers", "leftovers"]
