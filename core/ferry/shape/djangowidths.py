"""A Django database's ``integer``, ``smallint`` and ``varchar(n)`` columns moved to PostgreSQL.

Django declares an ``IntegerField`` ``integer`` in SQLite, a ``SmallIntegerField``
``smallint``, a ``PositiveIntegerField`` ``integer unsigned`` and a
``PositiveSmallIntegerField`` ``smallint unsigned`` (each with its ``CHECK (… >= 0)``), a
``CharField`` (``SlugField``, ``EmailField``, ``URLField``…) ``varchar(n)``, and makes
``integer``, ``smallint`` and ``varchar(n)`` of them on PostgreSQL. SQLite keeps any integer
and any length in them. Ferry made them ``bigint`` and ``text`` (named only as a translation):
the limits the app's own PostgreSQL database keeps were gone, silently widened. Each such
column whose every value fits is drafted ``target_types.col = "integer"`` (``"smallint"``,
``"varchar(n)"``), as Django makes it, with a note; a column holding a value that does not fit
keeps ``bigint`` or ``text``, and its note names the value (the widening, named). Integer keys
and foreign keys stay ``bigint``: SQLite declares an ``AutoField`` and a ``BigAutoField`` alike
(``integer``), and a wider key refuses nothing; a ``varchar`` key is carried like any column.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .identifiers import quote
from .typefindings import TypeFinding

if TYPE_CHECKING:
    from ..sources import SourceTable
    from ..sources.base import SourceReader

#: Django's SQLite integer declarations -> PostgreSQL's type, as Django makes it there
_INTEGERS = {
    "integer": "integer",
    "integer unsigned": "integer",
    "smallint": "smallint",
    "smallint unsigned": "smallint",
}
#: the values each holds
_RANGES = {"integer": (-(2**31), 2**31 - 1), "smallint": (-(2**15), 2**15 - 1)}
_VARCHAR = re.compile(r"^\s*varchar\s*\(\s*(\d+)\s*\)\s*$", re.I)


def django_widths(reader: SourceReader, table: SourceTable, skip: set[str]) -> list[TypeFinding]:
    """The finding of each ``integer``/``smallint``/``varchar(n)`` column of ``table`` (a
    Django database's), but the integer columns in ``skip`` (its key and foreign keys): the
    type Django makes on PostgreSQL where every value fits, else a note naming the widening."""
    wanted: dict[str, str] = {}
    for column, type_ in table.columns.items():
        declared = " ".join(table.declared.get(column, "").lower().split())
        if type_ == "integer" and declared in _INTEGERS and column not in skip:
            wanted[column] = _INTEGERS[declared]
        elif type_ == "text" and (length := _VARCHAR.match(declared)):
            wanted[column] = f"varchar({int(length.group(1))})"
    if not wanted:
        return []
    parts = []
    for column, pg in wanted.items():
        c = quote(column)
        if pg.startswith("varchar"):  # the longest value, in characters (as PostgreSQL counts)
            parts.append(f"max(length(CAST({c} AS TEXT))), NULL, count({c})")
        else:  # values that are no integer go to text whole (ferry.shape.rejectedkinds)
            others = f"count({c}) - count(CASE typeof({c}) WHEN 'integer' THEN 1 END)"
            parts.append(f"min({c}), max({c}), {others}")
    row = reader.query_one(
        f"SELECT {', '.join(parts)} FROM {quote(table.origin)}", (), table.origin
    )
    found = []
    for at, (column, pg) in enumerate(wanted.items()):
        first, second, third = row[3 * at : 3 * at + 3] if row else (None, None, 0)
        declared = table.declared.get(column, "")
        if pg.startswith("varchar"):
            finding = _text(table.name, column, declared, pg, first, int(third or 0))
        elif not third:
            finding = _number(table.name, column, declared, pg, first, second)
        else:
            continue
        found.append(finding)
    return found


def _number(
    table: str, column: str, declared: str, pg: str, low: int | None, high: int | None
) -> TypeFinding:
    least, most = _RANGES[pg]
    held = "no value yet" if low is None else f"from {low} to {high}"
    if low is None or (least <= low and high is not None and high <= most):
        return _carried(table, column, declared, pg, held, "bigint")
    beyond = low if low < least else high
    return _widened(table, column, declared, pg, str(beyond), "bigint")


def _text(
    table: str, column: str, declared: str, pg: str, longest: int | None, count: int
) -> TypeFinding:
    limit = int(pg[len("varchar(") : -1])
    held = f"{count:,} values, the longest {longest or 0} characters" if count else "no value yet"
    if not count or (longest or 0) <= limit:
        return _carried(table, column, declared, pg, held, "text")
    return _widened(table, column, declared, pg, f"a value of {longest} characters", "text")


def _carried(table: str, column: str, declared: str, pg: str, held: str, wide: str) -> TypeFinding:
    return TypeFinding(
        table,
        column,
        None,
        f"column {column!r} ({declared}) of a Django database: target_types.{column} = "
        f'"{pg}" makes it {pg} on PostgreSQL, as Django makes it there; every value fits '
        f"({held}). Without it, {wide}: wider than the app's own database keeps it",
        target_type=pg,
        for_postgres=True,
        declared=declared,
    )


def _widened(table: str, column: str, declared: str, pg: str, held: str, wide: str) -> TypeFinding:
    return TypeFinding(
        table,
        column,
        None,
        f"column {column!r} ({declared}) of a Django database holds {held}, which PostgreSQL "
        f"{pg} (as Django makes it there) would refuse: created {wide}, which holds it (SQLite "
        "never kept the limit; the app's own PostgreSQL database would)",
        for_postgres=True,
        declared=declared,
    )


__all__ = ["django_widths"]
