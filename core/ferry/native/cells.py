"""Ferry's mapping of plain cells written as SQLite SQL, so SQLite maps them without Python.

A plain ``from`` column of a SQLite source (no transform) whose value already has the form the
Python mapping passes straight through — text as text, whole numbers as integers, ISO 8601
timestamps, ... — can be mapped by SQLite itself while it reads the row: no Python call per
cell, and no GIL held while it runs. :func:`plain_cell` gives, for one column, the condition
under which a value takes this path (NULL included) and the mapped value in a fixed, canonical
form. Rows where any condition fails are mapped by :class:`ferry.values.transform.RowMapper` as
before, so values, rejects and warnings stay exactly the Python mapping's.

Canonical forms (what the SQL yields for a value that passes):

- ``text``: the text; ``integer``: the integer; ``float``: the real (finite);
  ``boolean``: 0 or 1; ``bytes``: the blob; ``any``: the value as stored;
- ``timestamp``: UTC as ``YYYY-MM-DD HH:MM:SS.ffffff`` (six fraction digits, no offset),
  which is also exactly what the SQLite target stores for a timestamp;
- ``datetime``: the wall time in the same form, for text without an offset only (one with an
  offset goes to Python, which converts it to the plan's zone and says so).

A text column's ``ops`` (``trim``, ``lower``, ``upper``: :func:`text_ops_cell`) are mapped by
SQLite too for ASCII text, where its ``trim``/``lower``/``upper`` give exactly Python's
``strip``/``lower``/``upper``; any other text goes to Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..shape.identifiers import quote
from ..values.logical import LogicalType

#: logical types SQLite can map itself (json and date always take the Python path)
SQL_TYPES: frozenset[str] = frozenset(
    {"text", "integer", "float", "boolean", "bytes", "timestamp", "datetime", "any"}
)

_D = "[0-9]"
_DATE = f"{_D * 4}-[0-1]{_D}-[0-3]{_D}"
_TIME = f"[0-2]{_D}:[0-5]{_D}:[0-5]{_D}"
_OFFSET = f"[+-][0-1]{_D}:[0-5]{_D}"
#: 2000-01-01 as a Julian day number: PostgreSQL's timestamp epoch, as ``julianday`` counts
_JULIAN_2000 = "2451544.5"
_MAX_REAL = "1.7976931348623157e308"  # the largest finite double: SQLite's Inf is above it


@dataclass(frozen=True)
class SqlCell:
    """One column mapped in SQL: ``check`` holds when SQLite maps the value (NULL included);
    ``value`` is the mapped value in canonical form (NULL for NULL)."""

    check: str
    value: str
    #: timestamps: the UTC instant as microseconds since 2000-01-01 (binary COPY's form)
    micros: str = ""


@dataclass(frozen=True)
class _Layout:
    """One accepted spelling of an ISO timestamp, told apart by its length."""

    length: int
    pattern: str
    fraction: str  # SQL for the six fraction digits
    micros: str  # SQL for the fraction as a whole number of microseconds
    offset: str  # SQL for the offset text ('' when naive)
    #: ``pattern`` with ``?`` where SQLite's date parser reads digits itself (all but the
    #: fraction's, which it reads however many there are): see :func:`_quick`
    quick: str = ""
    #: SQL that must also hold (the offset's hour, which a GLOB class cannot bound)
    also: str = ""


def _layouts(x: str) -> list[_Layout]:
    found = []
    fractions = [
        ("", "'000000'", "0"),
        (
            f".{_D * 3}",
            f"substr({x}, 21, 3) || '000'",
            f"CAST(substr({x}, 21, 3) AS INTEGER) * 1000",
        ),
        (f".{_D * 6}", f"substr({x}, 21, 6)", f"CAST(substr({x}, 21, 6) AS INTEGER)"),
    ]
    for frac_glob, frac_sql, micros in fractions:
        base = 19 + len(frac_glob.replace(_D, "0"))
        for off_glob, off_len in (("", 0), ("Z", 1), (_OFFSET, 6)):
            offset = f"substr({x}, {base + 1}, {off_len})" if off_len else "''"
            pattern = f"{_DATE}[T ]{_TIME}{frac_glob}{off_glob}"
            quick = f"????-??-??[T ]??:??:??{frac_glob}{'[+-]??:??' if off_len == 6 else off_glob}"
            # SQLite's date functions take offsets up to 14:59, Python's up to 23:59: a
            # later one goes to Python (SQLite would give NULL)
            also = f" AND substr({x}, {base + 2}, 2) <= '14'" if off_len == 6 else ""
            layout = _Layout(base + off_len, pattern, frac_sql, micros, offset, quick, also)
            found.append(layout)
    return found


def _timestamp(x: str, zone: bool, wall: bool = False) -> SqlCell:
    """ISO text as Python's ``datetime.fromisoformat`` reads it, in UTC (naive values are
    left as they are, as the adapters do, unless the plan gives a zone: then Python maps
    them). ``wall``: a ``datetime`` column, whose naive values stay as they are whatever the
    zone, and whose values with an offset go to Python. Years 1001–9998 only (so UTC stays
    four digits); hour 24, a day the month lacks and other odd spellings go to Python."""
    date, clock = f"substr({x}, 1, 10)", f"substr({x}, 12, 8)"
    checks, values, micros, quick = [], [], [], []
    zone = zone and not wall
    for layout in _layouts(x):
        naive = layout.offset == "''"
        if (naive and zone) or (wall and not naive):
            continue
        checks.append(f"WHEN {layout.length} THEN {x} GLOB '{layout.pattern}'{layout.also}")
        quick.append(f"WHEN {layout.length} THEN {x} GLOB '{layout.quick}'")
        local = f"{date} || ' ' || {clock}"
        micros.append(f"WHEN {layout.length} THEN {_micros(x, layout.micros)}")
        utc = (
            local
            if naive
            else f"CASE WHEN {layout.offset} IN ('Z', '+00:00', '-00:00') THEN {local} "
            f"ELSE datetime({local} || {layout.offset}) END"
        )
        values.append(f"WHEN {layout.length} THEN {utc} || '.' || {layout.fraction}")
    if not zone:
        # A date alone is midnight.
        checks.append(f"WHEN 10 THEN {x} GLOB '{_DATE}'")
        quick.append(f"WHEN 10 THEN {x} GLOB '????-??-??'")
        values.append(f"WHEN 10 THEN {x} || ' 00:00:00.000000'")
        micros.append(f"WHEN 10 THEN {_micros(x, '0')}")
    shape = f"CASE length({x}) {' '.join(checks)} ELSE 0 END"
    # Days past the 28th are checked against the calendar (a cheap test first: it is slow).
    day = f"substr({x}, 9, 2)"
    calendar = f"({day} <= '28' OR date(julianday({date})) = {date})"
    valid = (
        f"substr({x}, 1, 4) BETWEEN '1001' AND '9998' AND substr({x}, 6, 2) BETWEEN '01' AND '12'"
        f" AND {day} >= '01' AND {calendar} AND substr({x}, 12, 2) <= '23'"
    )
    # SQLite's length and GLOB read text up to a NUL: the bytes after it would be copied
    # unseen, where Python reads the whole value (and rejects it)
    text = f"typeof({x}) = 'text' AND length(CAST({x} AS BLOB)) = length({x})"
    return SqlCell(
        _holds(x, f"{text} AND {_quick(x, quick, calendar)}", f"{text} AND {shape} AND {valid}"),
        f"CASE length({x}) {' '.join(values)} END",
        f"CASE length({x}) {' '.join(micros)} END",
    )


def _micros(x: str, fraction: str) -> str:
    """Microseconds since 2000 of timestamp ``x`` (the text the check passed; ``fraction``:
    its fraction in microseconds), from one parse by SQLite's ``julianday``, which applies the
    offset in whole milliseconds: the fraction's own microseconds are added to the whole
    seconds, found by rounding the day count's seconds less the fraction (the day count
    differs from the exact time by under a millisecond, however SQLite rounds the fraction
    to milliseconds, plus the double's error, under 0.1 ms in years 1001–9998). About half
    the cost of ``strftime('%s', …)`` on the text cut into parts."""
    seconds = f"(julianday({x}) - {_JULIAN_2000}) * 86400.0"
    if fraction == "0":
        return f"CAST(round({seconds}) AS INTEGER) * 1000000"
    return f"CAST(round({seconds} - {fraction} / 1000000.0) AS INTEGER) * 1000000 + {fraction}"


def _quick(x: str, shapes: list[str], calendar: str) -> str:
    """A third of the strict check's cost, and true only where it is (so the check is the
    strict one, which runs only where this is false): the strict check's GLOB classes cost
    most, so the shape is matched with ``?`` (the fraction's digits still as classes) and
    SQLite's own date parser (``julianday``, in C) proves the rest.

    For text of a layout's length that matches its ``?`` pattern, ``julianday`` is not NULL
    only where its parser read the whole text as that layout (the ``-`` at 5 rules out a
    number, 'now' and a time alone; a sign before the year would put a digit on that ``-``):
    digits for year, month 01–12, day 01–31, ``T`` or one space, hour 00–24, minutes and
    seconds 00–59, offset hour 00–14 (as the strict check) and minutes 00–59. What the
    parser lets through beyond the strict
    check: a year outside 1001–9998 (ruled out by comparing the whole text, which starts
    with the four digits, without the column's affinity or collation), hour 24 (ruled out
    by a GLOB) and a day the month lacks (the strict check's own calendar test)."""
    return (
        f"CASE length({x}) {' '.join(shapes)} ELSE 0 END AND julianday({x}) IS NOT NULL"
        f" AND +{x} >= '1001' COLLATE BINARY AND +{x} < '9999' COLLATE BINARY"
        f" AND NOT {x} GLOB '???????????24*' AND {calendar}"
    )


def _holds(x: str, *conditions: str) -> str:
    """1 when ``x`` is NULL or one of ``conditions`` is true, else 0 (never NULL).

    A CASE, not ``coalesce(x IS NULL OR (…), 0)``: SQLite evaluates AND and OR in a value
    (a function's argument) on both sides, but a WHEN condition stops at the first false
    part, so the slow calendar test runs only for days past the 28th (a third less time),
    and a later condition only where the earlier ones are false."""
    whens = " ".join(f"WHEN {condition} THEN 1" for condition in conditions)
    return f"CASE WHEN {x} IS NULL THEN 1 {whens} ELSE 0 END"


def plain_cell(type_: LogicalType, field: str, zone: bool = False) -> SqlCell | None:
    """SQL mapping source column ``field`` to logical type ``type_`` as Ferry's plain cell
    does (:func:`ferry.values.fastcells.compile_cell`); None when SQLite cannot map that type.
    ``zone``: the plan names a zone for naive timestamps (those then go to Python)."""
    x = quote(field)
    if type_ in ("timestamp", "datetime"):
        return _timestamp(x, zone, wall=type_ == "datetime")
    kinds = {
        "text": "'text'",
        "integer": "'integer'",
        "bytes": "'blob'",
    }
    if type_ in kinds:
        return SqlCell(f"typeof({x}) IN ({kinds[type_]}, 'null')", x)
    if type_ == "any":  # as stored: every value as it is
        return SqlCell("1", x)
    if type_ == "float":
        # Integers are cast by Python (a float of a big integer rounds); SQLite keeps no NaN.
        return SqlCell(_holds(x, f"typeof({x}) = 'real' AND abs({x}) <= {_MAX_REAL}"), x)
    if type_ == "boolean":
        return SqlCell(f"({x} IS NULL OR (typeof({x}) = 'integer' AND {x} IN (0, 1)))", x)
    return None


#: the ASCII characters Python's ``str.strip()`` removes (``str.isspace``), as SQL ``char()``
_ASCII_SPACES = ", ".join(str(i) for i in range(128) if chr(i).isspace())

#: each text op as SQLite computes it on ASCII text (the same as Python's on such text)
_TEXT_OPS = {
    "trim": "trim({x}, char(" + _ASCII_SPACES + "))",
    "lower": "lower({x})",
    "upper": "upper({x})",
}


def text_ops_cell(field: str, ops: Sequence[str]) -> SqlCell | None:
    """SQL for a text column whose plan applies ``ops`` in turn to source column ``field``;
    None when an op has no exact SQL form.

    Only ASCII text is mapped (plus NULL): a text value of valid UTF-8 is ASCII exactly when
    SQLite counts as many characters as it has bytes (any multi-byte character counts once;
    a NUL stops the count), and on ASCII SQLite's functions and Python's agree. Text that is
    not valid UTF-8 never reaches this SQL (the native load checks each chunk first, and a
    server refuses it), and every other value (non-ASCII text, numbers, blobs) is mapped by
    Python, whose ops apply only to text."""
    x = quote(field)
    value = x
    for op in ops:
        if op not in _TEXT_OPS:
            return None
        value = _TEXT_OPS[op].format(x=value)
    return SqlCell(
        f"CASE WHEN {x} IS NULL THEN 1 WHEN typeof({x}) = 'text' "
        f"AND length({x}) = length(CAST({x} AS BLOB)) THEN 1 ELSE 0 END",
        value,
    )


__all__ = ["SQL_TYPES", "SqlCell", "plain_cell", "text_ops_cell"]
