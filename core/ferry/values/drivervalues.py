"""What each target's driver is given for a cast value: the adapters of SQLite and PostgreSQL
targets (:meth:`ferry.targets.base.Target.adapt`).

Their own light module of named functions, so that a JSON file's worker processes
(:mod:`ferry.load.mapworker`) get them pickled by name without importing the targets and
their database drivers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .epochs import is_number
from .fastcells import utc_text_adapter
from .jsontext import json_text
from .logical import decimal_text, to_utc_naive


@utc_text_adapter
def sqlite_timestamp(value: Any) -> Any:
    """A moment as SQLAlchemy's own SQLite DATETIME text, so the app's ORM reads what Ferry
    wrote (a number kept as it is: ``integers = "number"``)."""
    if value is None or is_number(value):
        return value
    # four-digit years, as SQLAlchemy and SQLite write them (calibre's "no date" 0101-01-01
    # was written 101-01-01 through strftime, which does not pad %Y)
    return to_utc_naive(value).isoformat(" ", "microseconds")


def _sqlite_date(value: Any) -> Any:
    return value if value is None or is_number(value) else value.isoformat()


def _sqlite_boolean(value: Any) -> Any:
    return None if value is None else int(value)


def _sqlite_decimal(value: Any) -> Any:
    # As its text: the column's affinity stores it as the app's own INSERT would (NUMERIC:
    # the number; TEXT: the exact digits), never through a Python float's arithmetic.
    return None if value is None else decimal_text(value)


def _json(value: Any) -> Any:
    return None if value is None else json_text(value)


def _postgres_timestamp(value: Any) -> Any:
    # As UTC without an offset: a ``timestamp`` (without time zone) column would drop the
    # offset of an aware value and keep its wall-clock time; ``timestamptz`` reads it as UTC.
    return None if value is None else to_utc_naive(value)


#: a SQLite target stores timestamps as text, booleans as 0/1, decimals and JSON as text
SQLITE_ADAPTERS: dict[str, Callable[[Any], Any]] = {
    "timestamp": sqlite_timestamp,
    # a wall time (naive) is written as it is, in the same text
    "datetime": sqlite_timestamp,
    "date": _sqlite_date,
    "boolean": _sqlite_boolean,
    "decimal": _sqlite_decimal,
    "json": _json,
}
#: psycopg takes Python values as they are, JSON as text and timestamps as naive UTC
POSTGRES_ADAPTERS: dict[str, Callable[[Any], Any]] = {
    "json": _json,
    "timestamp": _postgres_timestamp,
    "datetime": _postgres_timestamp,
}

__all__ = ["POSTGRES_ADAPTERS", "SQLITE_ADAPTERS", "sqlite_timestamp"]
