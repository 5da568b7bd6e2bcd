"""SQLite columns of text UUIDs, which a PostgreSQL target gets as ``uuid``.

SQLAlchemy's ``Uuid`` and Django's ``UUIDField`` keep 32 hex digits in a SQLite ``CHAR(32)``
column; on PostgreSQL the same app makes a ``uuid`` column and binds UUIDs to it, so a ``text``
column there fails its first lookup (``operator does not exist: text = uuid``). ``ferry init``
drafts ``target_types.col = "uuid"`` for such a column whose every value is a UUID, with the
count; the values stay text and go in in PostgreSQL's spelling (:mod:`ferry.values.uuidtext`).
In a Django database a ``char(32)`` column is a ``UUIDField`` by its declared type alone (Django
makes no other column ``char(32)`` in SQLite), so one holding no value yet is drafted the same:
a log's optional ``uuid`` column, empty until the app first sets it, failed every lookup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .identifiers import quote
from .typefindings import TypeFinding

if TYPE_CHECKING:
    from ..sources import SourceTable
    from ..sources.base import SourceReader

_DECLARED = re.compile(
    r"^\s*(n?(var)?char\s*\(\s*(32|36)\s*\)|uuid|guid|uniqueidentifier)\s*$", re.I
)
#: 32 hex digits, or the dashed 36
_HEX = "[0-9a-fA-F]"
_SHAPES = (_HEX * 32, "-".join(_HEX * n for n in (8, 4, 4, 4, 12)))
#: how Django declares a ``UUIDField`` in SQLite
_DJANGO_UUID = re.compile(r"^\s*char\s*\(\s*32\s*\)\s*$", re.I)


def uuid_declared(declared: str) -> bool:
    """A declared type an ORM keeps UUIDs in (``CHAR(32)``, ``VARCHAR(36)``, ``UUID``)."""
    return bool(_DECLARED.match(declared))


def uuid_column(
    reader: SourceReader, table: SourceTable, column: str, declared: str, *, django: bool = False
) -> TypeFinding | None:
    """The finding for a column whose every value is a UUID (None otherwise, or when empty;
    with ``django``, a ``char(32)`` column holding no value is Django's ``UUIDField`` too)."""
    c = quote(column)
    shaped = " OR ".join(f"({c} GLOB '{shape}')" for shape in _SHAPES)
    row = reader.query_one(
        f"SELECT count({c}), sum(typeof({c}) = 'text' AND ({shaped})) FROM {quote(table.origin)}",
        (),
        table.origin,
    )
    total, uuids = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    if not total and django and _DJANGO_UUID.match(declared):
        evidence = "holds no value yet and is a Django UUIDField by its type"
    elif not total or uuids != total:
        return None
    else:
        evidence = f"holds only UUIDs ({total:,} values)"
    return TypeFinding(
        table.name,
        column,
        None,
        f"column {column!r} ({declared}) {evidence}: "
        f'target_types.{column} = "uuid" makes it a PostgreSQL uuid column, as the app '
        "makes it there (it binds UUIDs: a text column fails its lookups)",
        target_type="uuid",
        for_postgres=True,
    )


def django_uuid_columns(table: SourceTable) -> list[TypeFinding]:
    """A Django database on PostgreSQL, moving to SQLite: each ``uuid`` column is drafted
    ``target_types.col = "uuid"``, a ``CHAR(32)`` holding 32 hex digits, as Django's
    ``UUIDField`` makes it there and binds it in every lookup (dashed text matches none)."""
    return [
        TypeFinding(
            table.name,
            column,
            None,
            f'column {column!r} (uuid) of a Django database: target_types.{column} = "uuid" '
            "makes it CHAR(32) holding 32 hex digits, as Django's UUIDField keeps UUIDs in "
            "SQLite (dashed, its lookups would find no row)",
            target_type="uuid",
            for_sqlite=True,
        )
        for column, type_ in table.columns.items()
        if type_ == "text" and table.declared.get(column, "").lower() == "uuid"
    ]
