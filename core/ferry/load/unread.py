"""Tables of a database source that no ``[[tables]]`` entry reads.

An app keeps running while ``ferry sync`` follows it, and may create a table between two
cycles (a new feature, a migration of its own). The plan, drafted before, has no entry for
it, so no run copies it: a cutover would pass and the app, switched over, would miss the
table. Every run names such a table (a warning in ``migrate``, ``sync``, ``preview``,
``cutover``; a ``warn`` line in ``check``) instead of passing over it in silence. A table
left out on purpose is named in the source's ``tables`` list (the tables to read), which
stops the warning; what is no data of the app's own (a full-text index's shadow tables) is
never named, as ``ferry init`` leaves it out too; nor is Alembic's ``alembic_version`` (or
TypeORM's ``migrations``), which
``ferry init`` leaves out when the app made the target's schema (:mod:`ferry.scan.alembic`):
it records the schema's revision, not the app's data, and the target has its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..plan import Plan
from ..sources import SourceTable

#: the revision of the schema (Alembic's), left out of a draft into the app's own schema
_SCHEMA_REVISIONS = frozenset({"alembic_version"})
#: TypeORM's revision table, known by its columns too (its name alone is a common one)
_TYPEORM_REVISIONS = ("migrations", frozenset({"id", "timestamp", "name"}))


def _schema_revision(table: SourceTable) -> bool:
    own = table.name.split(".", 1)[-1].lower()
    if own in _SCHEMA_REVISIONS:
        return True
    name, columns = _TYPEORM_REVISIONS
    return own == name and {c.lower() for c in table.columns} == columns


def read_names(plan: Plan) -> set[str]:
    """The source tables the plan's ``[[tables]]`` read, directly or as a merge's inputs."""
    names = {table.source for table in plan.tables}
    roots = {name.split(".", 1)[0] for name in names}
    for spec in plan.sources:
        if spec.name in roots:
            names.update(spec.inputs)
    return names


def unread_tables(plan: Plan, described: Iterable[SourceTable], databases: set[str]) -> list[str]:
    """The tables of the sources named in ``databases`` (those whose tables are the app's
    own: SQLite, PostgreSQL) that no entry reads, in the order described."""
    read = read_names(plan)
    return [
        table.name
        for table in described
        if table.name.split(".", 1)[0] in databases
        and table.name not in read
        and not table.not_data
        and not _schema_revision(table)
    ]


def unread_warning(name: str) -> str:
    """The warning for an unread table ``source.table``."""
    source = name.split(".", 1)[0]
    return (
        f"{name}: a table of source {source} that no [[tables]] entry reads: it is not "
        "migrated, and the target has no copy of it (did the app create it since the plan "
        "was drafted?). Add a [[tables]] entry for it (`ferry init` drafts one), or list the "
        f"tables to read in source {source}'s `tables` to leave it out on purpose"
    )


__all__ = ["read_names", "unread_tables", "unread_warning"]
