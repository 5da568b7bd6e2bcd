"""UUIDs written in the spelling of the column they go into.

A PostgreSQL ``uuid`` column takes a UUID as 32 hex digits with or without dashes or braces
(SQLAlchemy's ``Uuid`` and Django's ``UUIDField`` keep 32 hex digits in SQLite) and gives it
back lower case and dashed. Written in that spelling, the value a re-run or verify reads back
from the column equals the source's mapped value; anything that is not a UUID is left for the
server to refuse, by the row's key.

A text column of 32 characters (``CHAR(32)``): a UUID value read from a PostgreSQL ``uuid``
column goes in as its 32 hex digits, as SQLAlchemy's ``Uuid`` and Django's ``UUIDField``
store UUIDs in SQLite and bind them in every lookup. Written dashed (36 characters), a
reverse plan's rows matched no key of the old app's file: each row came back a second time
under another spelling, and every lookup by id missed it.

A 16-byte value going into a ``uuid`` column is a UUID's bytes (SQLAlchemy-Utils'
``UUIDType(binary=True)`` in SQLite: Superset's ``uuid`` columns, declared ``NUMERIC(16)``),
written as that UUID; before, every such row was rejected as "not a valid text".
"""

from __future__ import annotations

import re
import uuid

_HEX_COLUMN = re.compile(r"^\s*n?(?:var)?char(?:acter)?(?:\s+varying)?\s*\(\s*32\s*\)\s*$", re.I)


def uuid_text(value: str) -> str:
    """``value`` as PostgreSQL spells that UUID; ``value`` itself when it is no UUID."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return value


def uuid_of_bytes(value: object) -> str | None:
    """A 16-byte value as its UUID's text (SQLAlchemy-Utils' ``UUIDType(binary=True)`` keeps
    UUIDs so in SQLite: Superset's ``uuid`` columns); None for any other value."""
    if isinstance(value, bytes | bytearray | memoryview) and len(value) == 16:
        return str(uuid.UUID(bytes=bytes(value)))
    return None


def hex_uuid_column(sql_type: str) -> bool:
    """A text column of exactly 32 characters (``CHAR(32)``, ``character varying(32)``)."""
    return bool(_HEX_COLUMN.match(sql_type))
