"""Row-level differences for the preview: what an update would change, cell by cell, and a
sample of the rows an insert would add.

Values are compared after the same normalisation the target's change detection uses (JSON
parsed, timestamps as instants, booleans as booleans), so a diff never shows a "change" that
the merge would not make.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..shape.schema import TableInfo
from ..values.logical import CastError, parse_timestamp, to_decimal, to_utc_naive


@dataclass
class CellChange:
    """One column of one row: the target's value now and the value the source brings."""

    column: str
    before: Any
    after: Any


@dataclass
class RowDiff:
    """A row that exists in both and differs: its key, the changed cells, and the decision."""

    table: str
    key: str
    #: ``update`` (the run changes the target row) or ``conflict`` (the target row is kept)
    decision: str
    changes: list[CellChange] = field(default_factory=list)


@dataclass
class RowInsert:
    """A row the run inserts (its key is not in the target): the values it brings."""

    table: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)


def _comparable(value: Any, type_name: str) -> Any:
    if value is None:
        return None
    try:
        if type_name == "json" and isinstance(value, str | bytes):
            return json.loads(value)
        if type_name in ("timestamp", "datetime", "date"):
            return to_utc_naive(parse_timestamp(value))
        if type_name == "boolean":
            return bool(value)
        if type_name == "float":
            return float(value)
        if type_name == "decimal":
            return to_decimal(value)
    except (ValueError, TypeError, CastError):
        return value
    return value


def row_diff(
    table: TableInfo,
    key: str,
    before: dict[str, Any],
    after: dict[str, Any],
    applied: bool,
    skip: set[str],
) -> RowDiff:
    """The cells of ``after`` that differ from ``before`` (columns in ``skip`` left out)."""
    diff = RowDiff(table.name, key, "update" if applied else "conflict")
    for column, new in after.items():
        if column in skip:
            continue
        type_name = table.columns[column].type if column in table.columns else "text"
        old = before.get(column)
        if _comparable(old, type_name) != _comparable(new, type_name):
            diff.changes.append(CellChange(column, old, new))
    return diff
