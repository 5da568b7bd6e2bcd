"""The Python functions the fast path's SQLite queries call (:mod:`ferry.verify.fastsql`), and
the SQL that writes a value of an ``any`` column.

An ``any`` column (a SQLite column of several storage classes, copied as stored) is hashed as
its value with its class named, exactly as the row path normalises it (``5 (integer)``,
``'5' (text)``, ``2.5 (real)``, ``x'00ff' (blob)``: :func:`~ferry.verify.normalize.stored_text`),
so the integer 5 and the text ``'5'`` hash apart on both sides, and an equal table is proven
without reading a row into Python. Integers, blobs and printable ASCII text with no quote,
backslash or NUL (whose ``repr`` is the text between single quotes) are written in SQL; a real
(Python's shortest spelling, which SQLite does not print) and any other text go through
``ferry_stored``, Python's own function. Text that is not UTF-8 fails that call, and the
query with it: the general path reads the table.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable
from typing import Any

from .normalize import stored_text


def f64(value: Any) -> str | None:
    """``ferry_f64``: a number's IEEE 754 double bits as 16 hex digits."""
    return None if value is None else struct.pack(">d", value).hex()


#: the functions by their SQL name (one argument each, deterministic)
SQL_FUNCTIONS: dict[str, Callable[[Any], str | None]] = {
    "ferry_f64": f64,
    "ferry_stored": stored_text,
}


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the SQLite side's queries call."""
    for name, function in SQL_FUNCTIONS.items():
        conn.create_function(name, 1, function, deterministic=True)


def stored_value_sql(x: str) -> str:
    """SQLite's expression for column ``x`` (quoted) as stored with its class named; NULL for
    NULL."""
    # length() counts characters up to a NUL, the blob's bytes all: equal for ASCII alone
    plain = (
        f"length(CAST({x} AS BLOB)) = length({x}) AND {x} NOT GLOB '*[^ -~]*' "
        f"AND instr({x}, '''') = 0 AND instr({x}, '\\') = 0"
    )
    return (
        f"CASE typeof({x}) WHEN 'integer' THEN {x} || ' (integer)' "
        f"WHEN 'blob' THEN 'x''' || lower(hex({x})) || ''' (blob)' "
        f"WHEN 'text' THEN iif({plain}, '''' || {x} || ''' (text)', ferry_stored({x})) "
        f"WHEN 'real' THEN ferry_stored({x}) END"
    )


__all__ = ["SQL_FUNCTIONS", "f64", "register_functions", "stored_value_sql"]
