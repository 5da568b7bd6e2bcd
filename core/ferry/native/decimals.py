"""Decimals mapped by SQLite itself (:mod:`ferry.native.load`), exactly as Python maps them.

Python reads a SQLite REAL in a decimal column as the shortest text that reads back as the
same double (``repr``: ``2328.6``) and an INTEGER as itself. SQLite's own text of a REAL
(``CAST(x AS TEXT)``) has 15 significant digits; where that text reads back as the same double,
it is that shortest text's number (the double lies much closer to it than half a step of the
15th digit), so SQLite may write it. Other REALs (16 or 17 digits), text and infinities go to
Python.
"""

from __future__ import annotations

from ..shape.identifiers import quote
from .cells import SqlCell

_MAX_REAL = "1.7976931348623157e308"  # the largest finite double: SQLite's Inf is above it


def decimal_cell(field: str) -> SqlCell:
    """Source column ``field`` as a decimal: the INTEGER or REAL as it is stored (a SQLite
    target's NUMERIC affinity keeps it so; into PostgreSQL its text, ``CAST(x AS TEXT)``)."""
    x = quote(field)
    real_ok = (
        f"typeof({x}) = 'real' AND abs({x}) <= {_MAX_REAL} "
        f"AND CAST(CAST({x} AS TEXT) AS REAL) = {x}"
    )
    return SqlCell(
        f"CASE WHEN {x} IS NULL THEN 1 WHEN typeof({x}) = 'integer' THEN 1 "
        f"WHEN {real_ok} THEN 1 ELSE 0 END",
        x,
    )


__all__ = ["decimal_cell"]
