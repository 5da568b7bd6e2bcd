"""A UNIQUE rule on a SQLite ``COLLATE NOCASE`` column, kept case-insensitive on PostgreSQL.

In SQLite ``username VARCHAR(512) COLLATE NOCASE UNIQUE`` refuses ``Admin`` beside ``admin``:
the constraint compares by the column's collation. On PostgreSQL without ``citext`` the column
becomes plain ``text`` (named not carried), and its UNIQUE then took both. Where the
collation is not carried, each UNIQUE constraint or plain unique index covering such a column
gets a unique index on ``lower(column)`` as well, as Airflow's own login tables have on
PostgreSQL (``idx_ab_user_username``): the rule the app relied on holds, and its
``lower(username) = lower(%s)`` lookups find an index. ``lower`` folds every letter where
NOCASE folds only ASCII ones, so two names differing only in a non-ASCII letter's case
(``Émile``, ``émile``) stop the run at that index, naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ddl import TargetIndex
from .identifiers import quote

if TYPE_CHECKING:
    from .carried import SchemaObject
    from .schema import TableInfo

_NOCASE = "COLLATE NOCASE:"


def nocase_unique_indexes(
    tables: dict[str, TableInfo], settled: list[SchemaObject]
) -> list[SchemaObject]:
    """Add a ``lower()`` unique index to each table of ``tables`` (shapes set) whose UNIQUE
    covers a column ``settled`` names as having lost its ``NOCASE``; ``settled`` is returned
    with those columns' entries saying so."""
    lost = {
        o.name: o
        for o in settled
        if o.kind == "collation" and o.status == "not carried" and o.detail.startswith(_NOCASE)
    }
    for info in tables.values():
        shape = info.shape
        if shape is None:
            continue
        wanted = [*shape.uniques]
        wanted += [
            columns
            for index in shape.indexes
            if index.unique and index.where is None
            for columns in [tuple(c for c in info.columns if quote(c) in index.parts)]
            if len(columns) == len(index.parts)
        ]
        for columns in dict.fromkeys(wanted):
            folded = [c for c in columns if f"{info.name}.{c}" in lost]
            if not folded:
                continue
            name = f"{info.name}_{'_'.join(columns)}_lower_key"
            parts = tuple(f"lower({quote(c)})" if c in folded else quote(c) for c in columns)
            shape.indexes.append(TargetIndex(name, parts, unique=True))
            for column in folded:
                entry = lost[f"{info.name}.{column}"]
                if "unique index" not in entry.detail:
                    entry.detail += (
                        f"; its UNIQUE stays case-insensitive: a unique index on lower({column})"
                    )
    return settled
