"""Text bound for a PostgreSQL ``uuid`` column, in the column's own spelling.

PostgreSQL takes a UUID as 32 hex digits with or without dashes or braces (SQLAlchemy's
``Uuid`` and Django's ``UUIDField`` keep 32 hex digits in SQLite) and gives it back lower
case and dashed. Written in that spelling, the value a re-run or verify reads back from the
column equals the source's mapped value; anything that is not a UUID is left for the server
to refuse, by the row's key.
"""

from __future__ import annotations

import uuid


def uuid_text(value: str) -> str:
    """``value`` as PostgreSQL spells that UUID; ``value`` itself when it is no UUID."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return value
