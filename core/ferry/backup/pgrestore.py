"""A rollback of a PostgreSQL target: the backup's rows put back into the existing tables in one
transaction, committed only once their counts and checksums match the manifest.

Tables the migration created are dropped, columns it added are dropped, the restored tables are
emptied by one ``TRUNCATE`` of them all (a table another table outside the restore refers to is
emptied by ``DELETE`` instead, children first) and their rows copied back (parents first) from
``pg_dump``'s ``COPY`` data or Ferry's CSV; the foreign keys between truncated tables and their
secondary indexes are set aside while the rows go in and made again after
(:mod:`ferry.backup.pgaside`), sequences are set back and user triggers stay off meanwhile.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ..errors import TargetError
from ..shape.identifiers import quote
from ..targets.pgcompression import compress_with_lz4_sync
from .faults import BackupError
from .pgaside import SetAside, put_back, set_aside
from .pgcatalog import (
    COLUMNS_SQL,
    FOREIGN_KEYS_SQL,
    RELATION_SQL,
    ROUTINES_SQL,
    USER_TRIGGERS_SQL,
    PgParams,
    checksum_sql,
    regclass,
)

_IDENT = r'"(?:[^"]|"")*"|[^\s."(),]+'


_COPY_HEADER = re.compile(
    rf"^COPY ({_IDENT})\.({_IDENT}) (?:\(((?:{_IDENT})(?:, (?:{_IDENT}))*)\) )?FROM stdin;$"
)


def _unquote(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident


def copy_lines(path: Path) -> Iterator[bytes]:
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
    header = next(copy_lines(path), None)
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
    #: restored table oid -> why it cannot be emptied by TRUNCATE (a table outside the
    #: restore refers to it)
    referenced: dict[int, str] = field(default_factory=dict)
    #: how the tables were emptied, one line per way (for the rollback's result)
    emptied: list[str] = field(default_factory=list)
    #: foreign keys and indexes of the truncated tables, dropped while the rows go in
    aside: SetAside = field(default_factory=SetAside)


def _qualified(item: dict[str, Any]) -> str:
    return f"{quote(str(item['schema']))}.{quote(str(item['relname']))}"


class PgRestore:
    """A rollback of a PostgreSQL target inside one transaction (committed only once proven)."""

    def __init__(
        self, params: PgParams, folder: Path, manifest: dict[str, Any], lz4: bool = False
    ) -> None:
        self.params = params
        self.folder = folder
        self.manifest = manifest
        #: long values written with lz4, as the plan's runs write them (``[target] compression``)
        self.lz4 = lz4
        #: tables emptied by this transaction's TRUNCATE: their rows go back frozen
        self.truncated: set[str] = set()
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
            if self.lz4:
                compress_with_lz4_sync(self.conn)
            oids: dict[str, int] = {}
            extra: dict[str, list[str]] = {}
            for item in present:
                row = self.conn.execute(RELATION_SQL, (_qualified(item),)).fetchone()
                if row is None:
                    raise BackupError(
                        f"table {item['table']} existed at backup time but is gone from "
                        f"{self.params.where}; Ferry restores rows into existing tables",
                        hint=f"Recreate it first (the backup's {item['stored']} holds "
                        "pg_dump's CREATE TABLE when pg_dump made it); nothing was changed.",
                    )
                oids[item["table"]] = int(row[0])
                now = [str(c[0]) for c in self.conn.execute(COLUMNS_SQL, (row[0],))]
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
                    row = self.conn.execute(RELATION_SQL, (regclass(item["table"]),)).fetchone()
                    if row is not None:
                        drop.append(item["table"])
                        oids[item["table"]] = int(row[0])
            if oids:
                names = ", ".join(f"{int(o)}::regclass::text" for o in oids.values())
                locked = [r[0] for r in self.conn.execute(f"SELECT {names}").fetchall()]
                self.conn.execute(f"LOCK TABLE {', '.join(locked)} IN ACCESS EXCLUSIVE MODE")
            referenced: dict[int, str] = {}
            order = self._order(present, oids, drop, referenced)
            routines: list[str] = []
            then = self.manifest.get("target", {}).get("routines")
            if isinstance(then, list):  # older backups did not record them
                now = [str(r[0]) for r in self.conn.execute(ROUTINES_SQL)]
                routines = [r for r in now if r not in then]
        except psycopg.Error as exc:
            raise self._fail(exc, "checking the target against the backup") from None
        return RestorePlan(items, oids, drop, extra, order, routines, referenced)

    def _order(
        self,
        present: list[dict[str, Any]],
        oids: dict[str, int],
        drop: list[str],
        referenced: dict[int, str],
    ) -> list[dict[str, Any]]:
        restored = {oids[i["table"]]: i for i in present}
        dropped = {oids[name] for name in drop}
        ours = set(restored) | dropped
        parents: dict[int, set[int]] = {oid: set() for oid in restored}
        rows = self.conn.execute(FOREIGN_KEYS_SQL, (list(ours), list(ours))).fetchall()
        for name, child, child_name, parent, on_delete in rows:
            if child not in ours and parent in ours:
                if parent in dropped or on_delete in ("c", "n", "d"):
                    raise BackupError(
                        f"table {child_name} (not in the backup) refers to a restored table "
                        f"through foreign key {name}; restoring would change or block it",
                        hint="Roll back by hand, or add that table to the plan; nothing was "
                        "changed.",
                    )
                # NO ACTION / RESTRICT: rows may go and come back, but TRUNCATE is refused
                referenced.setdefault(
                    parent, f"table {child_name}, not restored, refers to it (foreign key {name})"
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
                self.conn.execute(f"DROP TABLE {', '.join(map(regclass, plan.drop))} CASCADE")
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
        """Switch user triggers off and empty every restored table.

        One ``TRUNCATE`` of them all: O(pages), and no ``ON DELETE`` action runs per row (a
        ``DELETE`` of a parent runs its cascade into the child once per row, a scan of the
        child's dead rows each time). TRUNCATE refuses a table that a table left out of it
        refers to: a table that a table outside the restore refers to (and, in turn, a
        restored table that one refers to) is emptied by ``DELETE`` instead, children first,
        after the others are truncated. Returns the triggers switched off (per table) for
        :meth:`finish_tables`."""
        triggers: dict[str, list[str]] = {}
        try:
            for item in plan.order:
                names = [r[0] for r in self.conn.execute(
                    USER_TRIGGERS_SQL, (plan.oids[item["table"]],)).fetchall()]  # fmt: skip
                for trigger in names:
                    self.conn.execute(
                        f"ALTER TABLE {_qualified(item)} DISABLE TRIGGER {quote(trigger)}"
                    )
                triggers[item["table"]] = names
            why = self._not_truncatable(plan)
            truncate = [i for i in plan.order if plan.oids[i["table"]] not in why]
            refused = self._truncate(truncate) if truncate else None
            if refused is not None:
                why.update({plan.oids[i["table"]]: refused for i in truncate})
                truncate = []
            if truncate:
                self.truncated = {str(i["table"]) for i in truncate}
                tables = ", ".join(str(i["table"]) for i in truncate)
                plural = "s" if len(truncate) > 1 else ""
                plan.emptied.append(f"table{plural} {tables}: emptied by one TRUNCATE")
            for item in reversed(plan.order):
                if plan.oids[item["table"]] in why:
                    self.conn.execute(f"DELETE FROM {_qualified(item)}")
                    plan.emptied.append(
                        f"table {item['table']}: emptied row by row (DELETE), not by TRUNCATE: "
                        f"{why[plan.oids[item['table']]]}"
                    )
            # Not a table emptied by DELETE: it may hold a deferred key's pending checks, and
            # PostgreSQL refuses to alter it then.
            plan.aside = set_aside(self.conn, [plan.oids[i["table"]] for i in truncate])
        except psycopg.Error as exc:
            raise self._fail(exc, "clearing the tables to restore") from None
        return triggers

    def _not_truncatable(self, plan: RestorePlan) -> dict[int, str]:
        """Restored tables that cannot be in the one TRUNCATE, with the reason: those a table
        outside the restore refers to, those without the TRUNCATE privilege, and (until none
        is left) those a table already left out refers to, which TRUNCATE would refuse."""
        restored = {plan.oids[i["table"]]: str(i["table"]) for i in plan.order}
        why = dict(plan.referenced)
        for (oid,) in self.conn.execute(
            "SELECT o FROM unnest(%s::oid[]) o WHERE NOT has_table_privilege(o, 'TRUNCATE')",
            (list(restored),),
        ):
            why.setdefault(int(oid), "Ferry's user lacks the TRUNCATE privilege on it")
        links = self.conn.execute(FOREIGN_KEYS_SQL, (list(restored), list(restored))).fetchall()
        changed = True
        while changed:
            changed = False
            for _name, child, child_name, parent, _on_delete in links:
                if child in why and parent in restored and parent not in why:
                    why[parent] = f"table {child_name}, emptied row by row, refers to it"
                    changed = True
        return why

    def _truncate(self, items: list[dict[str, Any]]) -> str | None:
        """One TRUNCATE of ``items`` in a savepoint; why not, when the server refused it
        (nothing changed then)."""
        try:
            with self.conn.transaction():
                self.conn.execute(f"TRUNCATE {', '.join(map(_qualified, items))}")
        except (psycopg.errors.FeatureNotSupported, psycopg.errors.InsufficientPrivilege) as exc:
            return f"TRUNCATE was refused ({exc.diag.message_primary or exc})"
        return None

    def load(self, item: dict[str, Any]) -> None:
        """Copy one table's rows back from the backup.

        A table this transaction truncated gets its rows frozen (``COPY … FREEZE``, as a first
        run writes a table it created, :mod:`ferry.targets.pgfreeze`): its pages are marked
        all-visible as they are written, so the index builds, the foreign keys' check and the
        proof that read it next skip the per-row visibility work, and the app's first reads
        and later vacuums do not rewrite every page to set hint bits and freeze the rows.
        The server takes ``FREEZE`` there: the ``TRUNCATE``'s savepoint was released, not
        rolled back, so the table's new storage belongs to the current subtransaction."""
        columns = [str(c["name"]) for c in item["columns"] if not c.get("generated")]
        path = self.folder / str(item["stored"])
        target = f"{_qualified(item)} ({', '.join(map(quote, columns))})"
        freeze = str(item["table"]) in self.truncated
        try:
            with self.conn.cursor() as cursor:
                if item.get("format") == "pg_dump":
                    copy_header(path, str(item["schema"]), str(item["relname"]), columns)
                    lines = copy_lines(path)
                    next(lines)  # the header
                    options = " (FREEZE)" if freeze else ""
                    with cursor.copy(f"COPY {target} FROM STDIN{options}") as copy:
                        for line in lines:
                            if line.rstrip(b"\r\n") == b"\\.":
                                break
                            copy.write(line)
                else:
                    with (
                        open(path, "rb") as handle,
                        cursor.copy(
                            f"COPY {target} FROM STDIN (FORMAT csv{', FREEZE' if freeze else ''})"
                        ) as copy,
                    ):
                        while chunk := handle.read(1 << 20):
                            copy.write(chunk)
        except psycopg.Error as exc:
            raise self._fail(exc, f"restoring the rows of {item['table']}") from None

    def finish_tables(self, plan: RestorePlan, triggers: dict[str, list[str]]) -> None:
        """Build the indexes set aside and add the foreign keys back (checking every restored
        row), set sequences back and switch the user triggers on again."""
        try:
            put_back(self.conn, plan.aside)
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
            raise self._fail(exc, "setting indexes, keys, sequences and triggers back") from None

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
                if self.conn.execute(RELATION_SQL, (regclass(name),)).fetchone() is not None:
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
