"""What ``ferry init`` finds about a column's values that its declared type does not say
(:mod:`ferry.shape.typemap` and :mod:`ferry.shape.uuidcolumns` find them)."""

from __future__ import annotations

from dataclasses import dataclass


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
    #: the column's type in a PostgreSQL target (the plan's ``target_types``): ``uuid``
    target_type: str = ""
    #: a type choice for PostgreSQL targets only (a SQLite target keeps the text as it is)
    for_postgres: bool = False
    #: a type choice for SQLite targets only (a PostgreSQL target keeps the source's type)
    for_sqlite: bool = False

    @property
    def postgres_only(self) -> bool:
        """A finding a SQLite target has no use for (it keeps the column's text as it is)."""
        return self.zone or self.for_postgres
