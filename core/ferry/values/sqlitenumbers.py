"""Decimals a SQLite column with numeric affinity cannot hold exactly.

SQLite turns a number's text written into a ``NUMERIC``, ``INTEGER`` or ``REAL`` column into an
INTEGER when it is a whole number that fits 64 bits, else into a REAL (a double): a decimal of
more digits than a double keeps (``12345678901234567890123``, a balance in wei, a PostgreSQL
``numeric(30,10)``) is stored rounded, whatever Ferry binds. A ``TEXT`` column (or one with no
declared type) keeps the text, every digit. :class:`SqliteDecimals` writes decimals as their text
and counts the ones SQLite rounds, so the run names them with the first row's key
(:func:`ferry.values.targetstyles.overflow_warnings`) instead of changing them silently.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .logical import INT64_MAX, INT64_MIN, decimal_text

#: significant digits every double holds exactly (shorter decimals never need the float test)
_SAFE_DIGITS = 15


def kept_by_sqlite(value: Decimal) -> bool:
    """True when a SQLite column with numeric affinity stores ``value`` unchanged: a whole
    number that fits 64 bits, or a number the nearest double reads back as."""
    if value == value.to_integral_value() and INT64_MIN <= value <= INT64_MAX:
        return True
    digits = value.normalize().as_tuple().digits
    if len(digits) <= _SAFE_DIGITS and -300 < value.adjusted() < 300:
        return True
    as_double = float(value)
    return as_double not in (float("inf"), float("-inf")) and Decimal(repr(as_double)) == value


def numeric_affinity(sql_type: str) -> bool:
    """SQLite's affinity rules: a declared type gives a column numeric affinity (INTEGER,
    REAL or NUMERIC) unless it names text (``CHAR``, ``CLOB``, ``TEXT``) or a blob (``BLOB``,
    or no type at all). An unknown (empty) type is taken as numeric: Ferry creates a decimal
    column ``NUMERIC``."""
    upper = sql_type.upper()
    if not upper:
        return True
    if "INT" in upper:
        return True
    return not any(word in upper for word in ("CHAR", "CLOB", "TEXT", "BLOB"))


class SqliteDecimals:
    """Writes decimals as their text into a SQLite column with numeric affinity; ``overflow``
    counts those SQLite stores rounded and ``first`` is the first one's text."""

    def __init__(self, sql_type: str = "") -> None:
        self.sql_type = sql_type or "NUMERIC"
        self.overflow = 0
        self.first = ""

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        text = decimal_text(value)
        if not kept_by_sqlite(value):
            self.overflow += 1
            self.first = self.first or text
        return text

    def overflow_warning(self, column: str, where: str) -> str:
        """The run's warning for ``table.column`` (``where``: `` at id=1`` or empty)."""
        many = "number has" if self.overflow == 1 else "numbers have"
        return (
            f"{column}: {self.overflow} {many} more digits than SQLite keeps in a "
            f"{self.sql_type} column (a whole number within 64 bits, else a double's 15-17 "
            f"digits), stored rounded (first: {self.first}{where}); a TEXT column keeps "
            f'every digit (types.{column.rsplit(".", 1)[-1]} = "text" in a table Ferry creates)'
        )


__all__ = ["SqliteDecimals", "kept_by_sqlite", "numeric_affinity"]
