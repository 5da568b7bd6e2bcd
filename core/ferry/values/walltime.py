"""Wall times: the values of a ``datetime`` column, a date and time of day without a zone.

Ferry's ``timestamp`` is an instant (PostgreSQL ``timestamptz``); ``datetime`` is what an app's
``timestamp without time zone`` column (SQLAlchemy's default ``DateTime()``) holds: the clock
reading the app wrote, read back as written whatever zone a session is in. A value with an
offset that arrives in such a column is converted to the plan's zone and the offset dropped,
with a warning (:meth:`ferry.values.transform.RowMapper._typed`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

#: the offset ending ISO date-time text: ``Z``, ``+02:00``, ``-0500``, ``+02``
_OFFSET = re.compile(r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$", re.I)


def has_offset(value: Any) -> bool:
    """True for an aware datetime, or date-time text that ends with an offset."""
    if isinstance(value, datetime):
        return value.tzinfo is not None
    if isinstance(value, str):
        return bool(_OFFSET.search(value.strip()))
    return False


def wall_time(moment: datetime, zone: tzinfo | None) -> datetime:
    """A moment as the naive wall time it shows in ``zone`` (UTC when None); a naive one as it
    is."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone or UTC).replace(tzinfo=None)


__all__ = ["has_offset", "wall_time"]
