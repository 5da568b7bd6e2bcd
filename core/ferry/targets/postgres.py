"""The PostgreSQL target: psycopg 3 (async) under SQLAlchemy, rows loaded with COPY.

The password never travels in a URL string: it is resolved (environment, keyring) and handed
to the driver as a connection argument, or left to libpq (``PGPASSWORD``, ``~/.pgpass``).
Sessions run in UTC so naive timestamps mean UTC.

Long because it is one class implementing the whole :class:`~ferry.targets.base.Target`
contract for PostgreSQL (connecting and its stall watch, COPY text and binary staging, direct
loads, adapters); the catalog questions are in :mod:`ferry.targets.pgcatalog`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.adapt import AdaptersMap, Transformer
from psycopg.pq import Format
from psycopg.types.string import BytesBinaryDumper
from sqlalchemy import Select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from ..capabilities import TargetCapabilities
from ..errors import TargetError
from ..events import RunWarning
from ..load.mergesql import MergeDialect
from ..plan import TargetSpec
from ..safety.passwords import env_password, resolve_password
from ..safety.pgwatch import StalledError, StallWatch, async_creator, keepalive_args, server_options
from ..shape.identifiers import quote
from ..shape.schema import ColumnInfo, TableInfo, create_table_ddl
from ..shape.textorder import TextOrder
from ..values.drivervalues import POSTGRES_ADAPTERS
from ..values.logical import identity
from . import pgapart, pgcatalog, pgforeignkeys, pgfreeze
from .asyncengine import create_async_engine
from .base import ApartLoad, DirectLoadRefused, Encoded, Privilege, Stage, Target, first_line
from .cascades import Cascade, pg_cascades
from .pgcompression import compress_with_lz4
from .pglogin import connect_async, keyring_later
from .pgsettings import local_settings

#: the planner settings of :meth:`PostgresTarget.key_lookups`
_KEY_LOOKUPS = {"jit": "off", "max_parallel_workers_per_gather": "0"}

try:  # psycopg's C row formatters (what ``copy.write_row`` runs), used from a worker thread
    from psycopg._copy_base import format_row_binary as _format_row_binary
    from psycopg._copy_base import format_row_text as _format_row_text
except ImportError:  # another psycopg layout: rows go through ``copy.write_row`` instead
    _format_row_text = _format_row_binary = None


@dataclass(frozen=True)
class _Dumping:
    """A connection's adapt context with other adapters (psycopg's ``AdaptContext``)."""

    adapters: AdaptersMap
    connection: psycopg.AsyncConnection[Any]


# Binary COPY's signature, flags and header extension length; the trailer is a -1 field count.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_BINARY_TRAILER = b"\xff\xff"

# Stage columns are widened so a too-long text or too-big number is caught by the merge (and
# rejected row by row with the reason) instead of failing the whole COPY.
_WIDER = {"int2": "bigint", "int4": "bigint", "varchar": "text", "bpchar": "text"}


def pg_url(spec_url: str) -> URL:
    """A SQLAlchemy URL for the async psycopg driver (no password in it)."""
    url = make_url(spec_url)
    return url.set(drivername="postgresql+psycopg")


def connect_args(
    spec: TargetSpec | None,
    url: URL,
    password_env: str | None = None,
    base_dir: Path | None = None,
    keyring: bool = True,
) -> dict[str, Any]:
    """Driver arguments: password, TLS, timeout, TCP keepalives, UTC session. A relative
    ``sslrootcert`` is taken from ``base_dir`` (the plan's folder), like every path in a plan.
    ``keyring=False``: the password from a variable only (the keyring's is for
    :mod:`ferry.targets.pglogin` to read if the server asks)."""
    args: dict[str, Any] = {
        "application_name": "ferry",
        "options": "-c TimeZone=UTC",
        "connect_timeout": spec.connect_timeout if spec else 10,
        **keepalive_args(spec.stall_timeout if spec else 120),
    }
    password = resolve_password(url, password_env) if keyring else env_password(password_env)
    if password:
        args["password"] = password
    if spec is not None and spec.pg_schema:
        # Unqualified names (tables, indexes, reflection, current_schema()) resolve in the
        # plan's schema alone; Ferry's journal names its own schema, ``ferry``.
        args["options"] += f' -c search_path="{spec.pg_schema}"'
    if spec is not None and spec.sslmode:
        args["sslmode"] = spec.sslmode
    if spec is not None and spec.sslrootcert:
        root = Path(spec.sslrootcert).expanduser()
        args["sslrootcert"] = str(base_dir / root if base_dir and not root.is_absolute() else root)
    return args


def describe_url(url: URL) -> str:
    """``user@host:port/database`` for messages."""
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def explain_connect_error(message: str, where: str) -> TargetError:
    """A clear message and hint for the usual reasons a connection fails."""
    lowered = message.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return TargetError(
            f"PostgreSQL at {where} refused the password",
            hint="Set FERRY_PASSWORD (or the variable named by password_env), store it with "
            "`ferry password set URL`, or add it to ~/.pgpass.",
        )
    if "does not exist" in lowered and "database" in lowered:
        return TargetError(
            f"PostgreSQL at {where}: the database does not exist",
            hint="Create it first (createdb NAME) or fix the database name in the URL.",
        )
    if "timeout" in lowered or "timed out" in lowered:
        return TargetError(
            f"PostgreSQL at {where} did not answer in time",
            hint="Check the host, port and firewall; raise connect_timeout for slow links.",
        )
    if "ssl" in lowered or "certificate" in lowered:
        detail = first_line_of(message).rsplit(" failed: ", 1)[-1]
        return TargetError(
            f"PostgreSQL at {where}: the TLS connection failed: {detail}",
            hint="Check [target] sslmode and sslrootcert (the CA file that signed the server's "
            "certificate); verify-full also needs the host name the certificate names.",
        )
    if "refused" in lowered or "could not connect" in lowered or "no such file" in lowered:
        return TargetError(
            f"cannot connect to PostgreSQL at {where} (connection refused)",
            hint="Is the server running and listening on that host and port?",
        )
    return TargetError(f"cannot connect to PostgreSQL at {where}: {first_line_of(message)}")


def first_line_of(message: str) -> str:
    """The first non-empty line of a message."""
    return next((line for line in message.splitlines() if line.strip()), message)


#: The fill factor of a keyed table Ferry creates: each page is filled to 90% by the load, so a
#: later run's (or the app's) update of a row whose indexed columns keep their values writes
#: the new version on the same page, a HOT update, with no new entry in any index. Filled to
#: 100% (PostgreSQL's default) every updated row moves to another page and enters every index
#: again: the 1% delta's UPDATE of 8,000 rows of a table with three indexes took 280 ms of the
#: server's time so, 158 ms with the room (docs/benchmarks.md, 2026-12-07 07:45 UTC). A table
#: without a key is only appended to or replaced: no room kept.
UPDATE_ROOM = 90


class PostgresTarget(Target):
    """A PostgreSQL database (its default schema)."""

    dialect_name = "postgresql"
    capabilities = TargetCapabilities(
        binary_copy=True,
        sequences_lag_ids=True,
        table_fingerprints=True,
        row_versions=True,
        schemas=True,
        max_identifier_bytes=63,
        binary_json=True,
        citext=True,
        sums_row_hashes=True,
        single_precision_real=True,
        alters_foreign_keys=True,
        constraint_names_in_schema=True,
        text_is_utf8_only=True,
        loads_apart=True,
        returning_writes=True,
    )
    #: ``IS DISTINCT FROM``; ``json`` (which has no equality) compared as jsonb; timestamps
    #: compared and ordered as points in time by the server itself
    merge_dialect = MergeDialect(
        distinct="IS DISTINCT FROM", delete_alias=True, json_form="{x}::jsonb", json_form_for="JSON"
    )

    def __init__(self, spec: TargetSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.url = pg_url(spec.url)
        #: psycopg's dumpers for this connection, for COPY text made in worker threads
        self._copy_tx: Any = None
        #: whether a created table's rows may still be written frozen (:mod:`.pgfreeze`)
        self._freeze = pgfreeze.FreezeGate()

    def describe(self) -> str:
        """``user@host:port/database`` (never the password), and the plan's ``pg_schema``."""
        where = describe_url(self.url)
        return f"{where} (schema {self.spec.pg_schema})" if self.spec.pg_schema else where

    async def server_version(self) -> str:
        """``PostgreSQL 16.2``."""
        return await pgcatalog.server_version(self)

    async def privileges(self, existing: list[str]) -> list[Privilege]:
        """CREATE on the schema, INSERT and UPDATE on the ``existing`` tables."""
        return await pgcatalog.privileges(self, existing)

    async def relation_exists(self, name: str) -> bool:
        """A table or view of exactly that name on the search path."""
        return await pgcatalog.relation_exists(self, name)

    async def names_taken(self) -> list[tuple[str, str]]:
        """Every relation of the schema Ferry creates tables in."""
        return await pgcatalog.names_taken(self)

    async def column_sql_type(self, table: str, column: str) -> str:
        """``numeric(10,2)``, ``text``…: as ``format_type`` spells the column's type."""
        return await pgcatalog.column_sql_type(self, table, column)

    async def has_extension(self, name: str) -> bool:
        """The extension is installed in the database."""
        return await pgcatalog.has_extension(self, name)

    async def text_order(self) -> TextOrder:
        """By the database's own collation (its ICU locale or ``LC_COLLATE``)."""
        return await pgcatalog.text_order(self)

    async def user_sql_value(self, sql: str) -> Any:
        """Through psycopg's cursor: ``%`` is not a parameter marker there."""
        return await pgcatalog.user_sql_value(self, sql)

    async def open(self, read_only: bool = False) -> None:
        """Connect and begin the run's transaction (read-only: one consistent snapshot in
        which the server refuses writes)."""
        args = connect_args(
            self.spec, self.url, self.spec.password_env, self.base_dir, keyring=False
        )
        later = keyring_later(self.url, args)  # the keyring: read if the server asks
        # A silent connection ends the run after stall_timeout; a transaction Ferry left
        # behind is ended by the server itself (its locks freed).
        stall = self.spec.stall_timeout
        args["options"] += " " + server_options(stall, idle_in_transaction=True)
        creator = async_creator(StallWatch(stall, self._waiting))
        args["async_creator_fn"] = lambda *a, **kw: connect_async(creator, later, *a, **kw)
        engine = create_async_engine(self.url, poolclass=NullPool, connect_args=args)
        self.engine = engine
        try:
            self._conn = await engine.connect()
            self._freeze.watch(self._conn.sync_connection)
            await self._conn.begin()
            if self.spec.pg_schema and not read_only:
                await self._ensure_schema(self.spec.pg_schema)
            if self.spec.compression == "lz4" and not read_only:
                await compress_with_lz4(self._conn)
            if read_only:
                await self.conn.exec_driver_sql(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
            self._copy_tx = Transformer(await self._driver())
        except Exception as exc:
            await engine.dispose()
            self.engine = None
            if isinstance(exc, TargetError):
                raise
            orig = getattr(exc, "orig", None) or exc
            raise explain_connect_error(str(orig), self.describe()) from None

    async def _ensure_schema(self, name: str) -> None:
        """Create the plan's schema when missing (in the run's transaction: a preview or a
        failed run leaves no schema behind)."""
        exists = await self.conn.exec_driver_sql(
            "SELECT 1 FROM pg_namespace WHERE nspname = %(name)s", {"name": name}
        )
        if exists.first() is None:
            try:
                await self.conn.exec_driver_sql(f"CREATE SCHEMA {quote(name)}")
                self.created_schema = name
            except Exception as exc:
                if "permission denied" not in str(exc).lower():
                    raise
                raise TargetError(
                    f"PostgreSQL {describe_url(self.url)}: schema {name} does not exist and "
                    "the user may not create it",
                    hint=f"CREATE SCHEMA {name} as its owner (GRANT the user CREATE on it), "
                    "or GRANT CREATE ON DATABASE to the user.",
                ) from None

    def _waiting(self, message: str, table: str) -> None:
        """What the session waits for (a lock another session holds), as a warning."""
        self.emit(RunWarning(f"PostgreSQL {self.describe()}: {message}", table))

    async def create_table(self, table: TableInfo) -> str:
        """Create an inferred table; a keyed one keeps room for updated rows
        (:data:`UPDATE_ROOM`)."""
        assert self.engine is not None
        ddl = create_table_ddl(table, self.engine.dialect, self.capabilities)
        if table.primary_key:
            ddl += f" WITH (fillfactor = {UPDATE_ROOM})"
        await self.execute(ddl, f"creating table {table.name}")
        return ddl

    async def _column_types(self, table: str, widen: bool = True) -> dict[str, str]:
        rows = await self.fetch_dicts(
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, "
            "t.typname AS base FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            f"WHERE a.attrelid = to_regclass('{quote(table).replace(chr(39), chr(39) * 2)}') "
            "AND a.attnum > 0 AND NOT a.attisdropped",
            f"reading column types of {table}",
        )
        if not widen:
            return {r["name"]: r["type"] for r in rows}
        return {r["name"]: _WIDER.get(r["base"], r["type"]) for r in rows}

    async def create_stage(
        self, table: TableInfo, columns: list[str], key: list[str], compare: list[str]
    ) -> Stage:
        """A temp table (dropped at commit) with the target columns' types, a bit widened."""
        stage = Stage(table, self._stage_name(), columns, key, compare)
        types = await self._column_types(table.name)
        defs = ", ".join(f"{quote(c)} {types.get(c, 'text')}" for c in columns)
        await self.execute(
            f"CREATE TEMP TABLE {quote(stage.name)} ({defs}{', ' if defs else ''}"
            f"_ferry_seq bigint, _ferry_same boolean) ON COMMIT DROP",
            f"creating a staging table for {table.name}",
        )
        return stage

    async def add_stage_column(self, stage: Stage, column: ColumnInfo) -> None:
        """Add a column to a stage (its table gained one during the run)."""
        types = await self._column_types(stage.table.name)
        await self.execute(
            f"ALTER TABLE {quote(stage.name)} ADD COLUMN {quote(column.name)} "
            f"{types.get(column.name, 'text')}",
            f"widening the staging table of {stage.table.name}",
        )
        stage.columns.append(column.name)
        stage.compare.append(column.name)

    async def write_stage(
        self, stage: Stage, rows: list[tuple[Any, ...]], encoded: Encoded | None = None
    ) -> list[tuple[int, str]]:
        """COPY the rows into the stage.

        A value the column's type refuses (not in an enum, a malformed uuid, a numeric
        overflow, a NUL character in text) fails the whole COPY: the batch is then copied row
        by row, each under a savepoint, and the refused rows are returned with the reason.
        """
        if not rows:
            return []
        if encoded is None:
            stage.encoded = stage.seq
            encoded = self.encode_rows(stage, rows, direct=False)
        start = encoded.start
        names = [*stage.columns, "_ferry_seq"]
        marked = [*names, "_ferry_same"] if encoded.marked else names
        refused: list[tuple[int, str]] = []
        try:
            async with self.conn.begin_nested():
                await self._copy(stage.name, marked, encoded.data)
        except psycopg.DataError:
            # One by one, each row whole (an unchanged row too: the merge finds it unchanged).
            for number, row in enumerate(rows):
                try:
                    async with self.conn.begin_nested():
                        await self._copy(stage.name, names, [(*row, start + number)])
                except psycopg.DataError as exc:
                    refused.append((number, first_line(exc)))
                except psycopg.Error as exc:
                    raise self.wrap(exc, f"loading rows for {stage.table.name}") from None
        except psycopg.Error as exc:
            raise self.wrap(exc, f"loading rows for {stage.table.name}") from None
        except sa_exc.DBAPIError as exc:
            # The savepoint's rollback failed after the COPY had (the connection is gone):
            # still the COPY's step, named as one.
            raise self.wrap(exc, f"loading rows for {stage.table.name}") from None
        stage.rows += len(rows) - len(refused)
        stage.seq += len(rows)
        return refused

    def encode_rows(
        self,
        stage: Stage,
        rows: list[tuple[Any, ...]],
        direct: bool,
        same: list[bool] | None = None,
    ) -> Encoded:
        """The rows as COPY text (formatted by psycopg's own C code, in the worker thread, so
        the event loop only sends bytes)."""
        encoded = super().encode_rows(stage, rows, direct, same)
        if self._copy_tx is None or _format_row_text is None:
            return encoded
        out = bytearray()
        try:
            for row in encoded.data:
                _format_row_text(row, self._copy_tx, out)
        except psycopg.DataError:  # e.g. a NUL in text: the COPY refuses it row by row
            return encoded
        return Encoded(encoded.start, bytes(out), encoded.marked)

    async def load_direct(self, stage: Stage, encoded: Encoded) -> int | None:
        """COPY straight into the (empty) target table; no savepoint per batch: a refusal
        rolls the whole direct load back (see :class:`DirectLoadRefused`)."""
        try:
            await self._copy(
                stage.table.name,
                stage.columns,
                encoded.data,
                encoded.csv,
                encoded.binary,
                # A table this run created (in the attempt's subtransaction, where every
                # direct load runs, unless a savepoint was rolled back since: :mod:`.pgfreeze`).
                freeze=stage.table.created and self._freeze.open,
            )
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise DirectLoadRefused(stage.table.name, first_line(exc)) from None
        except psycopg.Error as exc:
            raise self.wrap(exc, f"loading rows into {stage.table.name}") from None
        return None

    async def cascades_into(self, table: str) -> list[Cascade]:
        """The foreign keys into ``table`` with an action on delete (:mod:`.cascades`)."""
        return await pg_cascades(self, table)

    @contextlib.asynccontextmanager
    async def key_lookups(self) -> AsyncIterator[None]:
        """No JIT compilation, no parallel workers: the planner takes each key range for a
        ninth of the table, and for that estimate of the row hash's cost chose parallel
        sequential scans of the whole table (1.5 s a statement for 10 ms of index lookups)."""
        async with local_settings(self.conn, _KEY_LOOKUPS):
            yield

    @contextlib.asynccontextmanager
    async def foreign_key_checked(
        self, table: str, columns: tuple[str, ...], ref_table: str
    ) -> AsyncIterator[None]:
        """The key's check merges index-only scans where it may (:mod:`.pgforeignkeys`)."""
        async with pgforeignkeys.merge_checked(self.conn, table, columns, ref_table):
            yield

    async def binary_encoder(
        self, types: list[str]
    ) -> Callable[[list[tuple[Any, ...]]], bytearray] | None:
        """A function (for a worker thread) making rows of values for psycopg's ``types`` one
        binary COPY, header and trailer included; None without psycopg's C formatter."""
        if _format_row_binary is None:
            return None
        driver = await self._driver()
        # By oid, psycopg dumps bytea through its DB-API ``Binary`` dumper, a Python method
        # call per value; its plain bytes dumper (in C) writes the same bytes.
        adapters = AdaptersMap(driver.adapters)
        adapters.register_dumper(None, BytesBinaryDumper)
        tx = Transformer(_Dumping(adapters, driver))
        tx.set_dumper_types([driver.adapters.types[t].oid for t in types], Format.BINARY)
        format_row = _format_row_binary

        def encode(rows: list[tuple[Any, ...]]) -> bytearray:
            out = bytearray(_BINARY_HEADER)
            for row in rows:
                format_row(row, tx, out)
            out += _BINARY_TRAILER
            return out

        return encode

    async def takes_native(self) -> bool:
        """True when COPY text goes to the server as UTF-8 (SQLite's own text encoding)."""
        driver = await self._driver()
        return str(driver.info.encoding).replace("-", "").lower() == "utf8"

    async def apart_blocker(self) -> str:
        """A private schema needs CREATE on the database, and the target schema must be
        one the private tables' connections see (not created by this uncommitted run)."""
        return await pgapart.apart_blocker(self)

    async def open_apart(self, table: TableInfo, ddl: str, label: str) -> ApartLoad:
        """Load ``table`` on a connection of its own (:mod:`ferry.targets.pgapart`)."""
        apart = pgapart.ApartTable(self, table.name, pgapart.PRIVATE_PREFIX + label)
        await apart.open(ddl)
        return apart

    async def idle_while_apart(self, idle: bool) -> None:
        """The run's transaction sits idle while tables load apart, as long as that takes
        (the connection options end a transaction idle for twice ``stall_timeout``); the
        other connections are busy meanwhile, and a Ferry that is gone closes them all."""
        value = "0" if idle else "DEFAULT"
        await self.execute(
            f"SET LOCAL idle_in_transaction_session_timeout = {value}",
            "waiting for the tables loaded apart",
        )

    async def apart_leftovers(self) -> list[str]:
        """The private schemas a killed run left (:mod:`ferry.targets.pgapart`)."""
        return await pgapart.leftovers(self)

    async def drop_apart_leftovers(self) -> list[str]:
        """The private schemas a killed run left, dropped (:mod:`ferry.targets.pgapart`)."""
        return await pgapart.drop_leftovers(self)

    async def _rows_by_key(self, stage: Stage, keys: list[Any]) -> list[tuple[Any, ...]]:
        """One query with the keys as an array (cast to the key column's type)."""
        (key,) = stage.key
        if stage.key_type is None:
            types = await self._column_types(stage.table.name, widen=False)
            stage.key_type = types.get(key, "text")
        cols = ", ".join(quote(c) for c in [key, *stage.compare])
        sql = (
            f"SELECT {cols} FROM {quote(stage.table.name)} "
            f"WHERE {quote(key)} = ANY(CAST(%s AS {stage.key_type}[]))"
        )
        driver = await self._driver()
        try:
            async with driver.cursor() as cursor:
                await cursor.execute(sql, (keys,))
                return await cursor.fetchall()
        except psycopg.Error as exc:
            raise self.wrap(exc, f"reading rows of {stage.table.name}") from None

    async def _copy(
        self,
        table: str,
        columns: list[str],
        data: Any,
        csv: bool = False,
        binary: bool = False,
        freeze: bool = False,
    ) -> None:
        """COPY ``data`` (COPY text — CSV with ``csv``, binary COPY with ``binary`` — or row
        tuples) into ``table``; ``freeze``: ``COPY … FREEZE`` (:mod:`.pgfreeze`)."""
        driver = await self._driver()
        sql = pgfreeze.copy_sql(quote(table), list(map(quote, columns)), csv, binary, freeze)
        async with driver.cursor() as cursor, cursor.copy(sql) as copy:
            if isinstance(data, bytes | bytearray):
                await copy.write(data)
            else:
                for row in data:
                    await copy.write_row(row)

    async def fetch_binary(self, query: Select[Any], what: str) -> list[tuple[Any, ...]]:
        """Through psycopg's binary cursor: in text form a ``bytea`` is hex, twice its size,
        and writing it was most of the server's work for a delta run's kept prints (16 MB for
        a million rows: 0.42 s against 0.11 s binary, under load)."""
        compiled = query.compile(dialect=self.conn.dialect)
        driver = await self._driver()
        try:
            async with driver.cursor(binary=True) as cursor:
                await cursor.execute(str(compiled), compiled.params)
                return await cursor.fetchall()
        except psycopg.Error as exc:
            raise self.wrap(exc, what) from None

    async def stream_rows(
        self, sql: str, what: str, size: int
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]:
        """Through a server-side cursor in psycopg's binary form (a ``bytea`` as its bytes,
        not hex text): a million rows never held at once, none wrapped in SQLAlchemy rows.
        (A cursor is planned for its first rows and never in parallel: the query is meant to
        read an index in order rather than sort.)"""
        driver = await self._driver()
        try:
            async with driver.cursor(name="ferry_stream_rows", binary=True) as cursor:
                await cursor.execute(sql, ())  # (parameters: ``%%`` read as ``%``)
                while rows := await cursor.fetchmany(size):
                    yield rows
        except psycopg.Error as exc:
            raise self.wrap(exc, what) from None

    async def _driver(self) -> psycopg.AsyncConnection[Any]:
        raw = await self.conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        return driver  # type: ignore[no-any-return]

    def driver_sql(self, sql: str) -> str:
        """psycopg takes ``%`` as a placeholder even without parameters: double it, so
        ``LIKE 'a%'`` in a schema file or a query reaches the server as written."""
        return sql.replace("%", "%%")

    def adapt(self, type_name: str, sql_type: str = "") -> Callable[[Any], Any]:
        """psycopg takes Python values as they are, JSON as text; an array column a list."""
        if sql_type.endswith("[]"):
            return identity
        return POSTGRES_ADAPTERS.get(type_name, identity)

    def wrap(self, exc: BaseException, what: str) -> TargetError:
        """A clear message for a driver error (connection lost, permission, full disk ...)."""
        orig = getattr(exc, "orig", None) or exc
        message = first_line(orig)
        where = f"PostgreSQL {self.describe()}"
        lowered = message.lower()
        if isinstance(orig, StalledError):
            return TargetError(
                f"{where}: the connection stalled while {what} ({message}); nothing was committed",
                hint="The network or the server stopped answering: check them, then run again "
                "(the target is unchanged). [target] stall_timeout sets how long Ferry waits.",
            )
        # OperationalError is also a lock not available or an object in use (class 55): a
        # refusal on a live connection, which "the connection was lost" misnamed
        state = str(getattr(orig, "sqlstate", None) or "")
        lost = isinstance(orig, psycopg.OperationalError) and not state.startswith(("53", "55"))
        if lost or "server closed" in lowered:
            return TargetError(
                f"{where}: the connection was lost while {what} ({message}); nothing was committed",
                hint="Check the server, then run again: the target is unchanged.",
            )
        if "permission denied" in lowered:
            return TargetError(
                f"{where}: permission denied while {what} ({message})",
                hint="Grant the user the rights Ferry needs (CREATE on the schema, "
                "INSERT/UPDATE on the tables), or use another user.",
            )
        if "no space left" in lowered or "disk full" in lowered:
            return TargetError(
                f"{where}: the server's disk is full ({what}); nothing was committed",
                hint="Free space on the database server and run again.",
            )
        return TargetError(f"{where}: {what} failed: {message}")
