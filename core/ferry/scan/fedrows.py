"""The sampled rows behind the columns a draft feeds in an app's existing tables.

The question builders of ``ferry init`` (``valuequestions``, ``fillquestions``) each pick
some columns of a table, read a sample of its source once, and look at one field per column:
which rows lack it, which values the others hold. This module does the walking and the
counting, so each builder keeps only its own rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..plan import ColumnSpec, SourceSpec, TableSpec
from .checkfold import existing_tables_fed, fed_columns
from .draftfill import sample_rows

if TYPE_CHECKING:
    from ..shape.schema import TableInfo

#: rows read per table to count what its fields hold
SAMPLE = 100_000

Row = dict[str, Any]
Picked = TypeVar("Picked")


@dataclass(frozen=True)
class FedTable(Generic[Picked]):
    """One existing table a draft feeds: the columns a rule picked, and its source's rows."""

    spec: TableSpec
    info: TableInfo
    given: dict[str, ColumnSpec]
    picked: list[Picked]
    rows: list[Row]

    @property
    def keys(self) -> list[str]:
        """The fields that feed the table's key (to name rows in the evidence)."""
        key = self.spec.key or self.info.primary_key
        return [f for k in key if k in self.given and (f := self.given[k].from_)]


def fed_tables(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
    pick: Callable[[TableSpec, TableInfo, dict[str, ColumnSpec]], list[Picked]],
) -> Iterator[FedTable[Picked]]:
    """Each existing table fed by the draft for which ``pick`` chose columns, with a sample
    of its source's rows (read only for those tables)."""
    for spec, info, source in existing_tables_fed(tables, sources, existing):
        given = fed_columns(spec, info)
        picked = pick(spec, info, given)
        if picked:
            rows = sample_rows(source, sources, folder, spec.source, SAMPLE)
            yield FedTable(spec, info, given, picked, rows)


@dataclass(frozen=True)
class FieldCounts:
    """What the rows hold in one field: the rows without a value, and the values held."""

    lacking: list[Row]
    held: Counter[str]


def field_counts(rows: list[Row], field_name: str, ops: Sequence[str] = ()) -> FieldCounts | None:
    """The rows lacking ``field_name`` (or holding null) and the values the others hold as
    text after ``ops`` (trim, lower, upper); None when no row has the field at all (it is not
    this source's: nothing to count)."""
    if not any(field_name in row for row in rows):
        return None
    lacking = [row for row in rows if row.get(field_name) is None]
    held = Counter(with_ops(v, ops) for row in rows if (v := row.get(field_name)) is not None)
    return FieldCounts(lacking, held)


def with_ops(value: Any, ops: Sequence[str]) -> str:
    """``value`` as text after the column's ``ops``."""
    text = str(value)
    for op in ops:
        text = text.strip() if op == "trim" else text.lower() if op == "lower" else text.upper()
    return text


def first_keys(rows: list[Row], keys: list[str]) -> str:
    """The keys of the first three ``rows`` (``id='a', id='b'``), '' without key fields."""
    if not keys:
        return ""
    return ", ".join(", ".join(f"{k}={row.get(k)!r}" for k in keys) for row in rows[:3])
