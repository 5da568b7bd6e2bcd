"""One forward ``[[tables]]`` entry turned around: the new store's table back into the old
SQLite table it was made from (:mod:`ferry.reverseplan` assembles the whole reverse plan).

A table goes back exactly when each of its columns was carried as it was (by name, or renamed,
or folded to lower case on PostgreSQL): the reverse entry then reads the new store's table by
the forward plan's key, maps every column back to the field it came from, and picks the
conflict rule. Anything that changed values on the way (a transform, a hook, a lookup, a
constant, merged copies, a keyless ``append`` table) is named as a problem: the operator then
decides, through a ``[[questions]]`` entry, whether the table goes back at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .load.mapping import created_names, planned_columns, source_columns
from .plan import ColumnSpec, Plan, SourceSpec, TableSpec
from .scan.existingrows import modification_column
from .shape.schema import ColumnInfo, TableInfo
from .sources import SourceTable

#: the reverse plan's name for the new store (its one source)
NEW_STORE = "new"
#: an integer column an app bumps on every write (optimistic locking)
_VERSION = re.compile(r"^(row_?|lock_?|record_?)?version$|^revision$", re.I)
#: column-spec steps that change a value on its way (``from`` alone carries it as it is)
_STEPS = (
    "parse_json",
    "json_path",
    "default",
    "ops",
    "lookup",
    "is_not_null",
    "cast",
    "integers",
)


@dataclass
class ReversedTable:
    """How one old table is fed back from the new store."""

    #: the old SQLite table (the reverse plan's target table)
    name: str
    #: the forward entry it reverses (its target table, its source table)
    forward: TableSpec
    #: the reverse ``[[tables]]`` entry as plan data
    entry: dict[str, Any]
    #: what the reader of the plan is told about it (comment lines)
    comments: list[str] = field(default_factory=list)
    #: why it cannot go back exactly (empty: it can)
    problems: list[str] = field(default_factory=list)
    #: for a non-exact table: the choice that carries it back (``carry`` or ``replace``)
    carry_choice: str = "carry"

    @property
    def exact(self) -> bool:
        """True when every value goes back as the old store held it."""
        return not self.problems


def reverse_table(
    plan: Plan, spec: TableSpec, source: SourceTable, merged: SourceSpec | None, feeders: int
) -> ReversedTable:
    """The reverse of ``spec`` (which reads ``source``, a table of the old SQLite file;
    ``merged``: the merge source it reads through, if any; ``feeders``: how many forward
    entries feed its target table)."""
    dialect = "postgresql" if not plan.target.is_sqlite else "sqlite"
    planned = planned_columns(spec, source)
    names = created_names(plan, spec, planned, dialect)
    carried = {
        name: names.get(column, column)
        for name, column in source_columns(spec, source).items()
        if name in source.columns
    }
    back = {column: name for name, column in carried.items()}
    problems = _problems(spec, merged, feeders)
    ignore: list[str] = []
    for column, column_spec in spec.columns.items():
        made = names.get(column, column)
        if column_spec.from_ is None:
            origin = "the run's time (now)" if column_spec.now else f"{column_spec.const!r}"
            if made in source.columns:
                problems.append(f"column {made} is set to {origin}, not read from {made}")
            else:
                ignore.append(made)  # a column only the new store has
        elif _steps(column_spec):
            problems.append(
                f"column {made} is made from field {column_spec.from_!r} with "
                f"{', '.join(_steps(column_spec))}: its value does not go back exactly"
            )
    key = [back.get(names.get(k, k), k) for k in spec.key]
    rule, newer_by, why = _conflict(spec, source, back, carried, names)
    entry: dict[str, Any] = {"name": source.origin, "source": f"{NEW_STORE}.{spec.name}"}
    if key:
        entry["key"] = key
    entry["conflict"] = rule
    if newer_by:
        entry["newer_by"] = newer_by
    renamed = {name: column for name, column in carried.items() if name != column}
    if renamed:
        entry["columns"] = renamed
    if ignore:
        entry["ignore"] = ignore
    # a Django DurationField made interval from microseconds goes back as microseconds
    intervals = [c for c, t in spec.target_types.items() if t == "interval"]
    if intervals:
        entry["target_types"] = {back.get(names.get(c, c), c): "interval" for c in intervals}
    if spec.delete_missing:
        entry["delete_missing"] = True
    if spec.mode == "replace":
        entry["mode"] = "replace"
    reversed_ = ReversedTable(source.origin, spec, entry, problems=problems)
    if spec.mode == "append":
        entry["mode"] = "replace"
        reversed_.carry_choice = "replace"
    reversed_.comments = _comments(spec, source, key, why, renamed, ignore, reversed_)
    return reversed_


def _problems(spec: TableSpec, merged: SourceSpec | None, feeders: int) -> list[str]:
    problems = []
    if spec.hook:
        problems.append(f"each row passed through hook {spec.hook}, which has no inverse")
    if merged is not None:
        problems.append(
            f"it holds merged copies of several sources ({', '.join(merged.inputs)}): "
            "the new store's rows are not this file's alone"
        )
    if feeders > 1:
        problems.append(
            f"{feeders} forward tables feed {spec.name}: its rows are not this table's alone"
        )
    if spec.mode == "append":
        problems.append(
            "it has no key (mode append): its rows cannot be matched, only replaced as a whole"
        )
    return problems


def _steps(column: ColumnSpec) -> list[str]:
    """The steps that change the value, as the plan writes them (``ops = ['lower']``)."""
    return [
        f"{step} = {getattr(column, step)!r}"
        for step in _STEPS
        if step in column.model_fields_set and getattr(column, step)
    ]


def _conflict(
    spec: TableSpec,
    source: SourceTable,
    back: dict[str, str],
    carried: dict[str, str],
    names: dict[str, str],
) -> tuple[str, str | None, str]:
    """The rule, ``newer_by`` and why: newer by the column the app stamps, else update."""
    made = names.get(spec.newer_by or "", spec.newer_by or "")
    if spec.conflict == "newer" and made in back:
        return "newer", back[made], f"the forward plan compares {spec.newer_by}"
    info = TableInfo(name=source.origin)
    for name in carried:
        info.columns[name] = ColumnInfo(name, source.columns[name])
    by = modification_column(info, {name: name for name in carried}) or next(
        (n for n in carried if source.columns[n] == "integer" and _VERSION.match(n)), None
    )
    if by is not None:
        return "newer", by, f"the app stamps {by}"
    return "update", None, "no column the app stamps"


def _comments(
    spec: TableSpec,
    source: SourceTable,
    key: list[str],
    why: str,
    renamed: dict[str, str],
    ignore: list[str],
    table: ReversedTable,
) -> list[str]:
    entry = table.entry
    shown_key = ", ".join(key or source.key) or "none"
    lines = [f"{source.origin} <- {NEW_STORE}.{spec.name} (forward: {spec.source} -> {spec.name})"]
    if entry["conflict"] == "newer":
        lines.append(
            f"key {shown_key}; conflict newer by {entry['newer_by']} ({why}): the later change wins"
        )
    else:
        lines.append(
            f"key {shown_key}; conflict update ({why}): the new store's row is written back"
        )
    if renamed:
        lines.append("columns mapped back: " + ", ".join(f"{c} -> {n}" for n, c in renamed.items()))
    if ignore:
        lines.append(f"only in the new store, left out: {', '.join(ignore)}")
    if spec.ignore:
        lines.append(
            f"fields the forward plan leaves out stay as they are here: {', '.join(spec.ignore)}"
        )
    if spec.delete_missing or spec.mode == "replace":
        lines.append("deletions go back too (the forward plan propagates them)")
    return lines
