"""What a PostgreSQL rollback sets aside while the backup's rows go back into truncated tables:
the foreign keys between those tables and their secondary indexes, made again (same name,
definition and comment) once the rows are in, before the proof (:mod:`ferry.backup.pgrestore`).

A row copied into a table with a foreign key costs a lookup in the parent, and one with
indexes an insert into each; adding the key back checks every row in one join, and building an
index sorts the rows once — as ``pg_restore`` does. Only what can be made again exactly is set
aside, and only on tables Ferry's user owns (dropping and making them needs it): validated keys
of plain tables; indexes of plain tables that back no constraint, nothing depends on, are not
the clustering or replica-identity index, are in the default tablespace and have no column
statistics target of their own. Everything else stays and is kept up row by row. It all
happens inside the rollback's one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ..shape.identifiers import quote

# Validated foreign keys from one plain table of a set to another of it (qualified child,
# name, definition, comment).
KEYS_SQL = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid),
       obj_description(c.oid, 'pg_constraint')
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_class p ON p.oid = c.confrelid
WHERE c.contype = 'f' AND c.conrelid = ANY(%s) AND c.confrelid = ANY(%s)
  AND c.convalidated AND c.conparentid = 0 AND c.coninhcount = 0 AND r.relkind = 'r'
  AND pg_has_role(r.relowner, 'USAGE') AND pg_has_role(p.relowner, 'USAGE')
ORDER BY c.oid
"""

# Secondary indexes of plain tables of a set that can be dropped and made again exactly
# (qualified name, definition, comment).
INDEXES_SQL = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
       obj_description(i.indexrelid, 'pg_class')
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
WHERE i.indrelid = ANY(%s) AND t.relkind = 'r' AND x.relkind = 'i'
  AND pg_has_role(t.relowner, 'USAGE')
  AND i.indisvalid AND i.indisready AND i.indislive
  AND NOT i.indisclustered AND NOT i.indisreplident AND x.reltablespace = 0
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0)
ORDER BY i.indexrelid
"""


@dataclass
class SetAside:
    """Foreign keys ``(table, name, definition, comment)`` and indexes ``(name, definition,
    comment)`` dropped until the rows are in."""

    keys: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    indexes: list[tuple[str, str, str | None]] = field(default_factory=list)


def set_aside(conn: psycopg.Connection[Any], tables: list[int]) -> SetAside:
    """Drop the foreign keys between ``tables`` (oids, just truncated) and their indexes that
    can be made again exactly; what :func:`put_back` makes again."""
    aside = SetAside()
    for table, name, definition, comment in conn.execute(KEYS_SQL, (tables, tables)).fetchall():
        aside.keys.append((str(table), str(name), str(definition), comment))
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(str(name))}")
    for index, definition, comment in conn.execute(INDEXES_SQL, (tables,)).fetchall():
        aside.indexes.append((str(index), str(definition), comment))
        conn.execute(f"DROP INDEX {index}")
    return aside


def put_back(conn: psycopg.Connection[Any], aside: SetAside) -> None:
    """Build the indexes again, then add the foreign keys back (checking every row)."""
    for index, definition, comment in aside.indexes:
        conn.execute(definition)  # pg_get_indexdef: CREATE INDEX with its name and table
        if comment is not None:
            conn.execute(
                sql.SQL("COMMENT ON INDEX {} IS {}").format(sql.SQL(index), sql.Literal(comment))
            )
    for table, name, definition, comment in aside.keys:
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        if comment is not None:
            conn.execute(
                sql.SQL("COMMENT ON CONSTRAINT {} ON {} IS {}").format(
                    sql.Identifier(name), sql.SQL(table), sql.Literal(comment)
                )
            )
