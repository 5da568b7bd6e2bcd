"""The SQL each side of verification's fast path (:mod:`ferry.verify.fast`) runs to write its
rows' bytes: SQLite writes a source or target row as the exact bytes
:func:`ferry.verify.checksum.digest_bytes` gives (Python sums their MD5s), PostgreSQL sums
the rows' MD5s itself (a target whose capabilities say ``sums_row_hashes``). Pure functions
returning SQL text, and the row shape both sides share (:class:`Cell`)."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from ..native.cells import plain_cell
from ..shape.identifiers import quote
from ..values.logical import LogicalType

MOD = 1 << 128
#: PostgreSQL types whose text the target side writes exactly, by logical type
_PG_TYPES: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "varchar"}),
    "integer": frozenset({"int2", "int4", "int8"}),
    "float": frozenset({"float8"}),
    "boolean": frozenset({"bool"}),
    "timestamp": frozenset({"timestamptz", "timestamp"}),
    "datetime": frozenset({"timestamp"}),
    "bytes": frozenset({"bytea"}),
}
#: arguments per SQLite printf call (SQLite allows 127 per function by default)
_PRINTF_ARGS = 120
#: arguments per PostgreSQL concat call (functions take at most 100)
_CONCAT_ARGS = 90


@dataclass(frozen=True)
class Fingerprint:
    """A side's row count and checksum (the sum of its rows' digests modulo 2**128)."""

    rows: int
    checksum: int


@dataclass(frozen=True)
class Cell:
    """One column of the canonical row: the key columns first, then the compared ones."""

    column: str
    #: the source field it is mapped from
    field: str
    type: LogicalType
    #: NULL is not written but refused (a key, or a ``skip_when_null`` column)
    required: bool


def pg_type_problem(cells: list[Cell], types: dict[str, str]) -> str | None:
    """Why PostgreSQL column types (``types``: column to ``typname``) rule the fast path out."""
    for cell in cells:
        typname = types.get(cell.column, "")
        if typname not in _PG_TYPES[cell.type]:
            return f"column {cell.column} is PostgreSQL {typname or 'unknown'}"
    return None


# -- SQL: SQLite ------------------------------------------------------------------------------


def _literal(text_: str) -> str:
    return "'" + text_.replace("'", "''") + "'"


@dataclass(frozen=True)
class _SqliteValue:
    #: holds when SQL writes the value exactly, NULL included (None: ``value`` is NULL for
    #: a value SQL cannot write, which makes the whole row NULL)
    check: str | None
    #: the value's text in hash form (NULL for NULL)
    value: str
    #: its length in bytes (None: always ``width``)
    size: str | None
    width: int = 0


def _utc_shapes(x: str, naive_utc: bool) -> str:
    """ISO text already in UTC with a six-digit fraction: ``...+00:00``, ``...-00:00``, ``...Z``
    (and naive text when naive means UTC). Its first 26 characters, with ``T``, are the hash
    form whenever Python reads the value; when Python does not, they are no time the target
    side writes (it writes valid ASCII times only), so such a row never matches."""
    # substr(x, 27) is the whole suffix only when x has 32 (or 27) characters.
    utc = f"substr({x}, 27) IN ('+00:00', '-00:00', 'Z')"
    if naive_utc:
        utc = f"({utc} OR length({x}) = 26)"
    return f"typeof({x}) = 'text' AND {utc}"


#: ISO text with ``T`` and a six-digit fraction, in digits: already the hash form
_ISO_DIGITS = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]."
    "[0-9][0-9][0-9][0-9][0-9][0-9]"
)


def _plain_utc(x: str, naive_utc: bool) -> str:
    """The commonest of :func:`_utc_shapes`: its first 26 characters are digits with ``T``,
    so they are written as they stand (about half the cost of its ``substr ... IN`` test and
    ``replace``, which give the same bytes for such text)."""
    shapes = [f"{_ISO_DIGITS}[+-]00:00", f"{_ISO_DIGITS}Z", *([_ISO_DIGITS] if naive_utc else [])]
    globs = " OR ".join(f"{x} GLOB {_literal(shape)}" for shape in shapes)
    return f"typeof({x}) = 'text' AND ({globs})"


def _sqlite_value(cell: Cell, x: str, *, source: bool, zone: tzinfo | None) -> _SqliteValue:
    """How SQLite writes one cell; on the target side it reads what the database holds."""
    type_ = cell.type
    if type_ == "float" and not source:
        # Python reads an integer in a float column as that float.
        return _SqliteValue(
            f"typeof({x}) IN ('real', 'integer', 'null')", f"ferry_f64({x})", None, 16
        )
    name = cell.field if source else cell.column
    # Naive source times in UTC are UTC as they stand, as on the target side.
    naive_utc = zone is None or zone is UTC
    if type_ == "datetime" and (naive_utc or not source):
        # in UTC an offset's wall time is the UTC time, as the mapper makes it
        type_ = "timestamp"
    mapped = plain_cell(type_, name, not naive_utc if source else False)
    assert mapped is not None  # SQL_TYPES
    check, v = mapped.check, mapped.value
    if type_ == "text":
        return _SqliteValue(check, x, f"length(CAST({x} AS BLOB))")
    if type_ == "integer":
        return _SqliteValue(check, x, f"length({x})")
    if type_ == "float":
        return _SqliteValue(None, f"CASE WHEN {check} THEN ferry_f64({x}) END", None, 16)
    if type_ == "boolean":
        return _SqliteValue(
            check, f"CASE {x} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END", f"(5 - {x})"
        )
    if type_ == "bytes":
        return _SqliteValue(check, f"lower(hex({x}))", f"(2 * length({x}))")
    # timestamp: UTC as 26 characters with Python's "T"; the usual UTC spellings of a source
    # directly, anything else (and the target side always) through plain_cell's checks
    exact = f"WHEN {check} THEN replace({v}, ' ', 'T')"
    if type_ == "datetime":  # a wall time: naive text as it stands, never an offset's
        plain = f"typeof({x}) = 'text' AND {x} GLOB {_literal(_ISO_DIGITS)}"
        value = f"CASE WHEN {plain} THEN {x} {exact} END" if source else f"CASE {exact} END"
    elif source:
        plain, utc = _plain_utc(x, naive_utc), _utc_shapes(x, naive_utc)
        value = (
            f"CASE WHEN {plain} THEN substr({x}, 1, 26) "
            f"WHEN {utc} THEN replace(substr({x}, 1, 26), ' ', 'T') {exact} END"
        )
    else:
        value = f"CASE {exact} END"
    return _SqliteValue(None, value, None, 26)


@dataclass(frozen=True)
class SqliteColumns:
    """What a SQLite table's declared schema promises about its columns."""

    #: declared NOT NULL
    not_null: frozenset[str] = frozenset()
    #: TEXT affinity: only text, blobs and NULL (SQLite stores numbers there as text)
    text_only: frozenset[str] = frozenset()

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> SqliteColumns:
        """From ``(name, declared type, notnull)`` rows of ``pragma_table_info``."""
        not_null = {str(name) for name, _, notnull in rows if notnull}
        text_only = {str(name) for name, declared, _ in rows if _text_affinity(str(declared))}
        return cls(frozenset(not_null), frozenset(text_only))


#: the query :meth:`SqliteColumns.of` reads
TABLE_INFO = 'SELECT name, type, "notnull" FROM pragma_table_info(?)'


def _text_affinity(declared: str) -> bool:
    word = declared.upper()
    return "INT" not in word and any(part in word for part in ("CHAR", "CLOB", "TEXT"))


def sqlite_row_sql(
    table: str,
    cells: list[Cell],
    *,
    source: bool,
    zone: tzinfo | None = None,
    columns: SqliteColumns | None = None,
) -> str:
    """Per row of ``table``: the bytes its row digest hashes (:func:`digest_bytes`), or NULL
    when SQL cannot write the row exactly as Python does (then the general path decides).
    The lengths come from one ``printf``, the values are concatenated with ``||`` (which keeps
    a NUL character, where ``printf`` would stop)."""
    columns = columns or SqliteColumns()
    checks: list[str] = []
    formats: list[list[str]] = [[]]
    args: list[list[str]] = [[]]
    values: list[str] = []
    trailing_nulls = False
    for cell in cells:
        name = cell.field if source else cell.column
        x = quote(name)
        spec = _sqlite_value(cell, x, source=source, zone=zone)
        if spec.check is not None and not (cell.type == "text" and name in columns.text_only):
            # (a blob in a text column is its UTF-8 text to Python, and these bytes to SQL)
            checks.append(f"({spec.check})")
        if cell.required:
            checks.append(f"{x} IS NOT NULL")
        never_null = cell.required or name in columns.not_null
        if spec.size is None:
            # A value SQL cannot write is NULL: the row becomes NULL (so goes to Python).
            size_format, size_args = (
                (str(spec.width), [])
                if never_null
                else (
                    "%s",
                    [f"CASE WHEN {x} IS NOT NULL THEN {spec.width} END"],
                )
            )
            value = spec.value if never_null else f"iif({x} IS NULL, '', {spec.value})"
        else:
            size_format, size_args = ("%d" if never_null else "%s"), [spec.size]
            value = spec.value if never_null else f"ifnull({spec.value}, '')"
        trailing_nulls = not never_null
        if len(args[-1]) + len(size_args) > _PRINTF_ARGS:
            formats.append([])
            args.append([])
        formats[-1].append(size_format)
        args[-1].extend(size_args)
        values.append(value)
    sizes = " || ',' || ".join(
        f"printf({_literal(','.join(fmt))}{''.join(', ' + a for a in arg)})"
        for fmt, arg in zip(formats, args, strict=True)
        if fmt
    )
    if trailing_nulls:
        sizes = f"rtrim({sizes}, ',')"
    written = " || ".join([sizes or "''", "';'", *values])
    row = f"CASE WHEN {' AND '.join(checks)} THEN {written} END" if checks else written
    return f"SELECT CAST({row} AS BLOB) FROM {quote(table)}"


def f64(value: Any) -> str | None:
    """``ferry_f64``: a number's IEEE 754 double bits as 16 hex digits."""
    return None if value is None else struct.pack(">d", value).hex()


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the SQLite side's queries call."""
    conn.create_function("ferry_f64", 1, f64, deterministic=True)


# -- SQL: PostgreSQL -------------------------------------------------------------------------

_UTC_TEXT = "'YYYY-MM-DD\"T\"HH24:MI:SS.US'"


def _pg_cell(cell: Cell, typname: str) -> tuple[str, str, str | None]:
    """One cell's length in bytes and value in hash form (both NULL for NULL), and the
    condition under which it is exact (None: always)."""
    x = quote(cell.column)
    if cell.type == "text":
        return f"octet_length({x})", x, None
    if cell.type == "integer":
        return f"octet_length({x}::text)", f"{x}::text", None
    if cell.type == "float":
        return f"CASE WHEN {x} IS NOT NULL THEN 16 END", f"encode(float8send({x}), 'hex')", None
    if cell.type == "boolean":
        return (
            f"CASE WHEN {x} THEN 4 WHEN NOT {x} THEN 5 END",
            f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END",
            None,
        )
    if cell.type == "bytes":
        return f"2 * octet_length({x})", f"encode({x}, 'hex')", None
    # timestamp, datetime: four-digit years only (Python's isoformat; to_char's YYYY has no era)
    if typname == "timestamptz":
        moment, low, high = (
            f"{x} AT TIME ZONE 'UTC'",
            "'1000-01-01 00:00:00+00'",
            "'10000-01-01 00:00:00+00'",
        )
    else:
        moment, low, high = x, "'1000-01-01 00:00:00'", "'10000-01-01 00:00:00'"
    exact = f"({x} IS NULL OR ({x} >= {low} AND {x} < {high}))"
    return f"CASE WHEN {x} IS NOT NULL THEN 26 END", f"to_char({moment}, {_UTC_TEXT})", exact


def _pg_chunks(function: str, parts: list[str], glue: str) -> str:
    """``function(parts...)`` within PostgreSQL's 100 arguments a call, chunks joined by
    ``glue``."""
    return glue.join(
        f"{function}({', '.join(parts[i : i + _CONCAT_ARGS])})"
        for i in range(0, len(parts), _CONCAT_ARGS)
    )


def pg_sql(table: str, cells: list[Cell], types: dict[str, str]) -> str:
    """One row: the table's row count, how many rows SQL wrote exactly, and the sums of the
    rows' MD5 digests (:func:`digest_bytes`) in three parts (bits 127-64 signed, 63-32 and
    31-0 unsigned)."""
    sizes, values, exact = [], [], []
    for cell in cells:
        size, value, condition = _pg_cell(cell, types[cell.column])
        sizes.append(size)
        values.append(value)
        if condition:
            exact.append(condition)
        if cell.required:
            exact.append(f"{quote(cell.column)} IS NOT NULL")
    if cells:
        # concat writes a NULL as nothing, and leaves it out of the values, as digest_bytes
        commas = [
            f"concat({', '.join(_interleave(chunk))})"
            for chunk in (
                sizes[i : i + _CONCAT_ARGS // 2] for i in range(0, len(sizes), _CONCAT_ARGS // 2)
            )
        ]
        header = " || ',' || ".join(commas)
        row = f"md5(rtrim({header}, ',') || ';' || {_pg_chunks('concat', values, ' || ')})"
    else:
        row = "md5(';')"
    if exact:
        row = f"CASE WHEN {' AND '.join(exact)} THEN {row} END"
    # The digest as 128 bits once (OFFSET 0 keeps the subquery, so md5 runs once a row).
    return (
        "SELECT count(*), count(b), "
        "coalesce(sum(substring(b from 1 for 64)::bigint), 0), "
        "coalesce(sum(substring(b from 65 for 32)::bigint), 0), "
        "coalesce(sum(substring(b from 97 for 32)::bigint), 0) "
        f"FROM (SELECT ('x' || {row})::bit(128) AS b FROM {quote(table)} OFFSET 0) AS rows"
    )


def _interleave(sizes: list[str]) -> list[str]:
    out = []
    for size in sizes:
        out.extend([size, "','"])
    return out[:-1]


def pg_fingerprint(row: Sequence[Any]) -> Fingerprint | None:
    count, written, high, middle, low = (int(v) for v in row)
    if written != count:
        return None
    return Fingerprint(count, ((high << 64) + (middle << 32) + low) % MOD)
