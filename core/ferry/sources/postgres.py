"""Reading a PostgreSQL database: every table on the search path (or the plan's list).

All tables are read in one ``REPEATABLE READ READ ONLY`` transaction, so the copy is one
consistent snapshot even while the application keeps writing. Rows stream through server-side
cursors, ``batch_size`` at a time. The source URL holds no password: it comes from
``FERRY_SOURCE_PASSWORD`` or, through libpq, from ``~/.pgpass`` / ``PGPASSWORD``.

Long because one reader holds the whole PostgreSQL side around one connection and its
snapshot: connecting, the catalog queries that describe tables, cursors, SQL answers and
error translation.
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..capabilities import SourceCapabilities
from ..errors import SourceError
from ..safety.pgwatch import (
    DEFAULT_STALL_TIMEOUT,
    StalledError,
    StallWatch,
    connect_watched,
    keepalive_args,
    server_options,
)
from ..shape.schema import is_ferry_table
from ..shape.source import reflect_shapes
from ..shape.textorder import PG_DATABASE_SQL, PG_ORDER_SQL, TextOrder, pg_order
from ..values.logical import LogicalType
from .base import Batch, ParentLink, SourceReader, SourceTable, order_parents_first

if TYPE_CHECKING:
    from ..plan import SourceSpec

PASSWORD_ENV = "FERRY_SOURCE_PASSWORD"
CONNECT_TIMEOUT = 10
#: seconds a read may go without progress before the source counts as stalled
#: (:mod:`ferry.safety.pgwatch`)
STALL_TIMEOUT = DEFAULT_STALL_TIMEOUT

_TYPES: dict[str, LogicalType] = {
    "int2": "integer",
    "int4": "integer",
    "int8": "integer",
    "float4": "float",
    "float8": "float",
    "numeric": "decimal",
    "bool": "boolean",
    "timestamp": "datetime",  # without time zone: a wall time, carried as one
    "timestamptz": "timestamp",
    "date": "date",
    "json": "json",
    "jsonb": "json",
    "bytea": "bytes",
}

# Ordinary and partitioned tables visible on the search path (partitions are read through
# their parent), without the system catalogs.
_TABLES_SQL = """
SELECT c.oid, n.nspname, c.relname, c.reltuples
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
  AND pg_table_is_visible(c.oid)
ORDER BY c.relname
"""

# Columns with their type; a domain counts as its base type, an array as category 'A'.
_COLUMNS_SQL = """
SELECT a.attname,
       CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END,
       CASE WHEN t.typtype = 'd' THEN bt.typcategory ELSE t.typcategory END,
       format_type(a.atttypid, a.atttypmod),
       a.attcollation NOT IN (0, 100)  -- a collation of its own, not the database's (100)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_PRIMARY_KEY_SQL = """
SELECT a.attname
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND i.indisprimary
ORDER BY k.position
"""

# The first foreign key (oldest constraint), its columns and the parent's, in order.
_FOREIGN_KEY_SQL = """
SELECT p.relname,
       ARRAY(SELECT a.attname::text
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, position)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.position),
       ARRAY(SELECT a.attname::text
             FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, position)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.position)
FROM pg_constraint c JOIN pg_class p ON p.oid = c.confrelid
WHERE c.conrelid = %s AND c.contype = 'f'
ORDER BY c.oid
LIMIT 1
"""

#: every table a table's foreign keys reference
_REFERENCED_SQL = """
SELECT DISTINCT p.relname::text
FROM pg_constraint c JOIN pg_class p ON p.oid = c.confrelid
WHERE c.conrelid = %s AND c.contype = 'f'
"""

# Schemas holding tables (Ferry's journal schema and PostgreSQL's own left out), and
# whether the connection's search path reaches them.
_SCHEMAS_SQL = """
SELECT n.nspname, count(*), bool_or(pg_table_is_visible(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', %s) AND n.nspname NOT LIKE 'pg\\_%%'
GROUP BY n.nspname
ORDER BY n.nspname
"""


# Views (and materialized views) visible on the search path.
_VIEWS_SQL = """
SELECT c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND pg_table_is_visible(c.oid)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
ORDER BY c.relname
"""


def postgres_logical_type(type_name: str, category: str = "") -> LogicalType:
    """The logical type for a PostgreSQL type (``pg_type.typname``; arrays -> json)."""
    if category == "A":
        return "json"
    return _TYPES.get(type_name, "text")


@dataclass(frozen=True)
class _Location:
    """Where the server is, for messages: never holds the password."""

    host: str
    port: str
    database: str
    user: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


class PostgresSource(SourceReader):
    """Reads the tables of a PostgreSQL database (``kind = "postgres"``, ``url`` = where).

    Tables are those visible on the connection's search path (``public`` by default; set it
    with ``?options=-csearch_path%3Dapp`` in the URL), named ``<source>.<table>``; Ferry's own
    ``ferry_runs`` is left out. ``spec.tables`` limits the read to the tables it names.
    """

    capabilities = SourceCapabilities(answers_sql=True)

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        # SQLAlchemy-style URLs (postgresql+psycopg://) are fine for libpq without the driver.
        self.url = re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", spec.url or "")
        self.location = _location(self.url)
        self._conn: psycopg.Connection[Any] | None = None
        self._schemas: dict[str, str] = {}
        self._cursor_count = 0

    # ------------------------------------------------------------------ public interface

    def describe(self) -> list[SourceTable]:
        """Tables with column types, primary key, first foreign key and estimated row count."""
        conn = self._connect()
        own_transaction = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        try:
            with self._errors():
                tables = self._tables(conn)
                self._add_shapes(tables)
                return tables
        finally:
            if own_transaction:
                self._end_transaction(conn)

    def schemas(self) -> list[tuple[str, int, bool]]:
        """(schema, tables it holds, on the search path) for each schema holding tables,
        leaving out PostgreSQL's own and Ferry's journal schema (``ferry init``)."""
        from ..load.journal import JOURNAL_SCHEMA

        conn = self._connect()
        try:
            with self._errors():
                rows = conn.execute(_SCHEMAS_SQL, (JOURNAL_SCHEMA,)).fetchall()
        finally:
            self._end_transaction(conn)
        return [(str(name), int(count), bool(visible)) for name, count, visible in rows]

    def views(self) -> list[str]:
        """The views on the search path (``ferry init`` names them: they are not carried)."""
        return [str(row[0]) for row in self.query_all(_VIEWS_SQL, (), "the view list")]

    def query_one(self, query: str, params: tuple[Any, ...], table: str) -> tuple[Any, ...]:
        """One row of ``query`` (``ferry init``'s questions about a table's data)."""
        rows = self.query_all(query, params, table)
        return rows[0] if rows else ()

    def query_all(self, query: str, params: tuple[Any, ...], table: str) -> list[tuple[Any, ...]]:
        """Every row of ``query``, in a read-only transaction of its own."""
        conn = self._connect()
        try:
            with self._errors(table):
                found = conn.execute(query.encode(), params or None).fetchall()
        finally:
            self._end_transaction(conn)
        return [tuple(row) for row in found]

    def _add_shapes(self, tables: list[SourceTable]) -> None:
        """Each table's defaults, constraints and indexes, read on a connection of its own
        (the inspector ends the transactions it starts)."""
        password = os.environ.get(PASSWORD_ENV) or None

        def connect() -> Any:
            return psycopg.connect(
                self.url,
                password=password,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="ferry",
            )

        engine = create_engine("postgresql+psycopg://", creator=connect, poolclass=NullPool)
        try:
            with engine.connect() as sa_conn:
                for schema in {self._schemas.get(t.origin) for t in tables}:
                    names = [t.origin for t in tables if self._schemas.get(t.origin) == schema]
                    shapes = reflect_shapes(sa_conn, names, schema)
                    for table in tables:
                        if table.origin in shapes:
                            table.shape = shapes[table.origin]
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            if isinstance(orig, psycopg.Error):
                raise orig from None
            raise
        finally:
            engine.dispose()

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Every row of every table, all read in one REPEATABLE READ READ ONLY transaction."""
        conn = self._connect()
        try:
            with self._errors():
                tables = self._tables(conn)  # starts the transaction: its snapshot is the copy
            for table in self.in_read_order(tables):
                yield from self._read_table(conn, table, batch_size)
        finally:
            self._end_transaction(conn)

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ connection

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        password = os.environ.get(PASSWORD_ENV) or None
        # TCP keepalives and a no-progress limit: a server that stops answering mid-read is
        # an error after STALL_TIMEOUT, not a silent wait (the URL's own options are kept).
        options = conninfo_to_dict(self.url).get("options") or ""
        try:
            conn = connect_watched(
                StallWatch(STALL_TIMEOUT),
                self.url,
                password=password,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="ferry",
                options=f"{options} {server_options(STALL_TIMEOUT, False)}".strip(),
                **keepalive_args(STALL_TIMEOUT),
            )
        except psycopg.Error as exc:
            raise self._connect_error(exc, password) from None
        # Applies to every transaction the connection begins from now on.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        self._conn = conn
        return conn

    def _connect_error(self, exc: psycopg.Error, password: str | None) -> SourceError:
        where = self.location
        text = _scrub(str(exc), password)
        lowered = text.lower()
        if "database" in lowered and "does not exist" in lowered:
            return SourceError(
                f"PostgreSQL at {where.host}:{where.port} has no database "
                f"{where.database!r} (source {self.spec.name!r})",
                hint="Check the database name at the end of the source's url "
                "(`psql -l` lists them).",
                details=text,
            )
        if (
            "password authentication failed" in lowered
            or "no password supplied" in lowered
            or "authentication failed" in lowered
        ):
            return SourceError(
                f"PostgreSQL at {where} refused the login of user {where.user!r}: wrong or "
                f"missing password (source {self.spec.name!r})",
                hint=f"Set the password in {PASSWORD_ENV} or in ~/.pgpass; the plan's url "
                "never holds it.",
                details=text,
            )
        if "role" in lowered and "does not exist" in lowered:
            return SourceError(
                f"PostgreSQL at {where} has no user {where.user!r} (source {self.spec.name!r})",
                hint="Check the user name in the source's url.",
                details=text,
            )
        if any(
            word in lowered
            for word in ("connection refused", "timeout expired", "could not translate host")
        ):
            return SourceError(
                f"Cannot reach PostgreSQL at {where} (source {self.spec.name!r}): "
                f"{_first_reason(text)}",
                hint="Check that the server runs and accepts connections, and the host and "
                "port in the source's url.",
                details=text,
            )
        return SourceError(
            f"Cannot connect to PostgreSQL at {where} (source {self.spec.name!r}): "
            f"{_first_reason(text)}",
            hint="Check the source's url and that the server accepts this user from here.",
            details=text,
        )

    @contextmanager
    def _errors(self, table: str | None = None) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            what = f"table {table!r}" if table else "the table list"
            reason = exc.diag.message_primary or _first_reason(str(exc))
            if isinstance(exc, StalledError):
                raise SourceError(
                    f"PostgreSQL {self.location} stopped answering while reading {what} "
                    f"(source {self.spec.name!r}): {exc}",
                    hint="Check the network and the server, then run again: the target is "
                    "unchanged.",
                ) from None
            raise SourceError(
                f"Cannot read {what} of PostgreSQL {self.location} "
                f"(source {self.spec.name!r}): {reason}",
                hint="Check that the user may read it (GRANT SELECT) and that the server is "
                "still up.",
                details=str(exc),
            ) from exc

    def _end_transaction(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed:
            return
        try:
            conn.rollback()
        except psycopg.Error:  # a broken connection: start afresh next time
            conn.close()

    # ------------------------------------------------------------------ schema

    def _tables(self, conn: psycopg.Connection[Any]) -> list[SourceTable]:
        found = [
            (int(oid), str(schema), str(name), float(reltuples))
            for oid, schema, name, reltuples in conn.execute(_TABLES_SQL).fetchall()
            if not is_ferry_table(name)
        ]
        names = [name for _, _, name, _ in found]
        wanted = self._select(names)
        self._schemas = {name: schema for _, schema, name, _ in found}
        # how the database sorts text its columns do not collate themselves
        words = conn.execute(PG_ORDER_SQL).fetchone()
        database = conn.execute(PG_DATABASE_SQL).fetchone()
        order = pg_order(words[0] if words else None, database[0] if database else None)
        tables = [
            self._table(conn, oid, name, reltuples, order)
            for oid, _, name, reltuples in found
            if name in wanted
        ]
        tables.sort(key=lambda table: wanted.index(table.origin))
        return order_parents_first(tables)

    def _select(self, names: list[str]) -> list[str]:
        if not self.spec.tables:
            return names
        missing = [name for name in self.spec.tables if name not in names]
        if missing:
            raise SourceError(
                f"Table {missing[0]!r} is not in PostgreSQL {self.location} "
                f"(source {self.spec.name!r})",
                hint="Tables there: " + (", ".join(names) or "none"),
            )
        return list(dict.fromkeys(self.spec.tables))

    def _table(
        self,
        conn: psycopg.Connection[Any],
        oid: int,
        name: str,
        reltuples: float,
        order: TextOrder,
    ) -> SourceTable:
        found = conn.execute(_COLUMNS_SQL, (oid,)).fetchall()
        columns = {
            str(column): postgres_logical_type(str(type_name), str(category))
            for column, type_name, category, _declared, _own in found
        }
        declared = {str(column): str(text) for column, _t, _c, text, _own in found}
        key = tuple(str(row[0]) for row in conn.execute(_PRIMARY_KEY_SQL, (oid,)).fetchall())
        parent = None
        fk = conn.execute(_FOREIGN_KEY_SQL, (oid,)).fetchone()
        if fk is not None:
            ref_table, fk_columns, ref_columns = fk
            parent = ParentLink(
                parent=f"{self.spec.name}.{ref_table}",
                columns=tuple(fk_columns),
                parent_columns=tuple(ref_columns),
            )
        referenced = conn.execute(_REFERENCED_SQL, (oid,)).fetchall()
        return SourceTable(
            name=f"{self.spec.name}.{name}",
            columns=columns,
            key=key,
            parent=parent,
            references=tuple(f"{self.spec.name}.{row[0]}" for row in referenced),
            # -1 (or 0 on old servers) means never analysed: no estimate
            row_estimate=int(reltuples) if reltuples > 0 else None,
            origin=name,
            declared=declared,
            text_order=order,
            nulls_first=False,
            collated=frozenset(str(row[0]) for row in found if row[4]),
        )

    # ------------------------------------------------------------------ rows

    def _read_table(
        self, conn: psycopg.Connection[Any], table: SourceTable, batch_size: int
    ) -> Iterator[Batch]:
        if not table.columns:
            return
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(column) for column in table.columns),
            sql.Identifier(self._schemas[table.origin], table.origin),
        )
        self._cursor_count += 1
        # A named (server-side) cursor: the server keeps the rows, memory stays flat.
        cursor = conn.cursor(name=f"ferry_source_{self._cursor_count}", row_factory=dict_row)
        try:
            with self._errors(table.origin):
                cursor.execute(query)
            while True:
                with self._errors(table.origin):
                    rows = cursor.fetchmany(batch_size)
                if not rows:
                    return
                yield Batch(table.name, rows)
        finally:
            if not conn.closed and not conn.broken:
                with suppress(psycopg.Error):
                    cursor.close()


def _location(url: str) -> _Location:
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        info = {}
    host = str(info.get("host") or os.environ.get("PGHOST") or "localhost")
    port = str(info.get("port") or os.environ.get("PGPORT") or "5432")
    user = str(info.get("user") or os.environ.get("PGUSER") or _login_name())
    database = str(info.get("dbname") or os.environ.get("PGDATABASE") or user)
    return _Location(host=host, port=port, database=database, user=user)


def _login_name() -> str:
    """The operating-system user, which libpq takes when the URL names none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _scrub(text: str, password: str | None) -> str:
    """``text`` with the password, should a driver message ever echo it, masked."""
    return text.replace(password, "***") if password else text


def _first_reason(text: str) -> str:
    """The useful line of a libpq message (it repeats the host and stacks details)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "unknown error"
    reason = lines[0]
    # 'connection failed: connection to server at "h" (1.2.3.4), port 5 failed: Connection refused'
    return reason.rsplit("failed: ", 1)[-1] if "failed: " in reason else reason
