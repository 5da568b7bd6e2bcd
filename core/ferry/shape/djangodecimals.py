"""Django's ``DecimalField`` in a SQLite database moved to PostgreSQL: its digits are a question.

Django declares every ``DecimalField`` as plain ``decimal`` in SQLite, without its
``max_digits`` and ``decimal_places``, and as ``numeric(10,2)`` on PostgreSQL. Moved as
``numeric`` without a scale, the values are equal but the app reads ``Decimal('127.7')`` where it
read ``Decimal('127.70')`` (a template, an invoice, ``dumpdata`` show one digit fewer). Only the
model knows the digits, so each such column is a question (``TABLE.COLUMN.digits``): ``leave``
(the default: ``numeric`` as it is), or the type itself, ``numeric(10,2)``, which becomes the
column's ``target_types`` entry. The evidence is the most decimal places its values show.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..planspecs import QuestionSpec
from .identifiers import quote
from .typefindings import TypeFinding

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..plan import TableSpec
    from ..sources import SourceTable
    from ..sources.base import SourceReader

#: how Django declares a ``DecimalField`` in SQLite
_DJANGO_DECIMAL = re.compile(r"^\s*decimal\s*$", re.I)
#: a ``target_types`` entry giving a decimal column its digits
NUMERIC_TYPE = re.compile(r"^numeric\(\s*(\d{1,4})\s*,\s*(\d{1,4})\s*\)$")
#: what marks a finding as a ``decimal`` column to ask about
DIGITS = "decimal: digits"


def numeric_type(wanted: str) -> str:
    """``wanted`` when it is a ``numeric(p,s)`` a database takes (``s`` ≤ ``p`` ≤ 1000)."""
    match = NUMERIC_TYPE.match(wanted)
    if match is None or not int(match[2]) <= int(match[1]) <= 1000 or not int(match[1]):
        return ""
    return f"numeric({int(match[1])},{int(match[2])})"


def decimal_digits(reader: SourceReader, table: SourceTable, column: str) -> TypeFinding | None:
    """The marker of a Django ``decimal`` column, with the most decimal places of its values."""
    if not _DJANGO_DECIMAL.match(table.declared.get(column, "")):
        return None
    text = f"printf('%.15g', {quote(column)})"
    places = f"CASE WHEN instr({text}, '.') > 0 THEN length({text}) - instr({text}, '.') ELSE 0 END"
    row = reader.query_one(
        f"SELECT count({quote(column)}), max({places}) FROM {quote(table.origin)}",
        (),
        table.origin,
    )
    total, most = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    held = f"{total:,} values, up to {most} decimal places" if total else "no value yet"
    return TypeFinding(
        table.name,
        column,
        None,
        f"column {column!r} is declared decimal, as Django declares every DecimalField in SQLite, "
        f"without its max_digits and decimal_places ({held}): see the question {{id}}",
        values=DIGITS,
        declared="decimal",
        for_postgres=True,
    )


def asked_columns(
    tables: list[TableSpec], choices: list[TypeFinding], values: str, logical: str, asked: str
) -> Iterator[tuple[TableSpec, TypeFinding, str, str]]:
    """(table, finding, question id, note) for each created table's column of type
    ``logical`` whose finding says ``values``: the question ``TABLE.COLUMN.<asked>``, named in
    the table's note (an existing table is left out: its own column types decide)."""
    for spec in tables:
        if not spec.types:
            continue
        for finding in choices:
            if finding.values != values or finding.table != spec.source:
                continue
            if spec.types.get(finding.column) != logical:
                continue
            qid = f"{spec.name}.{finding.column}.{asked}"
            note = finding.note.replace("{id}", qid)
            spec.notes = [note if n == finding.note else n for n in spec.notes]
            yield spec, finding, qid, note


def ask_about_digits(tables: list[TableSpec], choices: list[TypeFinding]) -> list[QuestionSpec]:
    """``TABLE.COLUMN.digits`` for each created table's Django ``decimal`` column (a
    PostgreSQL target): ``leave`` (``numeric`` without a scale) or ``numeric(P,S)``."""
    return [
        QuestionSpec(
            id=qid,
            ask=(
                f"{spec.name}.{finding.column} is a Django DecimalField: what are its "
                "digits? Answer with the PostgreSQL type Django makes for it, "
                "numeric(max_digits,decimal_places) as the model says (numeric(10,2)), "
                "or leave (numeric without a scale: equal values, read with the "
                "decimals they hold, 127.7 for 127.70)."
            ),
            evidence=[f"{spec.source}: {note.split(': see the question')[0]}"],
            choices=["leave"],
            default="leave",
            sets={"leave": {}},
            value_sets={f"tables.{spec.name}.target_types.{finding.column}": "{answer}"},
        )
        for spec, finding, qid, note in asked_columns(tables, choices, DIGITS, "decimal", "digits")
    ]


__all__ = ["DIGITS", "ask_about_digits", "asked_columns", "decimal_digits", "numeric_type"]
