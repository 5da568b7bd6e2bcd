"""SQLite columns of text UUIDs, which a PostgreSQL target gets as ``uuid``.

SQLAlchemy's ``Uuid`` and Django's ``UUIDField`` keep 32 hex digits in a SQLite ``CHAR(32)``
column; on PostgreSQL the same app makes a ``uuid`` column and binds UUIDs to it, so a ``text``
column there fails its first lookup (``operator does not exist: text = uuid``). ``ferry init``
drafts ``target_types.col = "uuid"`` for such a column whose every value is a UUID, with the
count; the values stay text and go in in PostgreSQL's spelling (:mod:`ferry.values.uuidtext`).
In a Django database a ``char(32)`` column is a ``UUIDField`` by its declared type alone (Django
makes no other column ``char(32)`` in SQLite), so one holding no value yet is drafted the same:
a log's optional ``uuid`` column, empty until the app first sets it, failed every lookup.
Elsewhere an empty column is drafted ``uuid`` when every column of its declared type that holds
values in the same database holds only UUIDs (:func:`settle_empty_uuids`): an app keeps its
UUIDs one way, and a Prefect server's empty ``CHAR(36)`` foreign keys stayed ``text`` beside
the ``uuid`` keys they reference, so the run failed adding them (``incompatible types: text
and uuid``) and the app's first insert would have bound a UUID to text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .identifiers import quote
from .typefindings import TypeFinding

if TYPE_CHECKING:
    from ..sources import SourceTable
    from ..sources.base import SourceReader

#: fixed-width: an ORM's UUID type (SQLAlchemy's ``Uuid``, Django's ``UUIDField``: CHAR(32),
#: Prefect's: CHAR(36)); a VARCHAR is the app's string (MLflow's run ids, ``String(32)``:
#: VARCHAR(32) on PostgreSQL too, bound as text; as uuid they read back dashed)
_DECLARED = re.compile(
    r"^\s*(n?char(acter)?\s*\(\s*(32|36)\s*\)|uuid|guid|uniqueidentifier)\s*$", re.I
)
#: 32 hex digits, or the dashed 36
_HEX = "[0-9a-fA-F]"
_SHAPES = (_HEX * 32, "-".join(_HEX * n for n in (8, 4, 4, 4, 12)))
#: how Django declares a ``UUIDField`` in SQLite
_DJANGO_UUID = re.compile(r"^\s*char\s*\(\s*32\s*\)\s*$", re.I)


def uuid_declared(declared: str) -> bool:
    """A declared type an ORM keeps UUIDs in (``CHAR(32)``, ``CHAR(36)``, ``UUID``)."""
    return bool(_DECLARED.match(declared))


def uuid_column(
    reader: SourceReader, table: SourceTable, column: str, declared: str, *, django: bool = False
) -> TypeFinding | None:
    """The finding for a column whose every value is a UUID (None otherwise, or when empty;
    with ``django``, a ``char(32)`` column holding no value is Django's ``UUIDField`` too)."""
    total, uuids = _census(reader, table, column)
    if not total and django and _DJANGO_UUID.match(declared):
        evidence = "holds no value yet and is a Django UUIDField by its type"
    elif not total:  # settled with the database's other columns (settle_empty_uuids)
        return TypeFinding(table.name, column, None, "", values="empty", declared=declared)
    elif uuids != total:
        return TypeFinding(table.name, column, None, "", values="not uuids", declared=declared)
    else:
        evidence = f"holds only UUIDs ({total:,} values)"
    return _uuid_finding(table.name, column, f"({declared}) {evidence}", declared)


def _census(reader: SourceReader, table: SourceTable, column: str) -> tuple[int, int]:
    """How many values ``column`` holds, and how many of them are UUIDs."""
    c = quote(column)
    shaped = " OR ".join(f"({c} GLOB '{shape}')" for shape in _SHAPES)
    row = reader.query_one(
        f"SELECT count({c}), sum(typeof({c}) = 'text' AND ({shaped})) FROM {quote(table.origin)}",
        (),
        table.origin,
    )
    return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)


def uuids_referenced(
    reader: SourceReader, tables: list[SourceTable], found: list[TypeFinding]
) -> list[TypeFinding]:
    """``found`` and a ``uuid`` finding for each text column whose foreign key references a
    column drafted ``uuid``, when it holds only UUIDs or no value yet: a ``TEXT`` column
    referencing a ``CHAR(32)`` key of UUIDs stayed text, and the run failed adding its foreign
    key (``incompatible types: text and uuid``). ``tables``: parents first, so a chain follows."""
    drafted = {(f.table, f.column) for f in found if f.target_type == "uuid"}
    by_origin = {t.origin: t for t in tables}
    added: list[TypeFinding] = []
    for table in tables if drafted else []:
        for fk in table.shape.foreign_keys if table.shape else []:
            parent = by_origin.get(fk.ref_table)
            if parent is None:
                continue
            for column, ref in zip(fk.columns, fk.ref_columns or parent.key, strict=False):
                wanted = (parent.name, ref) in drafted and (table.name, column) not in drafted
                if not wanted or table.columns.get(column) != "text":
                    continue
                total, uuids = _census(reader, table, column)
                if uuids != total:
                    continue  # the foreign key's types differ: the run's error says so
                held = f"only UUIDs ({total:,} values)" if total else "no value yet"
                declared = table.declared.get(column, "")
                evidence = f"({declared}) holds {held} and references {fk.ref_table}.{ref}, a uuid"
                added.append(_uuid_finding(table.name, column, evidence, declared))
                drafted.add((table.name, column))
    return found + added


def _uuid_finding(table: str, column: str, evidence: str, declared: str) -> TypeFinding:
    return TypeFinding(
        table,
        column,
        None,
        f"column {column!r} {evidence}: "
        f'target_types.{column} = "uuid" makes it a PostgreSQL uuid column, as the app '
        "makes it there (it binds UUIDs: a text column fails its lookups)",
        target_type="uuid",
        for_postgres=True,
        values="uuids",
        declared=declared,
    )


def settle_empty_uuids(found: list[TypeFinding]) -> list[TypeFinding]:
    """One database's UUID-typed columns, settled together: an empty column is drafted
    ``uuid`` when every column of its declared type (``CHAR(36)``) holding values holds only
    UUIDs, and at least one does; otherwise it stays text. The note-less markers go."""

    def kind(finding: TypeFinding) -> str:
        return re.sub(r"\s+", "", finding.declared.lower())

    holding = [f for f in found if f.values == "uuids"]
    mixed = {kind(f) for f in found if f.values == "not uuids"}
    settled: list[TypeFinding] = []
    for finding in found:
        if finding.values == "not uuids":
            continue
        if finding.values == "empty" and not finding.zone and not finding.target_type:
            like = [f for f in holding if kind(f) == kind(finding)]
            if not like or kind(finding) in mixed:
                continue
            shown = ", ".join(f"{f.table}.{f.column}" for f in like[:3])
            more = f" and {len(like) - 3} more" if len(like) > 3 else ""
            finding = _uuid_finding(
                finding.table,
                finding.column,
                f"({finding.declared}) holds no value yet; drafted as UUIDs like every "
                f"{finding.declared} column of this database that holds values "
                f"({shown}{more}: only UUIDs)",
                finding.declared,
            )
        settled.append(finding)
    return settled


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
