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
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ..errors import TargetError
from ..load.journal import JOURNAL_SCHEMA, LEGACY_TABLES, POSTGRES_TABLES
from ..plan import Plan, TargetSpec
from ..shape.identifiers import quote
from ..targets.postgres import connect_args, describe_url, explain_connect_error, pg_url
from .faults import BackupError
from .files import file_sha256, private_file

#: Ferry's own tables, backed up with the plan's: an older version's journal (in the default
#: schema) and this version's (``ferry.runs``), as the manifest names them -> their regclass
_JOURNAL = {
    **{name: quote(name) for name in LEGACY_TABLES},
    **{
        f"{JOURNAL_SCHEMA}.{name}": f"{quote(JOURNAL_SCHEMA)}.{quote(name)}"
        for name in POSTGRES_TABLES
    },
}


def _regclass(name: str) -> str:
    """The text ``to_regclass`` takes for a backed-up table's name."""
    return _JOURNAL.get(name) or quote(name)


#: the pg_dump program looked up on PATH (tests point it elsewhere)
PG_DUMP = "pg_dump"
PG_DUMP_TIMEOUT_SECONDS = 3600

_RELATION_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass(%s)
"""

#: functions and procedures of the schemas on the search path (not those of extensions):
#: a schema.sql creates them along with the tables, so a rollback drops the new ones too
_ROUTINES_SQL = """
SELECT p.oid::regprocedure::text
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (current_schemas(false))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1
"""

_COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attgenerated <> ''
FROM pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_SEQUENCES_SQL = """
SELECT a.attname, pg_get_serial_sequence(%s, a.attname)
FROM pg_attribute a
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
  AND pg_get_serial_sequence(%s, a.attname) IS NOT NULL
ORDER BY a.attnum
"""

# Foreign keys touching a set of tables: (name, referencing oid, referenced oid, on delete).
_FOREIGN_KEYS_SQL = """
SELECT c.conname, c.conrelid, c.conrelid::regclass::text, c.confrelid, c.confdeltype
FROM pg_constraint c
WHERE c.contype = 'f' AND (c.confrelid = ANY(%s) OR c.conrelid = ANY(%s))
"""

_USER_TRIGGERS_SQL = """
SELECT t.tgname FROM pg_trigger t
WHERE t.tgrelid = %s AND NOT t.tgisinternal AND t.tgenabled <> 'D'
ORDER BY t.tgname
"""

_IDENT = r'"(?:[^"]|"")*"|[^\s."(),]+'
_COPY_HEADER = re.compile(
    rf"^COPY ({_IDENT})\.({_IDENT}) (?:\(((?:{_IDENT})(?:, (?:{_IDENT}))*)\) )?FROM stdin;$"
)


@dataclass(frozen=True)
class PgParams:
    """How to reach the target: a libpq URL without password, driver arguments, a label."""

    conninfo: str
    kwargs: dict[str, Any]
    where: str

    def connect(self) -> psycopg.Connection[Any]:
        """A connection (not autocommit); a refused one is a TargetError with a hint."""
        try:
            return psycopg.connect(self.conninfo, **self.kwargs)
        except psycopg.Error as exc:
            raise explain_connect_error(str(exc), self.where) from None

    def environment(self) -> dict[str, str]:
        """The environment for ``pg_dump``: password and TLS through libpq's variables."""
        env = dict(os.environ)
        names = {
            "password": "PGPASSWORD",
            "sslmode": "PGSSLMODE",
            "sslrootcert": "PGSSLROOTCERT",
            "connect_timeout": "PGCONNECT_TIMEOUT",
        }
        for key, variable in names.items():
            if self.kwargs.get(key) is not None:
                env[variable] = str(self.kwargs[key])
        env["PGAPPNAME"] = "ferry"
        return env


def pg_params(spec: TargetSpec, base_dir: Path | None = None) -> PgParams:
    """Connection parameters for a plan's PostgreSQL target (password resolved, not in a URL;
    a relative ``sslrootcert`` taken from ``base_dir``, the plan's folder)."""
    url = pg_url(spec.url)
    kwargs = connect_args(spec, url, spec.password_env, base_dir)
    kwargs["client_encoding"] = "UTF8"
    conninfo = re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql://", spec.url)
    return PgParams(conninfo, kwargs, describe_url(url))


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


def checksum_sql(qualified: str, columns: list[str]) -> str:
    """Row count and an order-independent checksum of ``columns`` over all rows, as text."""
    row = f"ROW({', '.join(map(quote, columns))})::text"
    return (
        "SELECT count(*), coalesce(sum(('x' || substr(md5("
        f"{row}), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM {qualified}"
    )


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
            names = list(dict.fromkeys([t.name for t in plan.tables] + list(_JOURNAL)))
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
            routines = [str(r[0]) for r in self.conn.execute(_ROUTINES_SQL)]
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
                row = self.conn.execute(_RELATION_SQL, (_regclass(name),)).fetchone()
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
                columns = [tuple(c) for c in self.conn.execute(_COLUMNS_SQL, (oid,))]
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
        rows = self.conn.execute(_SEQUENCES_SQL, (table.qualified, table.oid, table.qualified))
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


def _unquote(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident


def _copy_lines(path: Path) -> Iterator[bytes]:
    """The lines of a pg_dump file from its ``COPY ... FROM stdin;`` header through ``\\.``."""
    with open(path, "rb") as handle:
        inside = False
        for line in handle:
            if not inside and line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
                inside = True
            if inside:
                yield line
                if line in (b"\\.\n", b"\\.\r\n", b"\\."):
                    return
    if inside:
        raise BackupError(f"{path}: the table data ends before its '\\.' line")


def copy_header(path: Path, schema: str, relname: str, columns: list[str]) -> None:
    """Check that a pg_dump file holds the data of ``schema.relname`` with ``columns``."""
    header = next(_copy_lines(path), None)
    match = _COPY_HEADER.match(header.decode("utf-8", "replace").rstrip()) if header else None
    if match is None:
        raise BackupError(f"{path}: no table data (COPY ... FROM stdin) in the pg_dump output")
    found = [_unquote(i) for i in re.findall(_IDENT, match.group(3) or "")]
    if (_unquote(match.group(1)), _unquote(match.group(2))) != (schema, relname) or (
        found != columns
    ):
        raise BackupError(
            f"{path}: the pg_dump data is for {match.group(1)}.{match.group(2)} "
            f"({', '.join(found)}), not {schema}.{relname} ({', '.join(columns)})"
        )


# -- restore --------------------------------------------------------------------------------


@dataclass
class RestorePlan:
    """What a rollback will do to a PostgreSQL target, worked out before changing anything."""

    items: list[dict[str, Any]]
    oids: dict[str, int]
    drop: list[str]
    extra_columns: dict[str, list[str]]
    #: restored tables, parents before children
    order: list[dict[str, Any]]
    #: functions created since the backup (dropped once the tables are)
    routines: list[str] = field(default_factory=list)


def _qualified(item: dict[str, Any]) -> str:
    return f"{quote(str(item['schema']))}.{quote(str(item['relname']))}"


class PgRestore:
    """A rollback of a PostgreSQL target inside one transaction (committed only once proven)."""

    def __init__(self, params: PgParams, folder: Path, manifest: dict[str, Any]) -> None:
        self.params = params
        self.folder = folder
        self.manifest = manifest
        self.conn = params.connect()

    def _fail(self, exc: psycopg.Error, what: str) -> TargetError:
        message = exc.diag.message_primary or str(exc).strip().splitlines()[0]
        return TargetError(
            f"PostgreSQL {self.params.where}: {what} failed: {message}",
            hint="The rollback was undone; the target is as it was before it.",
        )

    def prepare(self) -> RestorePlan:
        """Check the target against the backup, lock the tables, plan drops and order."""
        items = [i for i in self.manifest["items"] if i.get("role") == "target" and "table" in i]
        present = [i for i in items if i.get("state") == "present"]
        try:
            self.conn.execute("SET LOCAL lock_timeout = '15s'")
            oids: dict[str, int] = {}
            extra: dict[str, list[str]] = {}
            for item in present:
                row = self.conn.execute(_RELATION_SQL, (_qualified(item),)).fetchone()
                if row is None:
                    raise BackupError(
                        f"table {item['table']} existed at backup time but is gone from "
                        f"{self.params.where}; Ferry restores rows into existing tables",
                        hint=f"Recreate it first (the backup's {item['stored']} holds "
                        "pg_dump's CREATE TABLE when pg_dump made it); nothing was changed.",
                    )
                oids[item["table"]] = int(row[0])
                now = [str(c[0]) for c in self.conn.execute(_COLUMNS_SQL, (row[0],))]
                then = [str(c["name"]) for c in item["columns"]]
                lost = [c for c in then if c not in now]
                if lost:
                    raise BackupError(
                        f"table {item['table']} lost column(s) {', '.join(lost)} since the "
                        "backup; its rows cannot be put back as they were",
                        hint="Add the columns back, then roll back; nothing was changed.",
                    )
                extra[item["table"]] = [c for c in now if c not in then]
            drop = []
            for item in items:
                if item.get("state") == "absent":
                    row = self.conn.execute(_RELATION_SQL, (_regclass(item["table"]),)).fetchone()
                    if row is not None:
                        drop.append(item["table"])
                        oids[item["table"]] = int(row[0])
            if oids:
                names = ", ".join(f"{int(o)}::regclass::text" for o in oids.values())
                locked = [r[0] for r in self.conn.execute(f"SELECT {names}").fetchall()]
                self.conn.execute(f"LOCK TABLE {', '.join(locked)} IN ACCESS EXCLUSIVE MODE")
            order = self._order(present, oids, drop)
            routines: list[str] = []
            then = self.manifest.get("target", {}).get("routines")
            if isinstance(then, list):  # older backups did not record them
                now = [str(r[0]) for r in self.conn.execute(_ROUTINES_SQL)]
                routines = [r for r in now if r not in then]
        except psycopg.Error as exc:
            raise self._fail(exc, "checking the target against the backup") from None
        return RestorePlan(items, oids, drop, extra, order, routines)

    def _order(
        self, present: list[dict[str, Any]], oids: dict[str, int], drop: list[str]
    ) -> list[dict[str, Any]]:
        restored = {oids[i["table"]]: i for i in present}
        dropped = {oids[name] for name in drop}
        ours = set(restored) | dropped
        parents: dict[int, set[int]] = {oid: set() for oid in restored}
        rows = self.conn.execute(_FOREIGN_KEYS_SQL, (list(ours), list(ours))).fetchall()
        for name, child, child_name, parent, on_delete in rows:
            if child not in ours and parent in ours:
                if parent in dropped or on_delete in ("c", "n", "d"):
                    raise BackupError(
                        f"table {child_name} (not in the backup) refers to a restored table "
                        f"through foreign key {name}; restoring would change or block it",
                        hint="Roll back by hand, or add that table to the plan; nothing was "
                        "changed.",
                    )
            elif child in restored and parent in restored and child != parent:
                parents[child].add(parent)
        ordered: list[dict[str, Any]] = []
        placed: set[int] = set()
        pending = list(restored)
        while pending:
            ready = [o for o in pending if parents[o] <= placed] or pending[:1]  # a cycle: as is
            for oid in ready:
                pending.remove(oid)
                placed.add(oid)
                ordered.append(restored[oid])
        return ordered

    def drop_created(self, plan: RestorePlan) -> None:
        """Drop tables the backup did not have, and columns added since."""
        try:
            if plan.drop:
                # CASCADE: the views the migration made over them (they did not exist either).
                self.conn.execute(f"DROP TABLE {', '.join(map(_regclass, plan.drop))} CASCADE")
            for item in plan.order:
                for column in plan.extra_columns.get(item["table"], []):
                    self.conn.execute(f"ALTER TABLE {_qualified(item)} DROP COLUMN {quote(column)}")
        except psycopg.Error as exc:
            raise self._fail(exc, "dropping what the migration created") from None
        kept = []
        for routine in plan.routines:
            # One still in use (by a table the backup had) stays: dropping it would break that.
            try:
                with self.conn.transaction():
                    self.conn.execute(f"DROP ROUTINE {routine}")
            except psycopg.errors.DependentObjectsStillExist:
                kept.append(routine)
            except psycopg.Error as exc:
                raise self._fail(exc, f"dropping function {routine}") from None
        plan.routines = [r for r in plan.routines if r not in kept]

    def clear(self, plan: RestorePlan) -> dict[str, list[str]]:
        """Switch user triggers off and delete every restored table's rows, children first.

        Returns the triggers switched off (per table) for :meth:`finish_tables`."""
        triggers: dict[str, list[str]] = {}
        try:
            for item in plan.order:
                names = [r[0] for r in self.conn.execute(
                    _USER_TRIGGERS_SQL, (plan.oids[item["table"]],)).fetchall()]  # fmt: skip
                for trigger in names:
                    self.conn.execute(
                        f"ALTER TABLE {_qualified(item)} DISABLE TRIGGER {quote(trigger)}"
                    )
                triggers[item["table"]] = names
            for item in reversed(plan.order):
                self.conn.execute(f"DELETE FROM {_qualified(item)}")
        except psycopg.Error as exc:
            raise self._fail(exc, "clearing the tables to restore") from None
        return triggers

    def load(self, item: dict[str, Any]) -> None:
        """Copy one table's rows back from the backup."""
        columns = [str(c["name"]) for c in item["columns"] if not c.get("generated")]
        path = self.folder / str(item["stored"])
        target = f"{_qualified(item)} ({', '.join(map(quote, columns))})"
        try:
            with self.conn.cursor() as cursor:
                if item.get("format") == "pg_dump":
                    copy_header(path, str(item["schema"]), str(item["relname"]), columns)
                    lines = _copy_lines(path)
                    next(lines)  # the header
                    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                        for line in lines:
                            if line.rstrip(b"\r\n") == b"\\.":
                                break
                            copy.write(line)
                else:
                    with (
                        open(path, "rb") as handle,
                        cursor.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy,
                    ):
                        while chunk := handle.read(1 << 20):
                            copy.write(chunk)
        except psycopg.Error as exc:
            raise self._fail(exc, f"restoring the rows of {item['table']}") from None

    def finish_tables(self, plan: RestorePlan, triggers: dict[str, list[str]]) -> None:
        """Set sequences back and switch the user triggers on again."""
        try:
            for item in plan.order:
                for seq in item.get("sequences", []):
                    self.conn.execute(
                        "SELECT setval(%s::regclass, %s, %s)",
                        (seq["sequence"], seq["last_value"], seq["is_called"]),
                    )
                for trigger in triggers.get(item["table"], []):
                    self.conn.execute(
                        f"ALTER TABLE {_qualified(item)} ENABLE TRIGGER {quote(trigger)}"
                    )
        except psycopg.Error as exc:
            raise self._fail(exc, "setting sequences and triggers back") from None

    def prove(self, plan: RestorePlan) -> list[str]:
        """Compare each table's row count and checksum with the backup's; raise on a difference."""
        proof = []
        try:
            for item in plan.order:
                columns = [str(c["name"]) for c in item["columns"] if not c.get("generated")]
                row = self.conn.execute(checksum_sql(_qualified(item), columns)).fetchone()
                assert row is not None
                rows, checksum = int(row[0]), str(row[1])
                if (rows, checksum) != (item["rows"], item["checksum"]):
                    raise BackupError(
                        f"rollback not proven for table {item['table']}: {rows} rows, checksum "
                        f"{checksum}; the backup has {item['rows']} rows, checksum "
                        f"{item['checksum']}",
                        hint="Nothing was committed: the target is as it was before the "
                        "rollback. A trigger or rule may rewrite rows on insert.",
                    )
                proof.append(f"{item['table']}: {rows} rows, checksum {checksum} (as backed up)")
            for name in plan.drop:
                if self.conn.execute(_RELATION_SQL, (_regclass(name),)).fetchone() is not None:
                    raise BackupError(f"rollback not proven: table {name} still exists")
                proof.append(f"{name}: absent (as backed up)")
        except psycopg.Error as exc:
            raise self._fail(exc, "checking the restored tables") from None
        return proof

    def commit(self) -> None:
        """Commit the restore."""
        try:
            self.conn.commit()
        except psycopg.Error as exc:
            raise self._fail(exc, "committing the rollback") from None

    def close(self) -> None:
        """Roll back whatever was not committed and disconnect."""
        with contextlib.suppress(psycopg.Error):
            self.conn.rollback()
        self.conn.close()
