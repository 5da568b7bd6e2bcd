"""Alembic's revision table when the app made its schema in the target already.

An app on Alembic keeps the revision its schema is at in ``alembic_version``. When the app's
own migrations made the target's schema (``prefect server database upgrade``, ``alembic
upgrade head`` on an empty database), the target's row names the revision of that schema;
copying the source's row in adds a second one. An app whose histories differ per database
then finds no such revision: a Prefect server moved so refused to start (``Can't locate
revision identified by '27d8f4e1a6c9'``, a SQLite revision). So ``ferry init`` leaves the
table out of such a draft and says so in its header; into a target without the table (Ferry
creates the schema) it is copied as any table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..planspecs import TableSpec
    from ..shape.schema import TableInfo
    from .found import FoundSource

VERSION_TABLE = "alembic_version"


def leave_out_revisions(
    found: list[FoundSource], tables: list[TableSpec], existing: dict[str, TableInfo]
) -> list[TableSpec]:
    """``tables`` without the one feeding the target's own ``alembic_version``; the source
    table is listed as left out on its source (the draft's header)."""
    if not any(name.lower() == VERSION_TABLE for name in existing):
        return tables
    kept: list[TableSpec] = []
    for spec in tables:
        if spec.name.lower() != VERSION_TABLE:
            kept.append(spec)
            continue
        for item in found:
            if any(t.name == spec.source for t in item.tables):
                item.left_out.append(
                    (
                        spec.source,
                        "Alembic's revision of the source's schema: the target's "
                        "alembic_version names the revision of the schema the app made there "
                        "(a second row would name one the app may not know there)",
                    )
                )
    return kept


def revision_left_out(name: str, found: list[FoundSource]) -> bool:
    """Whether the target's table ``name`` is the ``alembic_version`` a source's was left out
    for (the draft's header says so; no "no source matched it" note besides)."""
    return name.lower() == VERSION_TABLE and any(
        n.rsplit(".", 1)[-1].lower() == VERSION_TABLE for item in found for n, _ in item.left_out
    )
