"""Target schemas: what a target table looks like, mapping SQL types to Ferry's logical types
and back, and building the DDL for tables Ferry has to create.

Order of precedence (the plan's contract): a table that already exists in the target (the
app's own schema) is mapped into as it is; a ``schema.sql`` named in the plan is applied where
tables are missing; only then does Ferry create a table from what the sources hold.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection, Dialect, Inspector
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import quoted_name

from ..capabilities import TargetCapabilities
from ..errors import PlanError
from ..values.logical import LogicalType
from .ddl import TargetShape, foreign_key_sql
from .sqlitenames import ROWID_COLUMN_SQL, SQLITE_KEPT, DeclaredInteger, sqlite_becomes_rowid
from .typemap import decimal_type, kept_sql_type

#: tables Ferry owns in the target's default schema (never reported as the app's): a SQLite
#: file's journal, and older versions' journals (:mod:`ferry.load.journal`)
FERRY_TABLES = ("ferry_runs", "ferry_rejects", "_ferry_runs", "_ferry_rejects")
#: in a SQLite file every table of Ferry's own starts so: the journal, the row prints of delta
#: runs (:mod:`ferry.load.rowprints`), the changesets of exact undo (:mod:`ferry.load.changesql`)
FERRY_PREFIX = "_ferry_"


def is_ferry_table(name: str) -> bool:
    """True for a table Ferry keeps for itself, never one of the app's (a source's tables,
    ``ferry init``'s matching and the verification leave these out)."""
    return name in FERRY_TABLES or name.startswith(FERRY_PREFIX)


@dataclass
class ColumnInfo:
    """One target column as Ferry needs to know it."""

    name: str
    type: LogicalType
    nullable: bool = True
    #: the database fills it when a row omits it (DEFAULT, identity, rowid alias)
    has_default: bool = False
    sql_type: str = ""
    #: the column's DEFAULT as the database gives it (SQL text), for ``ferry init``'s notes
    default_sql: str | None = None
    #: the source column's collation a created column keeps (``NOCASE``; ``citext`` on
    #: PostgreSQL), settled by :func:`ferry.shape.typemap.settle_collations`
    collation: str = ""
    #: the database computes it from the row (``GENERATED ALWAYS AS``): never written
    generated: bool = False


@dataclass
class ForeignKey:
    """``columns`` of this table reference ``ref_columns`` of ``ref_table``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass
class TableInfo:
    """A target table: its columns in order, primary key and foreign keys."""

    name: str
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    #: True when Ferry creates it in this run (so new columns may be added as data shows them)
    created: bool = False
    #: the target's SQL dialect (``sqlite``, ``postgresql``; empty when not reflected)
    dialect: str = ""
    #: a created table's defaults, constraints and indexes from a database source
    shape: TargetShape | None = None
    #: the ``CREATE TABLE`` this run created it with (a load apart runs it again elsewhere)
    ddl: str = ""
    #: column sets the target holds unique (constraints, unique indexes); read by ``ferry init``
    unique: list[tuple[str, ...]] = field(default_factory=list)
    #: the target's CHECK constraints as SQL text; read by ``ferry init``
    checks: list[str] = field(default_factory=list)


def logical_type_of(sql_type: Any, dialect: str = "") -> LogicalType:
    """Ferry's logical type for a reflected SQLAlchemy type (text for anything unknown).
    PostgreSQL's ``timestamp without time zone`` is a ``datetime`` (a wall time); a SQLite
    ``DATETIME`` names no zone either way and stays a ``timestamp``."""
    if isinstance(sql_type, sqltypes.Boolean):
        return "boolean"
    if isinstance(sql_type, sqltypes.Integer):
        return "integer"
    # SQLAlchemy 2.1's Float (FLOAT, REAL, DOUBLE) is no longer a Numeric; NUMERIC and
    # DECIMAL are exact decimals.
    if isinstance(sql_type, sqltypes.Float):
        return "float"
    if isinstance(sql_type, sqltypes.Numeric):
        return "decimal"
    if isinstance(sql_type, sqltypes.DateTime):
        naive = dialect == "postgresql" and not sql_type.timezone
        return "datetime" if naive else "timestamp"
    if isinstance(sql_type, sqltypes.Date):
        return "date"
    if isinstance(sql_type, sqltypes.JSON | sqltypes.ARRAY):
        return "json"  # a PostgreSQL array's values are lists, as a JSON column's may be
    if isinstance(sql_type, sqltypes.LargeBinary):
        return "bytes"
    return "text"


def sqlalchemy_type(
    type_: LogicalType, binary_json: bool, declared: str = "", sqlite: bool = False
) -> Any:
    """The column type Ferry creates for a logical type; JSON as ``jsonb`` where the target's
    capabilities say ``binary_json``; a decimal keeps the precision and scale of its
    ``declared`` source type (``DECIMAL(10,2)``), an ``any`` column that type itself, and on
    a ``sqlite`` target a kept SQLite name (:data:`SQLITE_KEPT`) is written as it is."""
    if type_ == "decimal":
        return decimal_type(declared)
    kept = type_ in ("text", "integer") or (type_ == "json" and declared.endswith("[]"))
    # a SQLite name (an integer's kept between two PostgreSQL databases is theirs: not here)
    verbatim = type_ == "any" or (bool(declared) and sqlite and type_ in SQLITE_KEPT)
    if verbatim and type_ == "integer":
        return DeclaredInteger(declared)
    if (declared and kept) or verbatim:  # kept as declared (typemap.kept_type)
        return kept_sql_type(declared, as_stored=verbatim)
    if type_ == "json":
        if binary_json:  # PostgreSQL only: its dialect loads for a PostgreSQL target alone
            from sqlalchemy.dialects.postgresql import JSONB

            return JSONB()
        return sqltypes.JSON()
    return {
        "integer": BigInteger(),
        "float": Float(precision=53),
        "boolean": Boolean(),
        "text": Text(),
        "timestamp": DateTime(timezone=True),
        "datetime": DateTime(timezone=False),
        "date": Date(),
        "bytes": LargeBinary(),
    }[type_]


def reflect_tables(inspector: Inspector) -> dict[str, TableInfo]:
    """Every table of the target's default schema (Ferry's own included)."""
    dialect = inspector.dialect.name
    tables: dict[str, TableInfo] = {}
    for name in inspector.get_table_names():
        pk = tuple(inspector.get_pk_constraint(name).get("constrained_columns") or ())
        info = TableInfo(name=name, primary_key=pk, dialect=dialect)
        for column in inspector.get_columns(name):
            col_type = column["type"]
            logical = logical_type_of(col_type, dialect)
            computed = bool(column.get("computed"))
            generated = (
                column.get("default") is not None or bool(column.get("identity")) or computed
            )
            # SQLite's INTEGER PRIMARY KEY is the rowid: filled in when omitted. Only the
            # rowid's column is (BIGINT, INT, WITHOUT ROWID, INTEGER PRIMARY KEY DESC are not).
            if dialect == "sqlite" and pk == (column["name"],):
                generated = generated or _sqlite_rowid_column(inspector, name) == pk[0]
            try:
                sql_type = col_type.compile(dialect=inspector.dialect)
            except Exception:  # an exotic type still maps to text
                sql_type = str(col_type)
            info.columns[column["name"]] = ColumnInfo(
                name=column["name"],
                type=logical,
                nullable=bool(column.get("nullable", True)) and column["name"] not in pk,
                has_default=generated,
                sql_type=sql_type,
                default_sql=column.get("default"),
                generated=computed,
            )
        for fk in inspector.get_foreign_keys(name):
            info.foreign_keys.append(
                ForeignKey(
                    columns=tuple(fk["constrained_columns"]),
                    ref_table=fk["referred_table"],
                    ref_columns=tuple(fk["referred_columns"]),
                )
            )
        tables[name] = info
    return tables


def _sqlite_rowid_column(inspector: Inspector, table: str) -> str | None:
    """The column a SQLite table's rowid goes by, None without one."""
    bind = inspector.bind
    if not isinstance(bind, Connection):
        return None
    found = bind.exec_driver_sql(ROWID_COLUMN_SQL, (table,)).scalar()
    return None if found is None else str(found)


def create_table_ddl(info: TableInfo, dialect: Dialect, capabilities: TargetCapabilities) -> str:
    """``CREATE TABLE`` for a table Ferry infers, compiled for the target's dialect.

    Every name is quoted: a dialect's list of reserved words is not the database's (SQLite
    reads ``nothing`` or ``window`` as keywords that SQLAlchemy leaves bare). A table with a
    source's shape gets its defaults, NOT NULL, identity, UNIQUE and CHECK constraints here;
    its foreign keys too on SQLite (on PostgreSQL they come after the load).
    """
    metadata = MetaData()
    shape = info.shape
    columns: list[Any] = [
        _column(col, info, dialect, capabilities) for col in info.columns.values()
    ]
    constraints: list[Any] = []
    given = shape.names if shape is not None else {}
    conflicts = shape.conflicts if shape is not None else {}
    if info.primary_key:
        constraints.append(
            PrimaryKeyConstraint(
                *[_quoted(c) for c in info.primary_key],
                name=_named(given.get(("pk",))),
                sqlite_on_conflict=conflicts.get(("pk",)),
            )
        )
    if shape is not None:
        for unique in shape.uniques:
            name = _named(given.get(("unique", *unique)))
            constraints.append(
                UniqueConstraint(
                    *[_quoted(c) for c in unique],
                    name=name,
                    sqlite_on_conflict=conflicts.get(("unique", *unique)),
                )
            )
        for check in shape.checks:
            constraints.append(
                CheckConstraint(text(check), name=_named(given.get(("check", check))))
            )
    # Referenced tables must be known to the MetaData for the FK to compile.
    referenced: dict[str, list[str]] = {}
    for fk in info.foreign_keys:
        if fk.ref_table != info.name:
            names = referenced.setdefault(fk.ref_table, [])
            names.extend(c for c in fk.ref_columns if c not in names)
    refs = {
        name: Table(_quoted(name), metadata, *[Column(_quoted(c), Text()) for c in names])
        for name, names in referenced.items()
    }
    options: dict[str, Any] = (
        {"sqlite_autoincrement": True} if shape is not None and shape.autoincrement else {}
    )
    table = Table(_quoted(info.name), metadata, *columns, *constraints, **options)
    for fk in info.foreign_keys:
        ref = table if fk.ref_table == info.name else refs[fk.ref_table]
        table.append_constraint(
            ForeignKeyConstraint(
                [_quoted(c) for c in fk.columns], [ref.c[c] for c in fk.ref_columns]
            )
        )
    ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
    if shape is not None and shape.foreign_keys and dialect.name == "sqlite":
        # SQLAlchemy's DDL has no MATCH-free composite DEFERRABLE for SQLite: written here.
        extra = "".join(f",\n\t{foreign_key_sql(fk)}" for fk in shape.foreign_keys)
        ddl = ddl[: ddl.rindex(")")].rstrip() + extra + "\n)"
    return ddl


def _column(
    col: ColumnInfo, info: TableInfo, dialect: Dialect, capabilities: TargetCapabilities
) -> Any:
    """A column of a created table, with its source's default and identity if any."""
    shape = info.shape
    sqlite = dialect.name == "sqlite"
    declared = col.sql_type
    rowid = shape.identity if shape is not None else None
    if sqlite and sqlite_becomes_rowid(declared, col.name, info.primary_key, rowid):
        declared = ""  # BIGINT: an ordinary column, as the source's
    type_ = _collated(col, capabilities) or sqlalchemy_type(
        col.type, capabilities.binary_json, declared, sqlite
    )
    if shape is None:
        return Column(_quoted(col.name), type_, nullable=col.nullable, autoincrement=False)
    extra: list[Any] = []
    nullable = col.nullable and col.name not in shape.not_null
    if shape.identity == col.name:
        if sqlite:  # INTEGER PRIMARY KEY: the rowid, numbered by SQLite (the source's spelling)
            type_ = type_ if declared.strip().upper() == "INTEGER" else Integer()
            # NOT NULL means nothing on a rowid (a NULL gets the next number) but stops
            # SQLite's record-for-record copy from a source that leaves it out
            # (ferry.targets.sqlitecopy): written only where the source writes it.
            nullable = col.name not in shape.not_null
        else:
            extra.append(Identity())
    computed = shape.generated.get(col.name)
    if computed is not None:
        extra.append(Computed(text(computed[0]), persisted=computed[1]))
    default = shape.defaults.get(col.name)
    return Column(
        _quoted(col.name),
        type_,
        *extra,
        nullable=nullable,
        sqlite_on_conflict_not_null=shape.conflicts.get(("not null", col.name)),
        server_default=text(default) if default is not None else None,
        # Identity() numbers the column on PostgreSQL; SQLite's rowid needs "auto" to stay bare.
        autoincrement="auto" if shape.identity == col.name else False,
    )


def _collated(col: ColumnInfo, capabilities: TargetCapabilities) -> Any:
    """The type of a text column that keeps its collation (None: no collation): ``citext``
    where :func:`ferry.shape.typemap.settle_collations` chose it, else SQLite's own."""
    if col.type != "text" or not col.collation:
        return None
    if capabilities.citext:
        from sqlalchemy.dialects.postgresql import CITEXT  # PostgreSQL only (see above)

        return CITEXT() if col.collation == "citext" else None
    return Text(collation=col.collation) if capabilities.sqlite_collations else None


def _quoted(name: str) -> quoted_name:
    return quoted_name(name, quote=True)


def _named(name: str | None) -> quoted_name | None:
    """A constraint's name as the source gave it (None: the database names it)."""
    return _quoted(name) if name else None


def check_names(info: TableInfo, max_bytes: int) -> None:
    """Refuse table and column names the target cannot hold as they are (a PlanError).

    Names are always quoted, so keywords and quotes are fine; but an empty name or a NUL
    character cannot be stored, and a target with a limit (``max_identifier_bytes`` of its
    capabilities, 0: none; PostgreSQL's 63) would cut a longer name short, so the table it
    creates would not be the one the plan names.
    """
    for kind, name in [("table", info.name)] + [("column", c) for c in info.columns]:
        where = f"table {info.name!r}" if kind == "table" else f"column {name!r} of {info.name!r}"
        if not name.strip():
            problem = "is empty"
        elif "\x00" in name:
            problem = "holds a NUL character"
        elif max_bytes and len(name.encode()) > max_bytes:
            problem = f"is longer than the target's {max_bytes} bytes"
        else:
            continue
        if kind == "table":
            hint = "Name the table differently in the plan (`name` of that [[tables]] entry)."
        else:
            hint = _column_name_hint(info.name, name, max_bytes)
        raise PlanError(f"the name of {where} {problem}", hint=hint)


def _column_name_hint(table: str, name: str, max_bytes: int) -> str:
    """How to give a source field a column name the target can hold: literal plan lines."""
    limit = max_bytes or 60
    column = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")[:limit].strip("_") or "unnamed_field"
    field = json.dumps(name, ensure_ascii=False)  # also a TOML string
    return (
        f"Add `columns.{column} = {{ from = {field} }}` to the [[tables]] entry of "
        f"{table!r} (before any [tables.…] section of it) to carry the field in column "
        f"{column!r}, or add {field} to its `ignore` list to leave the field out."
    )


def dependency_order(names: list[str], tables: dict[str, TableInfo]) -> list[str]:
    """``names`` sorted so a table comes after the tables its foreign keys reference."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        info = tables.get(name)
        for fk in info.foreign_keys if info else []:
            if fk.ref_table in names and fk.ref_table != name:
                visit(fk.ref_table)
        visiting.discard(name)
        order.append(name)

    for name in names:
        visit(name)
    return order
