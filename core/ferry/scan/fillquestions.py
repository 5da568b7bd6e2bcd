"""``ferry init``: questions about values a NULLable column would otherwise get silently.

Two cases where the data and the schema leave a NULL that may not be what the application
means, so the draft asks, with the evidence (counts, first keys):

- ``TABLE.COLUMN.not_json``: a JSON column (``json``/``jsonb``) fed by a field some of whose
  values are not JSON text. As drafted (``on_error = "warn"``) such a value leaves the column
  NULL with a warning; the question offers ``reject`` (the default: the row is rejected and
  named, nothing is stored in its place), ``null`` (as drafted), or the operator's own JSON
  value (``{}``, ``[]``: the column's ``fallback``).
- ``TABLE.COLUMN.missing`` for a NULLable text column the application validates (a CHECK
  listing its values, ``IN (...)``, or giving a pattern, ``~ '^[a-z]{2}$'``: the CHECKs
  :func:`ferry.scan.checkfold.allowed_by` reads, the ones the draft folds ``ops`` into) whose
  field some rows lack: such a column is already under review, and the app's own rule says
  what it holds, so one question with the evidence (how many rows lack it, the values held
  most) is cheap. The answer is the value those rows take (``default``; the CHECK's listed
  values, or the value held most, are choices); the default ``leave`` keeps them NULL.
- ``TABLE.COLUMN.missing`` for any other NULLable text column: its field is missing from
  some rows while (nearly) every row holds one value — at least :data:`DOMINANT` of ALL rows (so at
  most a tenth lack it or hold another), and at least :data:`MIN_HOLDING` rows. The answer is
  the value those rows take (``default``); the default ``leave`` keeps them NULL. Below the
  threshold nothing is asked: a NULL in a NULLable column is then as likely meant as not (a
  ``preset`` only transcode jobs have, an ``error`` only failed jobs have: one value among the
  rows holding one is no evidence).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import ColumnSpec, QuestionSpec, SourceSpec, TableSpec
from ..plansets import VALUE, VALUE_JSON
from .checkfold import allowed_by, listed_values
from .fedrows import fed_tables, field_counts, first_keys

if TYPE_CHECKING:
    from ..shape.schema import ColumnInfo, TableInfo

#: the share of ALL rows that must hold the one value to ask about the rows lacking it
DOMINANT = 0.9
#: the fewest rows that must hold the one value (fewer are no evidence)
MIN_HOLDING = 10
_TIMES = ("timestamp", "datetime", "date")


def _type(column: ColumnInfo) -> str:
    return column.sql_type or column.type


def _not_json(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        json.loads(value)
    except ValueError:
        return True
    return False


def ask_about_text_that_is_not_json(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
) -> list[QuestionSpec]:
    """``TABLE.COLUMN.not_json`` per JSON column whose field holds text that is not JSON."""
    questions = []
    for fed in fed_tables(tables, sources, existing, folder, _json_columns):
        for name, setting in fed.picked:
            field_name = setting.from_ or ""
            bad = [row for row in fed.rows if _not_json(row.get(field_name))]
            if bad:
                column = fed.info.columns[name]
                counted = (bad, len(fed.rows))
                questions.append(
                    _not_json_question(fed.spec, column, field_name, counted, fed.keys)
                )
    return questions


def _json_columns(
    _spec: TableSpec, info: TableInfo, given: dict[str, ColumnSpec]
) -> list[tuple[str, ColumnSpec]]:
    """The JSON columns a field feeds through a JSON parse with no fallback yet."""
    return [
        (name, setting)
        for name, setting in given.items()
        if name in info.columns
        and info.columns[name].type == "json"
        and setting.from_
        and setting.parse_json
        and setting.fallback is None
    ]


def _not_json_question(
    spec: TableSpec,
    column: ColumnInfo,
    field_name: str,
    counted: tuple[list[dict[str, Any]], int],
    keys: list[str],
) -> QuestionSpec:
    bad, total = counted
    first = first_keys(bad, keys)
    base = f"tables.{spec.name}.columns.{column.name}"
    return QuestionSpec(
        id=f"{spec.name}.{column.name}.not_json",
        ask=(
            f"{spec.name}.{column.name} ({_type(column)}) is fed by {field_name!r}, and "
            + (f"{len(bad)} rows hold" if len(bad) > 1 else "1 row holds")
            + " text that is not JSON: reject those rows (reject: each is named in the "
            "report), store NULL (null, with a warning per row), or answer with the JSON "
            f"value they take instead ({{}}, []: it becomes columns.{column.name}.fallback)."
        ),
        evidence=[
            f"{len(bad)} of {total} rows of {spec.source} hold {field_name!r} text that is "
            "not JSON" + (f" (first: {first})" if first else ""),
            f"first such value: {str(bad[0].get(field_name))[:60]!r}",
        ],
        choices=["reject", "null"],
        default="reject",
        sets={
            "reject": {f"{base}.on_error": "reject"},
            "null": {f"{base}.on_error": "warn"},
        },
        value_sets={f"{base}.on_error": "warn", f"{base}.fallback": VALUE_JSON},
    )


def _nullable_text_fed(
    spec: TableSpec, info: TableInfo, given: dict[str, ColumnSpec], asked: set[str]
) -> list[tuple[ColumnInfo, ColumnSpec]]:
    """The NULLable text columns (no DEFAULT, not a key) a field feeds as it is (no JSON step
    or lookup) with no default yet, that no question asks about."""
    return [
        (column, setting)
        for column in info.columns.values()
        if column.nullable
        and not column.has_default
        and column.type == "text"
        and column.name not in info.primary_key
        and column.name not in spec.key
        and f"{spec.name}.{column.name}.missing" not in asked
        and (setting := given.get(column.name)) is not None
        and setting.from_
        and setting.default is None
        and not (setting.json_path or setting.parse_json or setting.lookup)
    ]


def ask_for_checked_values(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
    asked: set[str],
) -> list[QuestionSpec]:
    """``TABLE.COLUMN.missing`` per NULLable text column with a CHECK listing its values or
    giving their pattern, whose field some rows lack."""
    questions = []

    def checked(
        spec: TableSpec, info: TableInfo, given: dict[str, ColumnSpec]
    ) -> list[tuple[ColumnInfo, ColumnSpec]]:
        return [
            (column, setting)
            for column, setting in _nullable_text_fed(spec, info, given, asked)
            if any(allowed_by(c, column.name) for c in info.checks)
        ]

    for fed in fed_tables(tables, sources, existing, folder, checked):
        for column, setting in fed.picked:
            counts = field_counts(fed.rows, setting.from_ or "", setting.ops)
            if counts is not None and counts.lacking and counts.held:
                counted = (counts.lacking, len(fed.rows))
                questions.append(
                    _checked_question(
                        fed.spec, fed.info, column, setting, counted, counts.held, fed.keys
                    )
                )
    return questions


def _checked_question(
    spec: TableSpec,
    info: TableInfo,
    column: ColumnInfo,
    setting: ColumnSpec,
    counted: tuple[list[dict[str, Any]], int],
    held: Counter[str],
    keys: list[str],
) -> QuestionSpec:
    """The question for a checked column: the CHECK's listed values as choices, or for a
    pattern the value held most (when it passes), besides the operator's own value."""
    lacking, total = counted
    field_name = setting.from_ or ""
    tests = {c: t for c in info.checks if (t := allowed_by(c, column.name)) is not None}
    checks = list(tests)
    listed = [v for c in checks for v in listed_values(c, column.name)]
    value = held.most_common(1)[0][0]
    passes = all(test(value) for test in tests.values())
    offered = [v for v in listed if v != "leave"] or (
        [value] if passes and value != "leave" else []
    )
    first = first_keys(lacking, keys)
    base = f"tables.{spec.name}.columns.{column.name}"
    common = ", ".join(f"{v!r} ({n} rows)" for v, n in held.most_common(3))
    return QuestionSpec(
        id=f"{spec.name}.{column.name}.missing",
        ask=(
            f"{spec.name}.{column.name}: {len(lacking)} of {total} rows have no value (stored "
            "as NULL; the CHECK allows NULL). Fill them with a value (it becomes "
            f"columns.{column.name}.default: "
            + (", ".join(repr(v) for v in offered) + " or your own" if offered else "your own")
            + "), or leave them NULL (leave)?"
        ),
        evidence=[
            f"{len(lacking)} of {total} rows of {spec.source} have no {field_name!r}"
            + (f" (first: {first})" if first else ""),
            f"the values {field_name!r} holds most"
            + (f" (after {', '.join(setting.ops)})" if setting.ops else "")
            + f": {common}",
            f"{column.name} ({_type(column)}) may be NULL; the application validates it: "
            + "; ".join(f"CHECK ({c})" for c in checks),
        ],
        choices=[*offered, "leave"],
        default="leave",
        sets={
            **{v: {f"{base}.from": field_name, f"{base}.default": v} for v in offered},
            "leave": {},
        },
        value_sets={f"{base}.from": field_name, f"{base}.default": VALUE},
    )


def ask_for_usual_values(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
    asked: set[str],
) -> list[QuestionSpec]:
    """``TABLE.COLUMN.missing`` per NULLable text column whose field some rows lack while
    (nearly) every row holds one value."""
    questions = []

    def nullable(
        spec: TableSpec, info: TableInfo, given: dict[str, ColumnSpec]
    ) -> list[tuple[ColumnInfo, ColumnSpec]]:
        return _nullable_text_fed(spec, info, given, asked)

    for fed in fed_tables(tables, sources, existing, folder, nullable):
        spec, rows = fed.spec, fed.rows
        for column, setting in fed.picked:
            field_name = setting.from_ or ""
            counts = field_counts(rows, field_name, setting.ops)
            if counts is None or not counts.lacking or not counts.held:
                continue
            lacking = counts.lacking
            value, count = counts.held.most_common(1)[0]
            if count < MIN_HOLDING or count < DOMINANT * len(rows) or value == "leave":
                continue
            first = first_keys(lacking, fed.keys)
            base = f"tables.{spec.name}.columns.{column.name}"
            questions.append(
                QuestionSpec(
                    id=f"{spec.name}.{column.name}.missing",
                    ask=(
                        f"{spec.name}.{column.name} may be NULL, and "
                        + (f"{len(lacking)} rows have" if len(lacking) > 1 else "1 row has")
                        + f" no {field_name!r} while nearly every other row holds {value!r}: "
                        f"do they take {value!r}, or another value of yours (it becomes "
                        f"columns.{column.name}.default), or leave them NULL (leave)?"
                    ),
                    evidence=[
                        f"{count} of the {len(rows)} rows of {spec.source} hold {value!r} in "
                        f"{field_name!r}"
                        + (f" (after {', '.join(setting.ops)})" if setting.ops else ""),
                        f"{len(lacking)} of {len(rows)} rows have none"
                        + (f" (first: {first})" if first else ""),
                        f"{column.name} ({_type(column)}) may be NULL: asked only because at "
                        f"least {DOMINANT:.0%} of all rows hold this one value",
                    ],
                    choices=[value, "leave"],
                    default="leave",
                    sets={
                        value: {f"{base}.from": field_name, f"{base}.default": value},
                        "leave": {},
                    },
                    value_sets={f"{base}.from": field_name, f"{base}.default": VALUE},
                )
            )
    return questions


__all__ = [
    "DOMINANT",
    "MIN_HOLDING",
    "ask_about_text_that_is_not_json",
    "ask_for_checked_values",
    "ask_for_usual_values",
]
