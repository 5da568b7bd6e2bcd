"""``ferry init``: values a target's CHECK constraint refuses only for their case or spacing.

A text column whose CHECK allows a list of values (``language IN ('en', 'de')``, PostgreSQL's
``= ANY (ARRAY[...])``) or a pattern (``language ~ '^[a-z]{2}$'``) and a field whose values
break it only by surrounding spaces or capitals (``' de '``, ``'EN'``): the draft gives the
column ``ops = ["trim"]`` or ``["trim", "lower"]``, with a note counting the values that
change and those that still break the CHECK.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import ColumnSpec, QuestionSpec, SourceSpec, TableSpec, TextOp
from .draftfill import sample_rows

if TYPE_CHECKING:
    from ..shape.schema import TableInfo
    from ..targets.base import Target

_LITERAL = re.compile(r"'((?:[^']|'')*)'")
_SAMPLE = 100_000


async def read_checks(handle: Target, tables: dict[str, TableInfo]) -> None:
    """Fill each table's ``checks`` with its CHECK constraints' SQL text, as reflected."""
    from sqlalchemy import inspect

    def read(sync: Any) -> dict[str, list[str]]:
        inspector = inspect(sync)
        found: dict[str, list[str]] = {}
        for name in tables:
            try:
                checks = inspector.get_check_constraints(name)
            except NotImplementedError:  # a dialect that does not reflect them
                checks = []
            found[name] = [str(c["sqltext"]) for c in checks]
        return found

    for name, checks in (await handle.conn.run_sync(read)).items():
        tables[name].checks = checks


def allowed_by(check: str, column: str) -> Callable[[str], bool] | None:
    """What a CHECK lets into ``column`` as a test on a text value: a list of literals
    (``IN``, ``= ANY``) or a regular expression (``~``); None for any other CHECK."""
    name = rf"(?<![\w.\"])\"?{re.escape(column)}\"?\)?(?:::\w+(?: \w+)?)?\)?"
    if not re.search(name, check, re.I):
        return None
    pattern = re.search(name + r"\s*~\s*'((?:[^']|'')*)'", check, re.I)
    if pattern:
        try:
            regex = re.compile(pattern.group(1).replace("''", "'"))
        except re.error:
            return None
        return lambda value: regex.search(value) is not None
    values = set(listed_values(check, column))
    if values:
        return lambda value: value in values
    return None


def listed_values(check: str, column: str) -> list[str]:
    """The values a CHECK lists for ``column`` (``IN (...)``, ``= ANY (ARRAY[...])``), in
    its order; [] for any other CHECK."""
    name = rf"(?<![\w.\"])\"?{re.escape(column)}\"?\)?(?:::\w+(?: \w+)?)?\)?"
    listed = re.search(name + r"\s*(?:IN\s*\(|=\s*ANY\s*\()(.*)", check, re.I | re.S)
    if not listed:
        return []
    return list(dict.fromkeys(v.replace("''", "'") for v in _LITERAL.findall(listed.group(1))))


def ask_for_listed_values(
    tables: list[TableSpec], existing: dict[str, TableInfo]
) -> list[QuestionSpec]:
    """One question per NOT NULL text column (no default) that nothing fills and whose CHECK
    lists its values: which of them every row takes (``const``), or leave it to the reviewer."""
    questions = []
    for spec in tables:
        info = existing.get(spec.name)
        if info is None:
            continue
        for column in info.columns.values():
            given = spec.columns.get(column.name)
            if (
                column.type != "text"
                or column.nullable
                or column.has_default
                or (given is not None and (given.from_ or given.has_const or given.now))
                or f"column {column.name!r} is required but no source field matches it"
                not in spec.notes
            ):
                continue
            values = next(
                (found for c in info.checks if (found := listed_values(c, column.name))), []
            )
            if not values or "leave" in values:
                continue
            questions.append(
                QuestionSpec(
                    id=f"{spec.name}.{column.name}",
                    ask=(
                        f"{spec.name}.{column.name} must hold one of the values its CHECK "
                        f"lists and no source field fills it: which one does every row take "
                        "(const), or leave it to you (leave: migrate refuses the table until "
                        "the plan gives a value)?"
                    ),
                    evidence=[
                        f"{column.name}: NOT NULL without a default in {spec.name}, CHECK "
                        f"allows {', '.join(repr(v) for v in values)}; no field of "
                        f"{spec.source} matches"
                    ],
                    choices=[*values, "leave"],
                    default="leave",
                    sets={
                        **{
                            v: {f"tables.{spec.name}.columns.{column.name}": {"const": v}}
                            for v in values
                        },
                        "leave": {},
                    },
                )
            )
    return questions


def fed_columns(spec: TableSpec, info: TableInfo) -> dict[str, ColumnSpec]:
    """The columns of ``info`` that ``spec`` feeds: its own lines, and the columns ``map_all``
    feeds by their name (a field named as its column needs no line in the plan)."""
    given = dict(spec.columns)
    if spec.map_all:
        given.update(
            (name, ColumnSpec.model_validate({"from": name}))
            for name in info.columns
            if name not in given and name not in spec.ignore
        )
    return given


def plain_text_columns(spec: TableSpec, info: TableInfo) -> dict[str, ColumnSpec]:
    """The text columns of ``info`` that ``spec`` feeds straight from a field (no ops, lookup
    or JSON step), the ones ``map_all`` feeds by their name included."""
    return {
        name: column
        for name, column in fed_columns(spec, info).items()
        if column.from_
        and not (column.ops or column.lookup or column.json_path or column.parse_json)
        and name in info.columns
        and info.columns[name].type == "text"
    }


def existing_tables_fed(
    tables: list[TableSpec], sources: list[SourceSpec], existing: dict[str, TableInfo]
) -> Iterator[tuple[TableSpec, TableInfo, SourceSpec]]:
    """Each drafted table that goes into an existing table, with that table and its source."""
    by_name = {s.name: s for s in sources}
    for spec in tables:
        info = existing.get(spec.name)
        source = by_name.get(spec.source) or by_name.get(spec.source.split(".", 1)[0])
        if info is not None and source is not None:
            yield spec, info, source


def fold_into_checks(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
) -> None:
    """Draft ``ops`` for a text column whose CHECK the field's values break only by case or
    spacing."""
    for spec, info, source in existing_tables_fed(tables, sources, existing):
        candidates = plain_text_columns(spec, info)
        tests = {
            name: [t for t in (allowed_by(c, name) for c in info.checks) if t is not None]
            for name in candidates
        }
        tests = {name: found for name, found in tests.items() if found}
        if not tests:
            continue
        rows = sample_rows(source, sources, folder, spec.source, _SAMPLE)
        for name, found in tests.items():
            column = candidates[name]
            if not any(column.from_ in row for row in rows):
                continue
            values = [row.get(column.from_ or "") for row in rows]
            folded = _fold(name, column.from_ or "", values, found)
            if folded:
                spec.columns[name] = with_changes(column, ops=folded[0])
                spec.notes.append(folded[1])


def with_changes(column: ColumnSpec, **changes: Any) -> ColumnSpec:
    """``column`` with ``changes``, validated (so the fields count as given)."""
    data = column.model_dump(by_alias=True, exclude_unset=True)
    return ColumnSpec.model_validate({**data, **changes})


def _fold(
    name: str,
    field_name: str,
    values: list[Any],
    tests: list[Callable[[str], bool]],
) -> tuple[list[TextOp], str] | None:
    """The ``ops`` and their note when trimming (and lowering) lets values the CHECK
    refuses in; None when it lets none in."""

    def passes(value: str) -> bool:
        return all(test(value) for test in tests)

    refused = [v for v in values if isinstance(v, str) and not passes(v)]
    trimmed = [v for v in refused if passes(v.strip())]
    lowered = [v for v in refused if not passes(v.strip()) and passes(v.strip().lower())]
    if not trimmed and not lowered:
        return None
    ops: list[TextOp] = ["trim", "lower"] if lowered else ["trim"]
    left = len(refused) - len(trimmed) - len(lowered)
    examples = ", ".join(repr(v) for v in list(dict.fromkeys(trimmed + lowered))[:4])
    return ops, (
        f"column {name!r}: {len(trimmed) + len(lowered)} of {len(values)} values of field "
        f"{field_name!r} break its CHECK only by "
        + ("case or spacing" if lowered else "surrounding spaces")
        + f" ({examples}): ops = {ops!r}"
        + (
            f"; {left} more break it whatever their case (rejected by key: review them)"
            if left
            else ""
        )
    )


__all__ = [
    "allowed_by",
    "ask_for_listed_values",
    "fold_into_checks",
    "listed_values",
    "plain_text_columns",
    "read_checks",
    "with_changes",
]
