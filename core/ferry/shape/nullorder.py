"""Where NULL sorts: first in SQLite's ascending ``ORDER BY`` (last descending), last in
PostgreSQL's (first descending), whatever the collation.

Moving a Trac project to PostgreSQL, its "Active Tickets" report (``ORDER BY … t.milestone``)
listed the tickets with no milestone last instead of first; moved back, the other way round.
The values are the same, so nothing else tells. Any NULLable column sorts so, and an app may
sort by any: naming every one would bury the finding, so the columns named are the NULLable
ones of a table Ferry creates that an index or a UNIQUE constraint covers (what an app sorts
and looks up by: in Trac not ``ticket.milestone``, which no index covers), each entry with
one reason that says it holds for every NULLable column, so ``check``, the preview and the
report name them all on one line (:data:`~ferry.shape.carried.ONE_FINDING`). Ferry changes
no query: keeping the source's order is the app's SQL (``NULLS FIRST``), which SQLite reads as
well from 3.30.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .carried import NULL_ORDER, SchemaObject
from .identifiers import quote

if TYPE_CHECKING:
    from ..capabilities import TargetCapabilities
    from ..sources.base import SourceTable
    from .schema import TableInfo


def null_order_objects(
    caps: TargetCapabilities, created: list[tuple[TableInfo, SourceTable]]
) -> list[SchemaObject]:
    """A ``NULL order`` entry per NULLable column an index or UNIQUE constraint covers, of
    each created table whose source database puts NULL at the other end (its shape set)."""
    found = []
    for info, source in created:
        if source.nulls_first is None or source.nulls_first == caps.nulls_sort_first:
            continue
        detail = _detail(source.nulls_first)
        found += [
            SchemaObject(NULL_ORDER, f"{info.name}.{column}", "not carried", detail)
            for column in _sorted_by(info)
        ]
    return found


def _sorted_by(info: TableInfo) -> list[str]:
    """The NULLable columns of ``info`` an index or UNIQUE constraint covers, in table order."""
    if info.shape is None:
        return []
    covered: set[str] = set()
    for unique in info.shape.uniques:
        covered.update(unique)
    for index in info.shape.indexes:
        for part in index.parts:  # ``"name"`` or ``"name" DESC``; an expression is left out
            covered.update(c for c in info.columns if part in (quote(c), f"{quote(c)} DESC"))
    return [c.name for c in info.columns.values() if c.nullable and c.name in covered]


def _detail(source_first: bool) -> str:
    """Both databases' places for NULL, and how to keep the source's."""
    if source_first:
        return (
            "SQLite sorts NULL first in an ascending ORDER BY (last descending), PostgreSQL "
            "last (first descending), so rows without a value move to the other end of a "
            "list sorted by any NULLable column (these are the ones an index or UNIQUE "
            "constraint covers). To keep SQLite's order, write ORDER BY … NULLS "
            "FIRST (DESC NULLS LAST) in the app's SQL, which SQLite 3.30 and later read too; "
            "an index on (column NULLS FIRST) serves that order on PostgreSQL"
        )
    return (
        "PostgreSQL sorts NULL last in an ascending ORDER BY (first descending), SQLite "
        "first (last descending), so rows without a value move to the other end of a list "
        "sorted by any NULLable column (these are the ones an index or UNIQUE constraint "
        "covers). To keep PostgreSQL's order, write ORDER BY … NULLS LAST "
        "(DESC NULLS FIRST) in the app's SQL (SQLite 3.30 and later)"
    )


__all__ = ["null_order_objects"]
