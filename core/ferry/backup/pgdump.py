"""PostgreSQL targets in backups: the plan's tables dumped in one snapshot, restored in one
transaction and proven by row counts and checksums.

At backup time one ``REPEATABLE READ`` read-only transaction sees every table: it finds which of
the plan's tables (and Ferry's journal, :mod:`ferry.load.journal`, older versions' too) exist,
records their columns, row count, an order-independent checksum of their rows (the sum of the
first 64 bits of ``md5(row::text)``, computed by the server) and their sequences' positions. The
data is then written per table either by ``pg_dump`` (schema and data, ``--no-owner``; used when
it is on PATH and not older than the server; it reads the same snapshot through ``--snapshot``)
or, with no usable ``pg_dump``, by ``COPY (SELECT ...) TO STDOUT`` as CSV. The manifest says
which.

A rollback restores the rows into the existing tables inside one transaction: tables the
migration created are dropped, columns it added are dropped, each table's rows are deleted
(children first) and copied back (parents first), sequences are set back, and the counts and
checksums are compared with the manifest before anything is committed.

The backup side is here; the connection and the catalog queries both sides share are in
:mod:`ferry.backup.pgcatalog`, the restore in :mod:`ferry.backup.pgrestore` (both re-exported).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ..plan import Plan
from ..shape.identifiers import quote
from .faults import BackupError
from .files import file_sha256, private_file
from .pgcatalog import (
    COLUMNS_SQL,
    JOURNAL_REGCLASS,
    RELATION_SQL,
    ROUTINES_SQL,
    SEQUENCES_SQL,
    PgParams,
    checksum_sql,
    pg_params,
    regclass,
)
from .pgrestore import PgRestore, RestorePlan, copy_header

__all__ = [
    "PG_DUMP",
    "PG_DUMP_TIMEOUT_SECONDS",
    "PgBackupSession",
    "PgParams",
    "PgRestore",
    "PgTable",
    "RestorePlan",
    "checksum_sql",
    "copy_header",
    "pg_dump_major",
    "pg_params",
]


#: the pg_dump program looked up on PATH (tests point it elsewhere)
PG_DUMP = "pg_dump"


PG_DUMP_TIMEOUT_SECONDS = 3600


@dataclass
class PgTable:
    """A target table as the backup found it."""

    name: str
    oid: int
    schema: str
    relname: str
    size: int
    #: (name, type, generated) in column order
    columns: list[tuple[str, str, bool]]

    @property
    def qualified(self) -> str:
        """``"schema"."table"``."""
        return f"{quote(self.schema)}.{quote(self.relname)}"

    @property
    def data_columns(self) -> list[str]:
        """The columns whose values are dumped and restored (generated ones are computed)."""
        return [name for name, _type, generated in self.columns if not generated]


def _major(version: str) -> int | None:
    match = re.search(r"(\d+)(?:\.\d+)?", version)
    return int(match.group(1)) if match else None


def pg_dump_major(program: str) -> int | None:
    """The major version of a ``pg_dump`` program, None when it does not run."""
    try:
        done = subprocess.run(
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    return _major(done.stdout.split("PostgreSQL)", 1)[-1])


def _wrap(exc: psycopg.Error, what: str, where: str) -> BackupError:
    message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
    return BackupError(f"PostgreSQL {where}: {what} failed: {message}")


class PgBackupSession:
    """One read-only snapshot of the target, open while its tables are dumped."""

    def __init__(self, params: PgParams, conn: psycopg.Connection[Any]) -> None:
        self.params = params
        self.conn = conn
        self.tables: list[PgTable] = []
        self.absent: list[str] = []
        self.method = "copy"
        self.method_note = ""
        self.snapshot: str | None = None
        self.pg_dump: str | None = None
        self.server_major = conn.info.server_version // 10000

    @classmethod
    def open(cls, plan: Plan, requested: str = "auto") -> PgBackupSession:
        """Connect, look at the plan's tables and pick the dump method."""
        if requested not in ("auto", "pg_dump", "copy"):
            raise ValueError(f"pg_method must be auto, pg_dump or copy (got {requested!r})")
        params = pg_params(plan.target, plan.base_dir)
        conn = params.connect()
        session = cls(params, conn)
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            names = list(dict.fromkeys([t.name for t in plan.tables] + list(JOURNAL_REGCLASS)))
            session._inspect(names)
            session._choose(requested)
        except BaseException:
            session.close()
            raise
        return session

    @property
    def estimate(self) -> int:
        """Bytes the dump may take: the tables' total size on the server."""
        return sum(table.size for table in self.tables)

    def describe(self) -> dict[str, Any]:
        """What the manifest records about the target and the method."""
        try:
            routines = [str(r[0]) for r in self.conn.execute(ROUTINES_SQL)]
        except psycopg.Error as exc:
            raise _wrap(exc, "listing the target's functions", self.params.where) from None
        return {
            "location": self.params.where,
            "server_version": self.conn.info.server_version,
            "method": self.method,
            "method_note": self.method_note,
            "encoding": "UTF8",
            "routines": routines,
        }

    def _inspect(self, names: list[str]) -> None:
        try:
            for name in names:
                row = self.conn.execute(RELATION_SQL, (regclass(name),)).fetchone()
                if row is None:
                    self.absent.append(name)
                    continue
                oid, schema, relname, kind, size = row
                if kind not in ("r", "p"):
                    raise BackupError(
                        f"target {name!r} is not a table (relkind {kind!r}); Ferry backs up "
                        "tables only",
                        hint="Migrate into tables, not views.",
                    )
                columns = [tuple(c) for c in self.conn.execute(COLUMNS_SQL, (oid,))]
                self.tables.append(PgTable(name, oid, schema, relname, int(size), columns))
        except psycopg.Error as exc:
            raise _wrap(exc, "reading the target's tables", self.params.where) from None

    def _choose(self, requested: str) -> None:
        if requested == "copy":
            self.method_note = "asked for"
            return
        program = shutil.which(PG_DUMP)
        major = pg_dump_major(program) if program else None
        if program and major is not None and major >= self.server_major:
            self.method, self.pg_dump = "pg_dump", program
            self.method_note = f"pg_dump {major} for server {self.server_major}"
            try:
                row = self.conn.execute("SELECT pg_export_snapshot()").fetchone()
            except psycopg.Error as exc:
                raise _wrap(exc, "exporting the snapshot", self.params.where) from None
            self.snapshot = str(row[0]) if row else None
            return
        why = (
            "pg_dump is not on PATH"
            if not program
            else f"pg_dump {major} is older than the server ({self.server_major})"
            if major is not None
            else f"{program} does not run"
        )
        if requested == "pg_dump":
            raise BackupError(
                f"cannot back up PostgreSQL {self.params.where} with pg_dump: {why}",
                hint="Install the PostgreSQL client tools of the server's version, or let "
                "Ferry dump the tables itself (the default).",
            )
        self.method_note = why

    def stats(self, table: PgTable) -> tuple[int, str]:
        """Row count and checksum of a table (in the backup's snapshot)."""
        row = self.conn.execute(checksum_sql(table.qualified, table.data_columns)).fetchone()
        assert row is not None
        return int(row[0]), str(row[1])

    def sequences(self, table: PgTable) -> list[dict[str, Any]]:
        """Where the table's serial / identity sequences stand."""
        found = []
        rows = self.conn.execute(SEQUENCES_SQL, (table.qualified, table.oid, table.qualified))
        for column, sequence in rows.fetchall():
            # pg_get_serial_sequence returns the name quoted as needed: safe to embed.
            state = self.conn.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
            assert state is not None
            found.append(
                {
                    "column": column,
                    "sequence": sequence,
                    "last_value": int(state[0]),
                    "is_called": bool(state[1]),
                }
            )
        return found

    def dump(self, folder: Path, index: int, table: PgTable) -> dict[str, Any]:
        """Dump one table into the backup folder; returns its manifest entry."""
        suffix = "sql" if self.method == "pg_dump" else "csv"
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", table.name).lstrip(".")[:80] or "table"
        stored = f"target/{index:03d}-{safe}.{suffix}"
        dest = folder / stored
        try:
            rows, checksum = self.stats(table)
            sequences = self.sequences(table)
            if self.method == "pg_dump":
                self._pg_dump(table, dest)
                copy_header(dest, table.schema, table.relname, table.data_columns)
            else:
                self._copy_out(table, dest)
        except psycopg.Error as exc:
            raise _wrap(exc, f"dumping table {table.name}", self.params.where) from None
        size, sha = file_sha256(dest)
        return {
            "role": "target",
            "table": table.name,
            "state": "present",
            "schema": table.schema,
            "relname": table.relname,
            "stored": stored,
            "size": size,
            "sha256": sha,
            "method": self.method,
            "format": "pg_dump" if self.method == "pg_dump" else "csv",
            "columns": [{"name": n, "type": t, "generated": g} for n, t, g in table.columns],
            "rows": rows,
            "checksum": checksum,
            "sequences": sequences,
        }

    def _copy_out(self, table: PgTable, dest: Path) -> None:
        columns = ", ".join(map(quote, table.data_columns))
        sql = f"COPY (SELECT {columns} FROM {table.qualified}) TO STDOUT (FORMAT csv)"
        with os.fdopen(private_file(dest), "wb") as handle, self.conn.cursor() as cursor:
            with cursor.copy(sql) as copy:
                for data in copy:
                    handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _pg_dump(self, table: PgTable, dest: Path) -> None:
        assert self.pg_dump is not None
        pattern = '"{}"."{}"'.format(
            table.schema.replace('"', '""'), table.relname.replace('"', '""')
        )
        command = [self.pg_dump, "--dbname", self.params.conninfo, "--table", pattern]
        command += ["--no-owner", "--no-privileges", "--encoding=UTF8", "--strict-names"]
        if self.snapshot:
            command += ["--snapshot", self.snapshot]
        with os.fdopen(private_file(dest), "wb") as handle:
            try:
                done = subprocess.run(
                    command,
                    stdout=handle,
                    stderr=subprocess.PIPE,
                    env=self.params.environment(),
                    timeout=PG_DUMP_TIMEOUT_SECONDS,
                    check=False,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise BackupError(f"pg_dump of table {table.name} failed: {exc}") from None
            handle.flush()
            os.fsync(handle.fileno())
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise BackupError(
                f"pg_dump of table {table.name} ({self.params.where}) failed: "
                f"{message[0] if message else f'exit status {done.returncode}'}",
                hint="Check that the user may read the table; nothing was kept.",
            )

    def close(self) -> None:
        """End the snapshot and disconnect."""
        with contextlib.suppress(psycopg.Error):
            self.conn.rollback()
        self.conn.close()
