"""What ``ferry init`` finds about a column's values that its declared type does not say
(:mod:`ferry.shape.typemap` and :mod:`ferry.shape.uuidcolumns` find them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sources import SourceTable


@dataclass
class TypeFinding:
    """A column whose values call for another type than its declared one, for ``ferry init``:
    ``type_`` goes into the plan's ``types`` (None: only the note, the choice is the
    reviewer's)."""

    table: str
    column: str
    type_: str | None
    note: str
    #: about whether a date-time column has a zone (a question for PostgreSQL targets only)
    zone: bool = False
    #: what a SQLite date-time column's values showed: "naive", "zoned" (an offset among
    #: them; no note) or "empty" (see :func:`settle_empty_zones`); a UUID-typed column's:
    #: "uuids", "not uuids" (no note) or "empty" (see :func:`settle_empty_uuids`)
    values: str = ""
    #: the column's declared type in the source (UUID-typed columns)
    declared: str = ""
    #: the column's type in the target (``target_types``): ``uuid``, ``inet``, ``interval``
    target_type: str = ""
    #: a type choice for PostgreSQL targets only (a SQLite target keeps the text as it is)
    for_postgres: bool = False
    #: a type choice for SQLite targets only (a PostgreSQL target keeps the source's type)
    for_sqlite: bool = False

    @property
    def postgres_only(self) -> bool:
        """A finding a SQLite target has no use for (it keeps the column's text as it is)."""
        return self.zone or self.for_postgres


def replaced_choices(
    tables: Iterable[SourceTable],
    choices: list[TypeFinding],
    find: Callable[[SourceTable, dict[str, str]], list[TypeFinding]],
) -> list[TypeFinding]:
    """``choices`` (a source's findings) with each column ``find`` (a table and its drafted
    types: the findings' choice where one is made, else the table's) has a finding for
    replaced by that finding."""
    for table in tables:
        chosen = {f.column: f.type_ for f in choices if f.table == table.name and f.type_}
        drafted = {c: chosen.get(c) or t for c, t in table.columns.items()}
        found = find(table, drafted)
        columns = {f.column for f in found}
        choices = [f for f in choices if f.table != table.name or f.column not in columns]
        choices += found
    return choices
