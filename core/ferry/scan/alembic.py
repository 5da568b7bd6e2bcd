"""The schema's revision table (Alembic's, TypeORM's) when the app made its schema in the
target already.

An app on Alembic keeps the revision its schema is at in ``alembic_version``. When the app's
own migrations made the target's schema (``prefect server database upgrade``, ``alembic
upgrade head`` on an empty database), the target's row names the revision of that schema;
copying the source's row in adds a second one. An app whose histories differ per database
then finds no such revision: a Prefect server moved so refused to start (``Can't locate
revision identified by '27d8f4e1a6c9'``, a SQLite revision). So ``ferry init`` leaves the
table out of such a draft and says so in its header; into a target without the table (Ferry
creates the schema) it is copied as any table.

TypeORM's ``migrations`` (``id``, ``timestamp``, ``name``: one row per migration run) is the
same record: n8n names its migrations per database (``InitialMigration1588102412422`` on
SQLite, ``…1587669153312`` on PostgreSQL), and the SQLite rows merged over the target's by
``id`` made n8n run its PostgreSQL migrations again on the moved data (``column "workflowId"
does not exist``). It is left out alike.

Synapse keeps its record in ``schema_version`` and ``applied_schema_deltas``, and names some
deltas per database (``….sql.sqlite``, ``….sql.postgres``). On a PostgreSQL schema Ferry
creates from its SQLite file it applies its PostgreSQL deltas again and does not start
(``column "inserted_ts" … already exists``); the draft says so on the table, pointing to the
route that works: Synapse makes its schema on PostgreSQL first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..planspecs import TableSpec
    from ..shape.schema import TableInfo
    from .found import FoundSource

VERSION_TABLE = "alembic_version"
#: TypeORM's migrations table and its columns (its name alone is too common to go by)
TYPEORM_TABLE = "migrations"
TYPEORM_COLUMNS = frozenset({"id", "timestamp", "name"})
#: Synapse's record of the schema changes it applied
SYNAPSE_DELTAS = "applied_schema_deltas"


def is_revision_table(name: str, columns: Iterable[str]) -> bool:
    """Whether a table named ``name`` with ``columns`` records the schema's revision:
    Alembic's ``alembic_version`` or TypeORM's ``migrations``."""
    name = name.lower()
    if name == VERSION_TABLE:
        return True
    return name == TYPEORM_TABLE and {c.lower() for c in columns} == TYPEORM_COLUMNS


def leave_out_revisions(
    found: list[FoundSource],
    tables: list[TableSpec],
    existing: dict[str, TableInfo],
    into_sqlite: bool = True,
) -> list[TableSpec]:
    """``tables`` without those feeding the target's own revision table (``alembic_version``,
    TypeORM's ``migrations``); the source table is listed as left out on its source (the
    draft's header)."""
    if not into_sqlite:
        _note_synapse_deltas(tables, existing)
    revisions = {n.lower() for n, info in existing.items() if is_revision_table(n, info.columns)}
    if not revisions:
        return tables
    kept: list[TableSpec] = []
    for spec in tables:
        if spec.name.lower() not in revisions:
            kept.append(spec)
            continue
        tool = "Alembic" if spec.name.lower() == VERSION_TABLE else "TypeORM"
        for item in found:
            if any(t.name == spec.source for t in item.tables):
                item.left_out.append(
                    (
                        spec.source,
                        f"{tool}'s revision of the source's schema: the target's {spec.name} "
                        "names the revision of the schema the app made there "
                        "(a second row would name one the app may not know there)",
                    )
                )
    return kept


def _note_synapse_deltas(tables: list[TableSpec], existing: dict[str, TableInfo]) -> None:
    """Note on Synapse's ``applied_schema_deltas`` drafted into a PostgreSQL target that
    lacks it (Ferry would create Synapse's schema) that Synapse will not start there."""
    names = {t.source.rsplit(".", 1)[-1].lower(): t for t in tables}
    spec = names.get(SYNAPSE_DELTAS)
    if spec is None or "schema_version" not in names or SYNAPSE_DELTAS in existing:
        return
    spec.notes.append(
        "applied_schema_deltas and schema_version are Synapse's record of its schema, whose "
        "changes it names per database (….sql.sqlite, ….sql.postgres): on tables Ferry "
        "creates in PostgreSQL it applies its PostgreSQL changes again and does not start "
        "(column … already exists), and it finds none of its sequences; start Synapse once "
        "on the empty PostgreSQL database (collation C) so it makes its schema, then run "
        "ferry init into it (docs/database-moves.md, A Matrix Synapse homeserver's database)"
    )


def revision_left_out(name: str, found: list[FoundSource]) -> bool:
    """Whether the target's table ``name`` is the revision table a source's was left out for
    (the draft's header says so; no "no source matched it" note besides)."""
    return name.lower() in (VERSION_TABLE, TYPEORM_TABLE) and any(
        n.rsplit(".", 1)[-1].lower() == name.lower() and "revision" in why
        for item in found
        for n, why in item.left_out
    )
