"""``ferry init``: questions whose answer is a value only the operator knows.

The data cannot say what the application expects in these cases, so the draft asks (a
``[[questions]]`` entry that takes the operator's own value besides its choices, see
:attr:`ferry.plan.QuestionSpec.value_sets`) with the evidence, and the safe default ``leave``
(or ``keep``) sets nothing:

- ``TABLE.COLUMN``: a NOT NULL column without a DEFAULT that no field fills (and that neither
  a time nor a CHECK's list of values settles): the answer is the one value every row takes
  (``const``);
- ``TABLE.COLUMN.missing``: a NOT NULL column without a DEFAULT whose field some rows lack:
  the answer is the value those rows take (``default``); the values a CHECK lists, or the one
  value every other row holds, are offered as choices, and a text column without such a CHECK
  offers ``empty`` (``""``);
- ``TABLE.COLUMN.names``: a field holding only JSON type names (a ``kv`` source's
  ``value_type``: ``boolean``, ``integer``, …) feeding a text column: the application may name
  types its own way, which nothing in the data or the schema says; the answer is the names as
  ``NAME=APP_NAME`` pairs (a ``lookup``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import ColumnSpec, QuestionSpec, SourceSpec, TableSpec
from ..plansets import VALUE, VALUE_MAP
from .checkfold import listed_values
from .fedrows import fed_tables, field_counts, first_keys

if TYPE_CHECKING:
    from ..shape.schema import ColumnInfo, TableInfo

#: the type names a JSON ``kv`` source gives its ``value_type`` field (ferry.sources.records)
JSON_TYPE_NAMES = frozenset(("string", "integer", "number", "boolean", "null", "object", "array"))
_TIMES = ("timestamp", "datetime", "date")
_LEAVE = "leave: migrate refuses the table until the plan gives a value"


def _required(column: ColumnInfo) -> bool:
    return not column.nullable and not column.has_default


def _type(column: ColumnInfo) -> str:
    return column.sql_type or column.type


def ask_for_constants(
    tables: list[TableSpec], existing: dict[str, TableInfo], asked: set[str]
) -> list[QuestionSpec]:
    """``TABLE.COLUMN`` per required column nothing fills that no other question covers."""
    questions = []
    for spec in tables:
        info = existing.get(spec.name)
        if info is None:
            continue
        for column in info.columns.values():
            qid = f"{spec.name}.{column.name}"
            setting = spec.columns.get(column.name)
            if (
                not _required(column)
                or column.type in _TIMES
                or qid in asked
                or (setting is not None and (setting.from_ or setting.has_const or setting.now))
                or f"column {column.name!r} is required but no source field matches it"
                not in spec.notes
            ):
                continue
            listed = [v for c in info.checks for v in listed_values(c, column.name)]
            evidence = [
                f"{column.name} ({_type(column)}): NOT NULL without a default in {spec.name}; "
                f"no field of {spec.source} matches it"
            ]
            if listed:
                evidence.append(f"its CHECK allows {', '.join(repr(v) for v in listed)}")
            questions.append(
                QuestionSpec(
                    id=qid,
                    ask=(
                        f"{spec.name}.{column.name} must hold a value and the data has none "
                        "for it: which value does every row take? Answer with the value (it "
                        f"becomes columns.{column.name}.const), or {_LEAVE}."
                    ),
                    evidence=evidence,
                    choices=["leave"],
                    default="leave",
                    sets={"leave": {}},
                    value_sets={f"tables.{spec.name}.columns.{column.name}.const": VALUE},
                )
            )
    return questions


def ask_for_missing_values(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
) -> list[QuestionSpec]:
    """``TABLE.COLUMN.missing`` per required column whose field some rows lack."""
    questions = []
    for fed in fed_tables(tables, sources, existing, folder, _required_fed):
        for column, field_name in fed.picked:
            counts = field_counts(fed.rows, field_name)
            if counts is None or not counts.lacking:
                continue
            listed = [v for c in fed.info.checks for v in listed_values(c, column.name)]
            counted = (counts.lacking, len(fed.rows))
            questions.append(
                _missing_question(
                    fed.spec, column, field_name, counted, fed.keys, counts.held, listed
                )
            )
    return questions


def _required_fed(
    spec: TableSpec, info: TableInfo, given: dict[str, ColumnSpec]
) -> list[tuple[ColumnInfo, str]]:
    """The required columns (not a key, not a time) a field feeds as it is, with no default."""
    return [
        (column, setting.from_)
        for column in info.columns.values()
        if _required(column)
        and column.type not in _TIMES  # a time no row has is no one value to ask for
        and column.name not in info.primary_key
        and (setting := given.get(column.name)) is not None
        and setting.from_
        and setting.default is None
        and not (setting.json_path or setting.parse_json)
    ]


def _missing_question(
    spec: TableSpec,
    column: ColumnInfo,
    field_name: str,
    counted: tuple[list[dict[str, Any]], int],
    keys: list[str],
    present: Counter[str],
    listed: list[str],
) -> QuestionSpec:
    lacking, total = counted
    where = first_keys(lacking, keys)
    evidence = [
        f"{len(lacking)} of {total} rows of {spec.source} have no {field_name!r}"
        + (f" (first: {where})" if where else ""),
        f"{column.name} ({_type(column)}): NOT NULL without a default in {spec.name}",
    ]
    choices = ["leave"]
    if listed:
        evidence.append(f"its CHECK allows {', '.join(repr(v) for v in listed)}")
        choices[:0] = [v for v in listed if v != "leave"]
    elif len(present) == 1 and "leave" not in present:
        only = next(iter(present))
        evidence.append(f"every row that has {field_name!r} holds {only!r} ({present[only]} rows)")
        choices.insert(0, only)
    elif present:
        common = ", ".join(f"{v!r} ({n})" for v, n in present.most_common(4))
        evidence.append(f"the values it holds most: {common}")
    sets: dict[str, dict[str, Any]] = {"leave": {}}
    base = f"tables.{spec.name}.columns.{column.name}"
    for choice in choices[:-1]:
        sets[choice] = {f"{base}.from": field_name, f"{base}.default": choice}
    empty = column.type == "text" and not listed and "empty" not in choices
    if empty:
        choices.insert(len(choices) - 1, "empty")
        sets["empty"] = {f"{base}.from": field_name, f"{base}.default": ""}
    return QuestionSpec(
        id=f"{spec.name}.{column.name}.missing",
        ask=(
            f"{spec.name}.{column.name} must hold a value and "
            + (f"{len(lacking)} rows have" if len(lacking) > 1 else "1 row has")
            + f" no {field_name!r}: which value do they take? Answer with the value (it "
            f"becomes columns.{column.name}.default)"
            + (", empty for ''" if empty else "")
            + ", or leave: those rows are rejected, each named in the report."
        ),
        evidence=evidence,
        choices=choices,
        default="leave",
        sets=sets,
        value_sets={f"{base}.from": field_name, f"{base}.default": VALUE},
    )


def _text_fed(
    _spec: TableSpec, info: TableInfo, given: dict[str, ColumnSpec]
) -> list[tuple[str, str]]:
    """The text columns a field feeds with no lookup yet."""
    return [
        (name, setting.from_)
        for name, setting in given.items()
        if name in info.columns
        and info.columns[name].type == "text"
        and setting.from_
        and not setting.lookup
    ]


def ask_about_type_names(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
) -> list[QuestionSpec]:
    """``TABLE.COLUMN.names`` per text column fed by a field holding only JSON type names."""
    questions = []
    for fed in fed_tables(tables, sources, existing, folder, _text_fed):
        spec, rows = fed.spec, fed.rows
        for name, field_name in fed.picked:
            values = [v for row in rows if (v := row.get(field_name)) is not None]
            if not all(isinstance(v, str) for v in values):
                continue
            names = Counter(values)
            if not names or not set(names) <= JSON_TYPE_NAMES or len(names) < 2:
                continue
            counts = ", ".join(f"{v} {n}" for v, n in sorted(names.items()))
            base = f"tables.{spec.name}.columns.{name}"
            questions.append(
                QuestionSpec(
                    id=f"{spec.name}.{name}.names",
                    ask=(
                        f"{spec.name}.{name} is fed by {field_name!r}, which holds JSON type "
                        "names: does the application read them as they are (keep), or does "
                        "it name types its own way? Then answer with the names as "
                        "NAME=APP_NAME pairs (boolean=bool, integer=int, …; a lookup)."
                    ),
                    evidence=[
                        f"{field_name!r} holds only JSON type names: {counts}",
                        f"nothing in {spec.name}'s schema lists the names the application "
                        f"reads in {name}",
                    ],
                    choices=["keep"],
                    default="keep",
                    sets={"keep": {}},
                    value_sets={f"{base}.from": field_name, f"{base}.lookup": VALUE_MAP},
                )
            )
    return questions


__all__ = [
    "JSON_TYPE_NAMES",
    "ask_about_type_names",
    "ask_for_constants",
    "ask_for_missing_values",
]
