"""Django's ``GenericIPAddressField`` and ``DurationField``: a SQLite database moved to PostgreSQL.

Django declares both in SQLite by a plain type and makes a PostgreSQL type of its own for them,
whose operators its lookups use. A ``GenericIPAddressField`` is ``char(39)`` in SQLite (Django
makes no other ``char(39)`` there) and ``inet`` on PostgreSQL: as ``text``, the moved app's
``ip="10.0.0.5"`` failed (``operator does not exist: text = inet``: it binds ``Inet``), and so
did ``ip__startswith`` (``function host(text) does not exist``). Such a column whose every value
reads as an IP address is drafted ``target_types.col = "inet"``, with a note.

A ``DurationField`` is ``bigint`` in SQLite, holding microseconds, and ``interval`` on
PostgreSQL: as ``bigint``, the moved app could not save a row with a duration (``column
"warranty" is of type bigint but expression is of type interval``), nor filter or add one. But
a ``BigIntegerField`` is ``bigint`` in SQLite too, and only the app's models tell them apart: so
each such column (not a key, not a foreign key) is a question, its default keeping the number
(:func:`ask_about_django_types`); ``duration`` sets ``target_types.col = "interval"``, and each
value goes in as that many microseconds. A ``DecimalField``'s digits are a question too
(:mod:`ferry.shape.djangodecimals`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from ..planspecs import QuestionSpec
from .djangodecimals import ask_about_digits, asked_columns, decimal_digits, numeric_type
from .djangowidths import django_widths
from .identifiers import quote
from .typefindings import TypeFinding
from .uuidcolumns import django_uuid_columns

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..sources import SourceTable
    from ..sources.base import SourceReader

#: ``target_types`` a PostgreSQL target creates, by the logical type they hold (``uuid`` and
#: ``varchar(n)`` aside): ``integer`` and ``smallint`` as Django makes them (:mod:`.djangowidths`)
PG_TARGET_TYPES = {
    "inet": "text",
    "interval": "integer",
    "integer": "integer",
    "smallint": "integer",
}
#: a ``varchar(n)`` entry (Django's ``CharField``)
_VARCHAR = re.compile(r"^varchar\((\d+)\)$")
#: ``target_types`` a SQLite target creates (a Django database's): 32 hex digits, microseconds
SQLITE_TARGET_TYPES = {("uuid", "text"): "character(32)", ("interval", "integer"): "bigint"}
#: how Django declares a ``GenericIPAddressField`` and a ``DurationField`` in SQLite
_DJANGO_IP = re.compile(r"^\s*char\s*\(\s*39\s*\)\s*$", re.I)
_DJANGO_BIGINT = re.compile(r"^\s*bigint\s*$", re.I)
#: what marks a finding as a ``bigint`` column to ask about (no note of its own)
DURATION_OR_NUMBER = "bigint: duration or number"


def django_choices(
    reader: SourceReader, tables: list[SourceTable], found: list[TypeFinding]
) -> list[TypeFinding]:
    """``found`` (a Django SQLite database's findings) without the date-time zone ones (Django
    keeps UTC in SQLite and makes ``timestamptz`` on PostgreSQL), with an ``inet`` finding per
    ``char(39)`` column of IP addresses and a marker per ``bigint`` and ``decimal`` column to
    ask about."""
    kept = [f for f in found if not f.zone]
    for table in tables:
        referencing = (
            {c for fk in table.shape.foreign_keys for c in fk.columns} if table.shape else set()
        )
        kept += django_widths(reader, table, set(table.key) | referencing)
        for column, type_ in table.columns.items():
            declared = table.declared.get(column, "")
            if type_ == "text" and _DJANGO_IP.match(declared):
                finding = _addresses(reader, table, column)
            elif type_ == "integer" and _DJANGO_BIGINT.match(declared):
                if column in table.key or column in referencing:
                    continue
                finding = _numbers(reader, table, column)
            elif type_ == "decimal":  # its digits: ferry.shape.djangodecimals
                finding = decimal_digits(reader, table, column)
            else:
                continue
            if finding is not None:
                kept.append(finding)
    return kept


def _addresses(reader: SourceReader, table: SourceTable, column: str) -> TypeFinding | None:
    """The ``inet`` finding of a ``char(39)`` column holding only IP addresses (or none yet)."""
    c = quote(column)
    v4 = f"({c} GLOB '*.*.*.*' AND {c} NOT GLOB '*[^0-9.]*')"
    v6 = f"({c} GLOB '*:*' AND {c} NOT GLOB '*[^0-9A-Fa-f:.]*')"
    row = reader.query_one(
        f"SELECT count({c}), sum(typeof({c}) = 'text' AND ({v4} OR {v6})) "
        f"FROM {quote(table.origin)}",
        (),
        table.origin,
    )
    total, addresses = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    if addresses != total:
        return None
    held = f"holds only IP addresses ({total:,} values)" if total else "holds no value yet"
    return TypeFinding(
        table.name,
        column,
        None,
        f"column {column!r} (char(39)) {held} and is a Django GenericIPAddressField by its "
        f'type: target_types.{column} = "inet" makes it the PostgreSQL inet column the app '
        "makes there (it binds Inet values: a text column fails its lookups)",
        target_type="inet",
        for_postgres=True,
        declared="char(39)",
    )


def _numbers(reader: SourceReader, table: SourceTable, column: str) -> TypeFinding:
    """The marker of a ``bigint`` column: its values' count and range, for the question."""
    c = quote(column)
    row = reader.query_one(
        f"SELECT count({c}), min({c}), max({c}) FROM {quote(table.origin)}", (), table.origin
    )
    total, low, high = (int(row[0] or 0), row[1], row[2]) if row else (0, None, None)
    if total and isinstance(low, int) and isinstance(high, int):
        low_, high_ = (f"{n} ({_as_duration(n)} as microseconds)" for n in (low, high))
        held = (
            f"{total:,} values, from {low_} to {high_}"
            if low != high
            else f"{total:,} values, all {low_}"
        )
    else:
        held = f"{total:,} values" if total else "no value yet"
    return TypeFinding(
        table.name,
        column,
        None,
        f"column {column!r} is declared bigint, as Django declares both a BigIntegerField and a "
        f"DurationField (in microseconds) in SQLite ({held}): see the question {{id}}",
        values=DURATION_OR_NUMBER,
        declared="bigint",
        for_postgres=True,
    )


def _as_duration(microseconds: int) -> str:
    try:
        return str(timedelta(microseconds=microseconds))
    except OverflowError:
        return "beyond any duration"


def django_pg_columns(table: SourceTable) -> list[TypeFinding]:
    """A Django database on PostgreSQL: its ``uuid`` columns going to SQLite
    (:func:`ferry.shape.uuidcolumns.django_uuid_columns`), and each ``interval`` column (a
    ``DurationField``) drafted ``integer`` with ``target_types.col = "interval"``: in SQLite a
    ``bigint`` of microseconds, as Django keeps a duration there (as the interval's text, every
    read of the row failed: ``unsupported type for timedelta microseconds component: str``); on
    PostgreSQL still ``interval`` (as ``text``, the app's save of a duration failed)."""
    return django_uuid_columns(table) + [
        TypeFinding(
            table.name,
            column,
            "integer",
            f'column {column!r} (interval) of a Django database: types.{column} = "integer" '
            f'with target_types.{column} = "interval" keeps it a duration, as Django\'s '
            "DurationField keeps one: a bigint of microseconds in SQLite, an interval on "
            "PostgreSQL (it reads no text)",
            target_type="interval",
        )
        for column in table.columns
        if table.declared.get(column, "").lower().startswith("interval")
    ]


def pg_target_type(wanted: str, logical: str) -> str:
    """A PostgreSQL target's type for a created column's ``target_types`` entry (``uuid``,
    ``inet``, ``interval``, ``integer``, ``smallint``, ``varchar(n)``, a decimal's
    ``numeric(P,S)``) when it fits the logical type, else ""."""
    if logical == "decimal":
        return numeric_type(wanted)
    varchar = _VARCHAR.match(wanted)
    if varchar:
        return f"character varying({varchar.group(1)})" if logical == "text" else ""
    fits = wanted in PG_TARGET_TYPES or wanted == "uuid"
    return wanted if fits and PG_TARGET_TYPES.get(wanted, "text") == logical else ""


def ask_about_django_types(
    tables: list[TableSpec], choices: list[TypeFinding]
) -> list[QuestionSpec]:
    """``TABLE.COLUMN.duration`` for each created table's ``bigint`` column of a Django
    database (a PostgreSQL target): a number (``BigIntegerField``, the default: kept as it is)
    or a duration (``DurationField``: ``interval``), and ``TABLE.COLUMN.digits`` for each
    ``decimal`` column (:mod:`ferry.shape.djangodecimals`). The table's note names the question."""
    questions = ask_about_digits(tables, choices)
    for spec, finding, qid, note in asked_columns(
        tables, choices, DURATION_OR_NUMBER, "integer", "duration"
    ):
        questions.append(
            QuestionSpec(
                id=qid,
                ask=(
                    f"{spec.name}.{finding.column} is declared bigint: is it a number (a "
                    "BigIntegerField: kept bigint), or a duration in microseconds (a "
                    "DurationField: PostgreSQL interval, which the app binds there)?"
                ),
                evidence=[f"{spec.source}: {note.split(': see the question')[0]}"],
                choices=["number", "duration"],
                default="number",
                sets={
                    "number": {},
                    "duration": {f"tables.{spec.name}.target_types.{finding.column}": "interval"},
                },
            )
        )
    return questions


__all__ = ["DURATION_OR_NUMBER", "PG_TARGET_TYPES", "ask_about_django_types", "django_choices"]
