"""Durations kept as date-times, going into a PostgreSQL ``interval`` column.

SQLAlchemy's ``Interval`` has no type of its own in SQLite: it stores a duration as the
date-time that far from 1970-01-01 (``epoch + delta``: 90 seconds is ``1970-01-01
00:01:30.000000``), and reads it back by subtracting the epoch. On PostgreSQL the same app makes
an ``interval`` column, which refused that text (``invalid input syntax for type interval``):
a Prefect server's every flow and task run was rejected. Such a value goes in as the duration
it stands for; any other text (``3 days``) is left for the server to read. The other way, a
duration (a PostgreSQL ``interval``) going into a date-time column is written as the date-time
that far from 1970-01-01, as SQLAlchemy reads it there (it was rejected: ``is not a
timestamp``). An integer going into an ``interval`` column (Django's ``DurationField``: a
``bigint`` of microseconds in SQLite, drafted ``target_types.col = "interval"``) goes in as that
many microseconds.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1)
#: a date-time as SQLAlchemy writes one in SQLite (``1970-01-01 00:01:30.000000``)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")


def interval_column(sql_type: str) -> bool:
    """A PostgreSQL ``interval`` column (``INTERVAL``, ``interval day to second``…)."""
    return sql_type.strip().lower().startswith("interval")


def duration(value: Any, *, microseconds: bool = False) -> Any:
    """The duration a date-time since 1970-01-01 stands for (``microseconds``: an integer
    too, as that many, as Django's ``DurationField`` keeps one in SQLite); ``value`` itself
    otherwise."""
    if microseconds and type(value) is int:
        try:
            return timedelta(microseconds=value)
        except OverflowError:
            return value  # beyond any interval: PostgreSQL's refusal names the row
    if isinstance(value, datetime) and value.tzinfo is None:
        return value - _EPOCH
    if isinstance(value, str) and _DATE_TIME.match(value.strip()):
        try:
            return datetime.fromisoformat(value.strip()) - _EPOCH
        except ValueError:
            return value
    return value


def as_moment(value: Any) -> Any:
    """A duration as the date-time that far from 1970-01-01 (SQLAlchemy's ``Interval`` in
    SQLite); ``value`` itself otherwise."""
    return _EPOCH + value if isinstance(value, timedelta) else value
