"""Loading a SQLite source table into an empty target table with SQLite doing the mapping.

When every column of a table spec is a plain copy of a SQLite source column
(:mod:`ferry.native.cells` can map its type), or a text column with only text ``ops``, SQLite
computes the mapped rows itself while it reads them, in C and without holding Python's GIL:

- into PostgreSQL, a few MiB per chunk, as typed values psycopg's C formatter writes as binary
  COPY (:meth:`NativeLoad.binary_sql`) where every column's type allows, else as ready COPY
  CSV text (:meth:`NativeLoad.csv_sql`); the server checks the text either way;
- into a SQLite target, as ``INSERT INTO … SELECT`` from the source file attached to the
  target connection (:meth:`NativeLoad.insert_sql`): no row passes through Python at all.

A row with any value the SQL does not map (a number in a text column, a timestamp spelled
another way, a NULL key …) is left out of that SQL and goes through the Python mapping as
before (:meth:`NativeLoad.flagged_sql`), so values, rejects and warnings are those of
:class:`ferry.values.transform.RowMapper`. Rows are read in chunks of rowids (progress, cancel).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from ..plan import TableSpec
from ..shape.identifiers import quote
from ..shape.schema import TableInfo
from ..sources import SourceTable
from ..values.intervals import interval_column
from ..values.logical import LogicalType
from ..values.transform import PLAIN_FIELDS, RowMapper
from .cells import SQL_TYPES, SqlCell, plain_cell, text_ops_cell
from .decimals import decimal_cell

#: PostgreSQL column types that hold exactly the double SQLite prints with 17 digits
_PG_DOUBLE = {"DOUBLE PRECISION", "FLOAT8", "FLOAT", "DOUBLE_PRECISION"}

#: PostgreSQL column types (as reflected, upper case, length dropped) a native chunk can send
#: in binary COPY, by logical type, with the psycopg binary dumper that writes the value
#: :meth:`NativeLoad.binary_sql` gives: text as its UTF-8 bytes (the server checks them, as
#: for CSV), a timestamp as microseconds since 2000 (PostgreSQL's own int64 form)
_PG_BINARY: dict[str, dict[str, str]] = {
    "integer": {"BIGINT": "int8", "INT8": "int8"},
    "text": {"TEXT": "bytea", "VARCHAR": "bytea", "CHARACTER VARYING": "bytea"},
    "float": dict.fromkeys(_PG_DOUBLE, "float8"),
    "boolean": {"BOOLEAN": "bool"},
    "bytes": {"BYTEA": "bytea"},
    "timestamp": {
        "TIMESTAMP WITH TIME ZONE": "int8",
        "TIMESTAMP WITHOUT TIME ZONE": "int8",
        "TIMESTAMPTZ": "int8",
        "TIMESTAMP": "int8",
    },
    # the wall time's microseconds: a ``timestamp without time zone`` keeps them as they are
    "datetime": {"TIMESTAMP WITHOUT TIME ZONE": "int8", "TIMESTAMP": "int8"},
}


@dataclass(frozen=True)
class _NativeColumn:
    name: str  # target column
    field: str  # source column
    type: LogicalType
    cell: SqlCell
    #: a NULL goes to Python (key columns: rejected; skip_when_null: skipped; a ``default``)
    required: bool
    binary: str | None = None  # psycopg dumper for binary COPY (None: CSV only)


@dataclass(frozen=True)
class NativeLoad:
    """The SQL for one table spec fed by one SQLite source table (``origin``)."""

    origin: str
    columns: list[_NativeColumn]

    @property
    def target_columns(self) -> list[str]:
        """Target columns in the order of the values the SQL gives."""
        return [c.name for c in self.columns]

    @property
    def source_columns(self) -> list[str]:
        """The source columns the SQL reads."""
        return list(dict.fromkeys(c.field for c in self.columns))

    @property
    def binary_types(self) -> list[str] | None:
        """psycopg type names of a binary COPY of :meth:`binary_sql`'s rows, or None when a
        column's type takes CSV only."""
        types = [c.binary for c in self.columns]
        return None if None in types else [t for t in types if t is not None]

    def row_ok(self) -> str:
        """True for a row SQLite maps whole."""
        parts = []
        for column in self.columns:
            if column.required:
                parts.append(f"{quote(column.field)} IS NOT NULL")
            parts.append(column.cell.check)
        return " AND ".join(f"({p})" for p in parts) or "1"

    def csv_sql(self) -> str:
        """One chunk as COPY CSV text: ``(text, rows, rows mapped, last rowid)`` for at most
        ``?`` rows after rowid ``?``, in rowid order; rows SQLite does not map are left out
        of the text (they are read again by :meth:`flagged_sql`)."""
        fields = []
        for column in self.columns:
            x = quote(column.field)
            null = "NULL" if column.required else "''"
            fields.append(
                f"CASE WHEN {x} IS NULL THEN {null} WHEN {column.cell.check} "
                f"THEN {_csv_field(column.type, column.cell.value)} END"
            )
        line = " || ',' || ".join(fields)
        # ORDER BY keeps SQLite from flattening the subquery (which would compute each line
        # twice, once per aggregate); group_concat keeps the rowid order and skips NULLs; as
        # a BLOB the text reaches Python as the UTF-8 bytes COPY sends (no decode, no encode).
        return (
            "SELECT CAST(group_concat(line, char(10)) AS BLOB), count(*), count(line), max(r) "
            f"FROM (SELECT {line} AS line, rowid AS r FROM {quote(self.origin)} "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?)"
        )

    def insert_sql(self, target_table: str, schema: str) -> str:
        """``INSERT … SELECT`` of one chunk of rowids ``(?, ?]`` from the source attached as
        ``schema``, the rows SQLite maps whole only."""
        names = ", ".join(quote(c) for c in self.target_columns)
        values = ", ".join(c.cell.value for c in self.columns)
        return (
            f"INSERT INTO main.{quote(target_table)} ({names}) SELECT {values} "
            f"FROM {quote(schema)}.{quote(self.origin)} "
            f"WHERE rowid > ? AND rowid <= ? AND {self.row_ok()} ORDER BY rowid"
        )

    def binary_sql(self) -> str:
        """The rows of chunk ``(?, ?]`` SQLite maps whole, as values for binary COPY (text as
        bytes, timestamps as microseconds since 2000), in rowid order."""
        values = ", ".join(_binary_value(c) for c in self.columns)
        return (
            f"SELECT {values} FROM {quote(self.origin)} "
            f"WHERE rowid > ? AND rowid <= ? AND {self.row_ok()} ORDER BY rowid"
        )

    def flagged_sql(self) -> str:
        """The source rows of a chunk ``(?, ?]`` SQLite does not map (for Python)."""
        names = ", ".join(quote(c) for c in self.source_columns)
        return (
            f"SELECT {names} FROM {quote(self.origin)} "
            f"WHERE rowid > ? AND rowid <= ? AND NOT ({self.row_ok()}) ORDER BY rowid"
        )


def _binary_value(column: _NativeColumn) -> str:
    if column.type in ("timestamp", "datetime"):
        return column.cell.micros
    if column.type == "text":
        return f"CAST({column.cell.value} AS BLOB)"  # the UTF-8 bytes: no decode, no encode
    return column.cell.value


def _pg_binary(type_: LogicalType, sql_type: str) -> str | None:
    name = sql_type.upper().split("(", 1)[0].strip()
    return _PG_BINARY.get(type_, {}).get(name)


def _csv_field(type_: LogicalType, value: str) -> str:
    if type_ == "text":
        return f"'\"' || replace({value}, '\"', '\"\"') || '\"'"
    if type_ == "float":
        return f"printf('%!.17g', {value})"
    if type_ == "boolean":
        return f"CASE {value} WHEN 1 THEN 't' ELSE 'f' END"
    if type_ == "bytes":
        return f"'\\x' || hex({value})"
    if type_ == "timestamp":
        return f"{value} || '+00'"
    if type_ == "datetime":
        return value
    return f"CAST({value} AS TEXT)"


def native_load(
    spec: TableSpec,
    info: TableInfo,
    mapper: RowMapper,
    source: SourceTable,
    binary_copy: bool,
    zone: bool,
    required: Collection[str] = (),
) -> NativeLoad | None:
    """The native load of ``spec`` from SQLite table ``source``, or None when a column is not a
    plain copy (or a text column's ``ops``) SQLite can map (then Python maps every row, as
    always). ``binary_copy``: the
    rows go to a server by COPY (PostgreSQL), binary where a column's type allows, and a
    float must land in a double column to keep SQLite's 17 digits."""
    if spec.hook or not source.origin:
        return None
    columns = []
    for column in mapper.mapped_columns():
        spec_col = column.spec
        field = spec_col.from_
        if field is None or column.steps is not None:
            return None
        ops = list(spec_col.ops)
        # a ``default`` fills a NULL: those rows go to Python, the others are plain copies
        # (MLflow's experiments.workspace; a Python-mapped parent made its children wait)
        fields = PLAIN_FIELDS | {"default"} | ({"ops"} if column.type == "text" else set())
        if not spec_col.model_fields_set <= fields or column.name in mapper.integer_keys:
            return None
        target = info.columns[column.name]
        if target.sql_type.upper() == "UUID":
            return None  # Python writes PostgreSQL's spelling (ferry.values.uuidtext)
        if interval_column(target.sql_type):
            return None  # Python reads SQLAlchemy's durations (ferry.values.intervals)
        # A cast to another type than the column's: Python's adapters see another type.
        if column.type != target.type or column.type not in SQL_TYPES | {"decimal"}:
            return None
        # SQLite's reader parses declared-JSON text: Python would see a value, not the text.
        if source.columns.get(field) == "json":
            return None
        if binary_copy and column.type == "float" and target.sql_type.upper() not in _PG_DOUBLE:
            return None
        cell = (
            text_ops_cell(field, ops)
            if ops
            else decimal_cell(field)
            if column.type == "decimal"
            else plain_cell(column.type, field, zone)
        )
        if cell is None:
            return None
        needed = (
            column.name in mapper.key or column.name in required or spec_col.default is not None
        )
        binary = _pg_binary(column.type, target.sql_type) if binary_copy else None
        columns.append(_NativeColumn(column.name, field, column.type, cell, needed, binary))
    if not columns:
        return None
    return NativeLoad(source.origin, columns)


def keep_source_text(load: NativeLoad, columns: Collection[str]) -> NativeLoad:
    """``load`` copying the timestamp ``columns`` as the source spells them (into a SQLite
    target, which keeps an app's own text byte for byte); the checks are unchanged, so a
    value Python must map still goes to Python."""
    return replace(
        load,
        columns=[
            replace(c, cell=replace(c.cell, value=quote(c.field))) if c.name in columns else c
            for c in load.columns
        ],
    )


__all__ = ["NativeLoad", "keep_source_text", "native_load"]
