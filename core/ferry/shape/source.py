"""The shape of a database source's tables: what makes an app keep working after a move.

Defaults, NOT NULL, identity (rowid) keys, every foreign key with its actions, UNIQUE and
CHECK constraints and every index, as the source database declares them. Read through
SQLAlchemy's inspector, with SQLite's gaps filled from its PRAGMAs and ``sqlite_master``:
the inspector drops ON DELETE/ON UPDATE of a column-level ``REFERENCES``, DESC, DEFERRABLE,
and the WHERE of a partial index. :mod:`ferry.shape.ddl` turns a shape into the target's DDL.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SAWarning

from .conflicts import sqlite_conflicts
from .sqlitenames import ROWID_COLUMN_SQL


@dataclass(frozen=True)
class ForeignKeyShape:
    """``columns`` reference ``ref_columns`` of the source table ``ref_table``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = ""
    on_update: str = ""
    deferrable: bool = False
    initially_deferred: bool = False


@dataclass(frozen=True)
class IndexPart:
    """One column of an index, or an expression (``expression`` True), and its order."""

    text: str
    desc: bool = False
    expression: bool = False
    #: a PostgreSQL operator class (``varchar_pattern_ops``: Django's ``…_like`` index)
    opclass: str = ""


@dataclass(frozen=True)
class IndexShape:
    """A secondary index (not one a primary key or UNIQUE constraint makes)."""

    name: str
    parts: tuple[IndexPart, ...]
    unique: bool = False
    #: a partial index's condition, in the source's SQL
    where: str | None = None
    #: Django's ``unique_together`` (``*_uniq``): a constraint on PostgreSQL, an index on
    #: SQLite (which cannot add a constraint), as Django makes it and drops it by name there
    constraint: bool = False
    #: a PostgreSQL index method other than btree (``gin``, ``gist``, ``brin``, ``hash``)
    using: str = ""


@dataclass
class TableShape:
    """What a source table declares besides its columns' types and primary key."""

    #: ``sqlite`` or ``postgresql``: the SQL the expressions below are written in
    dialect: str
    #: column -> DEFAULT expression as the source writes it
    defaults: dict[str, str] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    #: the key column the database numbers itself (rowid alias, identity, serial)
    identity: str | None = None
    #: the identity is the whole primary key (not one column of a composite key)
    identity_alone: bool = True
    #: SQLite's AUTOINCREMENT (ids are never reused)
    autoincrement: bool = False
    foreign_keys: list[ForeignKeyShape] = field(default_factory=list)
    uniques: list[tuple[str, ...]] = field(default_factory=list)
    #: (constraint name or "", expression)
    checks: list[tuple[str, str]] = field(default_factory=list)
    indexes: list[IndexShape] = field(default_factory=list)
    #: column -> (expression, stored): a column the database computes from the row's others
    #: (``GENERATED ALWAYS AS (expression) STORED`` or ``VIRTUAL``)
    generated: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: the names the source gives its constraints: ``("pk",)``, ``("unique", *columns)``,
    #: ``("fk", *columns)`` -> name (an app's schema migrations drop and alter them by name)
    names: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: SQLite table options (``STRICT``, ``WITHOUT ROWID``), upper case
    options: tuple[str, ...] = ()
    #: PostgreSQL columns of an enum type -> the CHECK that keeps its values (in ``checks``)
    enums: dict[str, str] = field(default_factory=dict)
    #: a PostgreSQL partitioned table: its partition key (``RANGE (ts)``) and partition count
    partitioned: tuple[str, int] | None = None
    #: SQLite's conflict clauses other than ABORT: ``("pk",)``, ``("unique", *columns)``,
    #: ``("not null", column)`` -> ``REPLACE``, ``IGNORE``… (:mod:`ferry.shape.conflicts`)
    conflicts: dict[tuple[str, ...], str] = field(default_factory=dict)


def reflect_shapes(
    conn: Connection, tables: list[str], schema: str | None = None
) -> dict[str, TableShape]:
    """The shape of each of ``tables`` (their names in the source database, in ``schema``)."""
    insp = inspect(conn)
    shapes: dict[str, TableShape] = {}
    with warnings.catch_warnings():
        # SQLite's expression indexes are read from their SQL below, not by the inspector.
        warnings.simplefilter("ignore", SAWarning)
        # Django makes a unique_together a constraint on PostgreSQL, an index on SQLite
        django = insp.has_table("django_migrations", schema=schema)
        for table in tables:
            shapes[table] = _reflect_table(conn, insp, table, schema, django)
    return shapes


def _reflect_table(
    conn: Connection, insp: Any, table: str, schema: str | None, django: bool
) -> TableShape:
    """One table's shape."""
    dialect = conn.dialect.name
    shape = TableShape(dialect=dialect)
    primary = insp.get_pk_constraint(table, schema=schema)
    pk = tuple(primary.get("constrained_columns") or ())
    if pk and primary.get("name"):
        shape.names[("pk",)] = str(primary["name"])
    for column in insp.get_columns(table, schema=schema):
        name = column["name"]
        default = column.get("default")
        computed = column.get("computed")
        if computed:
            expression = str(computed["sqltext"]).strip()
            shape.generated[name] = (expression, bool(computed.get("persisted")))
        if not column.get("nullable", True) and name not in pk:
            shape.not_null.add(name)
        serial = column.get("identity") or str(default or "").startswith("nextval(")
        if serial and name in pk and shape.identity is None:
            # also within a composite key (a partitioned table's ``(id, ts)``)
            shape.identity = name
            shape.identity_alone = pk == (name,)
            # a sequence never gives an id twice: on SQLite only AUTOINCREMENT promises that
            shape.autoincrement = True
            continue
        if default is not None:
            shape.defaults[name] = str(default)
    for unique in insp.get_unique_constraints(table, schema=schema):
        name = str(unique.get("name") or "")
        if django and name.endswith("_uniq"):
            parts = tuple(IndexPart(str(c)) for c in unique["column_names"])
            shape.indexes.append(IndexShape(name, parts, True, constraint=True))
            continue
        shape.uniques.append(tuple(unique["column_names"]))
        if unique.get("name"):
            shape.names[("unique", *unique["column_names"])] = str(unique["name"])
    for fk in insp.get_foreign_keys(table, schema=schema):
        if fk.get("name"):
            shape.names[("fk", *fk["constrained_columns"])] = str(fk["name"])
    for check in insp.get_check_constraints(table, schema=schema):
        shape.checks.append((str(check.get("name") or ""), str(check["sqltext"])))
    if dialect == "sqlite":
        _sqlite_shape(conn, table, pk, shape, django)
    else:
        _generic_shape(insp, table, schema, shape)
    if dialect == "postgresql":
        shape.partitioned = _partition_key(conn, table, schema)
        shape.enums = _enum_checks(conn, table, schema)
        shape.checks.extend(("", check) for check in shape.enums.values())
    return shape


#: the options after a SQLite CREATE TABLE's closing parenthesis
_TABLE_OPTIONS = re.compile(
    r"\)\s*((?:WITHOUT\s+ROWID|STRICT)(?:\s*,\s*(?:WITHOUT\s+ROWID|STRICT))*)\s*;?\s*$", re.I
)


def _enum_checks(conn: Connection, table: str, schema: str | None) -> dict[str, str]:
    """Column -> ``"mood" IN ('sad', 'ok')`` for each column of an enum type: the column is
    carried as text (its type is not), and the check keeps the values the enum allowed."""
    name = f'"{schema}"."{table}"' if schema else f'"{table}"'
    rows = conn.exec_driver_sql(
        "SELECT a.attname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) "
        "FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid "
        "WHERE a.attrelid = to_regclass(%(name)s) AND a.attnum > 0 AND NOT a.attisdropped "
        "GROUP BY a.attnum, a.attname ORDER BY a.attnum",
        {"name": name},
    ).all()
    checks = {}
    for column, labels in rows:
        listed = ", ".join("'" + str(label).replace("'", "''") + "'" for label in labels)
        checks[str(column)] = f'"{str(column).replace(chr(34), chr(34) * 2)}" IN ({listed})'
    return checks


def _partition_key(conn: Connection, table: str, schema: str | None) -> tuple[str, int] | None:
    """A partitioned table's partition key and partition count; None for any other."""
    name = f'"{schema}"."{table}"' if schema else f'"{table}"'
    row = conn.exec_driver_sql(
        "SELECT pg_get_partkeydef(c.oid), (SELECT count(*) FROM pg_inherits i "
        "WHERE i.inhparent = c.oid) FROM pg_class c WHERE c.oid = to_regclass(%(name)s) "
        "AND c.relkind = 'p'",
        {"name": name.replace('""', '"')},
    ).first()
    return (str(row[0]), int(row[1])) if row is not None else None


def _generic_shape(insp: Any, table: str, schema: str | None, shape: TableShape) -> None:
    """Foreign keys and indexes as the inspector gives them (exact on PostgreSQL)."""
    for fk in insp.get_foreign_keys(table, schema=schema):
        options = fk.get("options") or {}
        shape.foreign_keys.append(
            ForeignKeyShape(
                tuple(fk["constrained_columns"]),
                str(fk["referred_table"]),
                tuple(fk["referred_columns"]),
                _action(options.get("ondelete")),
                _action(options.get("onupdate")),
                bool(options.get("deferrable")),
                str(options.get("initially") or "").upper() == "DEFERRED",
            )
        )
    for index in insp.get_indexes(table, schema=schema):
        if index.get("duplicates_constraint"):
            continue
        sorting = index.get("column_sorting") or {}
        expressions = index.get("expressions") or index["column_names"]
        options = index.get("dialect_options") or {}
        ops = options.get("postgresql_ops") or {}
        parts = []
        for column, text in zip(index["column_names"], expressions, strict=True):
            key = column if column is not None else text
            desc, opclass = "desc" in sorting.get(key, ()), str(ops.get(key) or "")
            parts.append(IndexPart(str(text), desc, column is None, opclass))
        using = str(options.get("postgresql_using") or "").lower()
        shape.indexes.append(
            IndexShape(
                str(index["name"]),
                tuple(parts),
                bool(index["unique"]),
                options.get("postgresql_where"),
                using="" if using == "btree" else using,
            )
        )


def _sqlite_shape(
    conn: Connection, table: str, pk: tuple[str, ...], shape: TableShape, django: bool
) -> None:
    """Foreign keys and indexes from SQLite's PRAGMAs; the table's SQL for the rest."""
    sql = _master_sql(conn, "table", table)
    shape.conflicts = sqlite_conflicts(sql)
    tail = _TABLE_OPTIONS.search(sql)
    if tail:
        shape.options = tuple(" ".join(o.upper().split()) for o in tail.group(1).split(","))
    # Only the rowid's column is numbered by SQLite (not INT, WITHOUT ROWID, … DESC).
    if len(pk) == 1 and conn.exec_driver_sql(ROWID_COLUMN_SQL, (table,)).scalar() == pk[0]:
        shape.identity = pk[0]
        shape.autoincrement = bool(re.search(r"\bAUTOINCREMENT\b", sql, re.I))
    links: dict[int, list[tuple[Any, ...]]] = {}
    for row in conn.exec_driver_sql(
        'SELECT id, seq, "table", "from", "to", on_update, on_delete '
        "FROM pragma_foreign_key_list(?)",
        (table,),
    ):
        links.setdefault(int(row[0]), []).append(tuple(row))
    deferred = _deferred_references(sql)
    # SQLite numbers foreign keys last-declared first.
    for _, parts in sorted(links.items(), reverse=True):
        parts.sort(key=lambda part: int(part[1]))
        ref_table = str(parts[0][2])
        ref_columns = tuple(str(p[4]) for p in parts if p[4] is not None)
        if len(ref_columns) != len(parts):  # REFERENCES parent: the parent's primary key
            ref_columns = tuple(
                str(r[0])
                for r in conn.exec_driver_sql(
                    "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", (ref_table,)
                )
            )
        columns = tuple(str(p[3]) for p in parts)
        is_deferred = (columns, ref_table.casefold()) in deferred
        shape.foreign_keys.append(
            ForeignKeyShape(
                columns,
                ref_table,
                ref_columns,
                _action(parts[0][6]),
                _action(parts[0][5]),
                is_deferred,
                is_deferred,
            )
        )
    for _, name, unique, origin, partial in conn.exec_driver_sql(
        'SELECT seq, name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name',
        (table,),
    ):
        if origin == "u":
            # A UNIQUE constraint. SQLAlchemy misses a column's own one when its type has
            # parentheses (Django's "username" varchar(150) NOT NULL UNIQUE); its index does not.
            columns = tuple(
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,)
                )
            )
            named = {tuple(p.text for p in i.parts) for i in shape.indexes if i.constraint}
            kept = tuple(map(str, columns))
            if None not in columns and kept not in shape.uniques and kept not in named:
                shape.uniques.append(kept)
            continue
        if origin != "c":  # made by the PRIMARY KEY
            continue
        terms: list[IndexPart] = []
        index_sql = _master_sql(conn, "index", name)
        written = _index_terms(index_sql)
        for seqno, cid, column, desc in conn.exec_driver_sql(
            "SELECT seqno, cid, name, desc FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno",
            (name,),
        ):
            # cid -2: an expression; its text is only in the CREATE INDEX statement.
            if cid == -2:
                term = written[seqno] if len(written) > seqno else ""
                term = re.sub(r"\s+(ASC|DESC)\s*$", "", term, flags=re.I)
                terms.append(IndexPart(term, bool(desc), expression=True))
            else:
                terms.append(IndexPart(str(column), bool(desc)))
        where = _index_where(index_sql) if partial else None
        plain = not where and not any(t.desc or t.expression for t in terms)
        constraint = bool(unique) and plain and str(name).endswith("_uniq") and django
        shape.indexes.append(IndexShape(str(name), tuple(terms), bool(unique), where, constraint))


def _master_sql(conn: Connection, kind: str, name: str) -> str:
    found = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", (kind, name)
    ).scalar()
    return str(found or "")


_ACTIONS = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT"}


def _action(value: Any) -> str:
    """An ON DELETE/ON UPDATE action; "" for NO ACTION (the default everywhere)."""
    text = " ".join(str(value or "").upper().split())
    return text if text in _ACTIONS else ""


_IDENT = r'(?:"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|[A-Za-z_][\w$]*)'


def _unquote(name: str) -> str:
    if name[:1] in '"`[':
        return name[1:-1].replace('""', '"')
    return name


def _deferred_references(sql: str) -> set[tuple[tuple[str, ...], str]]:
    """(columns, referenced table) of the table's DEFERRABLE INITIALLY DEFERRED foreign
    keys, found in its CREATE TABLE text (no PRAGMA reports it)."""
    found: set[tuple[tuple[str, ...], str]] = set()
    pattern = re.compile(
        rf"FOREIGN\s+KEY\s*\(([^)]*)\)\s*REFERENCES\s+({_IDENT})\s*(?:\([^)]*\))?[^,]*?"
        r"DEFERRABLE\s+INITIALLY\s+DEFERRED",
        re.I | re.S,
    )
    for match in pattern.finditer(sql):
        columns = tuple(_unquote(c.strip()) for c in match.group(1).split(","))
        found.add((columns, _unquote(match.group(2)).casefold()))
    column_level = re.compile(
        rf"[(,]\s*({_IDENT})[^,(]*(?:\([^)]*\))?[^,]*?REFERENCES\s+({_IDENT})"
        r"\s*(?:\([^)]*\))?[^,]*?"
        r"DEFERRABLE\s+INITIALLY\s+DEFERRED",
        re.I | re.S,
    )
    # From the column list on: the table's own name must not pass for a column's.
    header = re.match(rf"\s*CREATE\s+(?:\w+\s+)*?TABLE\s+[^(]*?{_IDENT}\s*(?=\()", sql, re.I)
    for match in column_level.finditer(sql, header.end() if header else 0):
        if match.group(1).upper() not in ("FOREIGN", "CONSTRAINT"):
            found.add(((_unquote(match.group(1)),), _unquote(match.group(2)).casefold()))
    return found


def _index_terms(sql: str) -> list[str]:
    """The terms of a CREATE INDEX statement's column list, as written."""
    match = re.search(rf"\bON\s+{_IDENT}\s*\(", sql, re.I)
    if match is None:
        return []
    terms, depth, current = [], 0, ""
    quote_char = ""
    for char in sql[match.end() :]:
        if quote_char:
            quote_char = "" if char == quote_char else quote_char
        elif char in "'\"`":
            quote_char = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
            continue
        current += char
    terms.append(current.strip())
    return terms


def _index_where(sql: str) -> str | None:
    """The condition of a partial index's CREATE INDEX statement."""
    match = re.search(r"\)\s*WHERE\s+(.+?)\s*;?\s*$", sql, re.I | re.S)
    return match.group(1).strip() if match else None
