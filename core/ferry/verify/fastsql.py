"""The SQL each side of verification's fast path (:mod:`ferry.verify.fast`) runs to write its
rows' bytes: SQLite writes a source or target row as the exact bytes
:func:`ferry.verify.checksum.digest_bytes` gives (Python sums their MD5s), PostgreSQL sums
the rows' MD5s itself (a target whose capabilities say ``sums_row_hashes``). Pure functions
returning SQL text, and the row shape both sides share (:class:`Cell`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from ..native.cells import plain_cell
from ..shape.identifiers import quote
from ..values.logical import LogicalType
from .sqlfunctions import stored_value_sql

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
        if typname not in _PG_TYPES.get(cell.type, ()):  # (``any``: not on PostgreSQL)
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


#: 26 characters with ``T`` as the 11th: the hash form's shape (``?`` matches any character,
#: which costs SQLite far less than a digit class a character)
_ISO_SHAPE = "??????????T???????????????"
#: the same in digits: a wall time's text already in hash form (``datetime`` columns, whose
#: text is taken as it stands only when it is exactly this)
_ISO_DIGITS = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]."
    "[0-9][0-9][0-9][0-9][0-9][0-9]"
)


def _plain_utc(x: str, naive_utc: bool) -> str:
    """The commonest of :func:`_utc_shapes`: ``T`` as the 11th character, so the first 26
    characters are written as they stand (no ``replace``). For the usual spellings these are
    the bytes the general expression writes; otherwise (a space among them, say) both write
    text that is no valid time in hash form, so no target row matches either."""
    shapes = [f"{_ISO_SHAPE}[+-]00:00", f"{_ISO_SHAPE}Z", *([_ISO_SHAPE] if naive_utc else [])]
    globs = " OR ".join(f"{x} GLOB {_literal(shape)}" for shape in shapes)
    return f"typeof({x}) = 'text' AND ({globs})"


def _sqlite_value(cell: Cell, x: str, *, source: bool, zone: tzinfo | None) -> _SqliteValue:
    """How SQLite writes one cell; on the target side it reads what the database holds."""
    type_ = cell.type
    if type_ == "any":  # each value's class and value, on both sides alike
        value = stored_value_sql(x)
        return _SqliteValue(None, value, f"length(CAST({value} AS BLOB))")
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
    """The query of :func:`sqlite_row_value` over every row of ``table``."""
    row = sqlite_row_value(cells, source=source, zone=zone, columns=columns)
    return f"SELECT {row} FROM {quote(table)}"


def sqlite_row_value(
    cells: list[Cell],
    *,
    source: bool,
    zone: tzinfo | None = None,
    columns: SqliteColumns | None = None,
) -> str:
    """Per row: the bytes its row digest hashes (:func:`digest_bytes`), or NULL
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
    return f"CAST({row} AS BLOB)"


# -- SQL: PostgreSQL -------------------------------------------------------------------------

_UTC_TEXT = "'YYYY-MM-DD\"T\"HH24:MI:SS.US'"
#: pieces a ``||`` chain joins before chunks are joined by ``concat`` (each ``||`` copies
#: what is written so far)
_CHAIN_PIECES = 32


@dataclass(frozen=True)
class _PgValue:
    #: the value in hash form, as text (NULL for NULL)
    value: str
    #: its length in bytes, as text (NULL for NULL); None: always ``width``
    size: str | None
    #: when the value is exact (None: always)
    exact: str | None = None
    width: int = 0


def _pg_value(cell: Cell, typname: str) -> _PgValue:
    """One cell's value in hash form and its length, both as text (so ``||`` joins them
    without the per-argument output-function lookups ``concat`` makes on every row)."""
    x = quote(cell.column)
    if cell.type == "text":
        return _PgValue(x, f"octet_length({x})::text")
    if cell.type == "integer":
        return _PgValue(f"{x}::text", f"octet_length({x}::text)::text")
    if cell.type == "float":
        return _PgValue(f"encode(float8send({x}), 'hex')", None, width=16)
    if cell.type == "boolean":
        return _PgValue(
            f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END",
            f"CASE WHEN {x} THEN '4' WHEN NOT {x} THEN '5' END",
        )
    if cell.type == "bytes":
        return _PgValue(f"encode({x}, 'hex')", f"(2 * octet_length({x}))::text")
    # timestamp, datetime: four-digit years only (Python's isoformat; to_char's YYYY has no era)
    if typname == "timestamptz":
        moment, low, high = (
            f"{x} AT TIME ZONE 'UTC'",
            "'1000-01-01 00:00:00+00'",
            "'10000-01-01 00:00:00+00'",
        )
    else:
        moment, low, high = x, "'1000-01-01 00:00:00'", "'10000-01-01 00:00:00'"
    exact = f"{x} >= {low} AND {x} < {high}"
    return _PgValue(f"to_char({moment}, {_UTC_TEXT})", None, exact, 26)


def _pg_joined(parts: list[str]) -> str:
    """Text parts (none NULL) one after the other: ``||`` within a chunk, ``concat`` of the
    chunks (a long chain would copy a wide row's text once a part)."""
    merged: list[str] = []
    for part in parts:
        if merged and _is_literal(part) and _is_literal(merged[-1]):
            merged[-1] = _literal(_unliteral(merged[-1]) + _unliteral(part))
        else:
            merged.append(part)
    chains = [
        " || ".join(merged[i : i + _CHAIN_PIECES]) for i in range(0, len(merged), _CHAIN_PIECES)
    ]
    if len(chains) == 1:
        return chains[0]
    return _pg_chunks("concat", [f"({chain})" for chain in chains], " || ")


def _is_literal(sql: str) -> bool:
    return len(sql) >= 2 and sql[0] == sql[-1] == "'" and "'" not in sql[1:-1].replace("''", "")


def _unliteral(sql: str) -> str:
    return sql[1:-1].replace("''", "'")


def _pg_chunks(function: str, parts: list[str], glue: str) -> str:
    """``function(parts...)`` within PostgreSQL's 100 arguments a call, chunks joined by
    ``glue``."""
    return glue.join(
        f"{function}({', '.join(parts[i : i + _CONCAT_ARGS])})"
        for i in range(0, len(parts), _CONCAT_ARGS)
    )


def pg_row_md5(
    cells: list[Cell], types: dict[str, str], not_null: frozenset[str] = frozenset()
) -> str:
    """Per row: the MD5 (32 hex digits) of the bytes :func:`digest_bytes` gives, or NULL
    when SQL cannot write the row exactly. ``not_null``: columns declared NOT NULL."""
    sizes: list[str] = []
    values: list[str] = []
    exact: list[str] = []
    for cell in cells:
        x = quote(cell.column)
        spec = _pg_value(cell, types[cell.column])
        never_null = cell.column in not_null
        if spec.exact:
            exact.append(spec.exact if never_null else f"({x} IS NULL OR ({spec.exact}))")
        if cell.required and not never_null:
            exact.append(f"{x} IS NOT NULL")
        if spec.size is None:
            size = _literal(str(spec.width))
            if not never_null:
                size = f"CASE WHEN {x} IS NOT NULL THEN {size} ELSE '' END"
        else:
            size = spec.size if never_null else f"coalesce({spec.size}, '')"
        if sizes:
            sizes.append("','")
        sizes.append(size)
        values.append(spec.value if never_null else f"coalesce({spec.value}, '')")
    header = _pg_joined(sizes) if sizes else "''"
    if cells and cells[-1].column not in not_null:
        # NULLs at the end leave no sizes: their commas go (only when the last is NULL)
        last = quote(cells[-1].column)
        header = f"CASE WHEN {last} IS NULL THEN rtrim({header}, ',') ELSE {header} END"
    row = "md5(" + _pg_joined([f"({header})", "';'", *values]) + ")"
    if exact:
        row = f"CASE WHEN {' AND '.join(exact)} THEN {row} END"
    return row


def pg_sql(
    table: str,
    cells: list[Cell],
    types: dict[str, str],
    not_null: frozenset[str] = frozenset(),
) -> str:
    """One row: the table's row count, how many rows SQL wrote exactly, and the sums of the
    rows' MD5 digests (:func:`digest_bytes`) in three parts (bits 127-64 signed, 63-32 and
    31-0 unsigned). ``not_null``: columns declared NOT NULL (no NULL handling)."""
    row = pg_row_md5(cells, types, not_null)
    # The digest as 128 bits once (OFFSET 0 keeps the subquery, so md5 runs once a row).
    return (
        "SELECT count(*), count(b), "
        "coalesce(sum(substring(b from 1 for 64)::bigint), 0), "
        "coalesce(sum(substring(b from 65 for 32)::bigint), 0), "
        "coalesce(sum(substring(b from 97 for 32)::bigint), 0) "
        f"FROM (SELECT ('x' || {row})::bit(128) AS b FROM {quote(table)} OFFSET 0) AS rows"
    )


def pg_fingerprint(row: Sequence[Any]) -> Fingerprint | None:
    count, written, high, middle, low = (int(v) for v in row)
    if written != count:
        return None
    return Fingerprint(count, ((high << 64) + (middle << 32) + low) % MOD)
