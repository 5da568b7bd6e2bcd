"""The names of the constraints Ferry creates on PostgreSQL: the source's own, where free.

An app's schema migrations (alembic's ``op.drop_constraint("registered_model_pk")``) find
constraints by name, so a created table keeps the names its source gave its primary key,
UNIQUE, CHECK and foreign key constraints (found moving MLflow's tracking database: without
them its next ``mlflow db upgrade`` failed on the moved database). A primary key or UNIQUE
constraint makes an index of the same name, which shares the schema's namespace with every
table and index; a name taken there (by a table, an index, another created constraint, or the
name PostgreSQL gives an unnamed key) is left to the database and listed (``constraint T.X:
translated (created with the database's own name: name taken by table Y)``). CHECK and foreign
key names need only differ within their table.
"""

from __future__ import annotations

from dataclasses import replace

from ..targets import Target
from .carried import SchemaObject
from .indexnames import name_key, taken_names, wanted_name
from .schema import TableInfo


async def settle_constraint_names(
    target: Target, created: dict[str, TableInfo], fold: bool
) -> list[SchemaObject]:
    """Keep each created table's constraint names where the target has them free (folded
    like index names with ``identifiers = "lower"``); drop the others, one entry each."""
    caps = target.capabilities
    taken = await taken_names(target)
    for table, info in created.items():
        taken.setdefault(name_key(table, caps), f"table {table}")
        if info.primary_key and (info.shape is None or ("pk",) not in info.shape.names):
            taken.setdefault(name_key(f"{table}_pkey", caps), f"the primary key of {table}")
    changed: list[SchemaObject] = []
    for table, info in created.items():
        shape = info.shape
        if shape is None:
            continue
        settled: dict[tuple[str, ...], str] = {}
        own: set[str] = set()
        # (a table whose other constraints have no names still has its foreign keys' below:
        # two on one column, as Airflow's SQLite file holds, are read under one name)
        for what, name in shape.names.items():
            wanted = wanted_name(name, caps, fold)
            # A primary key's or UNIQUE's index needs a name free in the schema.
            holder = taken.get(name_key(wanted, caps)) if what[0] in ("pk", "unique") else None
            if holder is None and wanted in own:
                holder = f"another constraint of {table}"
            if holder is not None:
                changed.append(
                    SchemaObject(
                        "constraint",
                        f"{table}.{name}",
                        "translated",
                        f"created with the database's own name: name taken by {holder}",
                    )
                )
                continue
            own.add(wanted)
            if what[0] in ("pk", "unique"):
                taken[name_key(wanted, caps)] = f"constraint {wanted} of {table}"
            settled[what] = wanted
        shape.names = settled
        keys: set[tuple[object, ...]] = set()
        for index, fk in enumerate(shape.foreign_keys):
            if not fk.name:
                continue
            wanted = wanted_name(fk.name, caps, fold)
            key = (fk.columns, fk.ref_table, fk.ref_columns)
            if wanted in own:
                # the same key twice (Airflow's dataset_alias_dataset): one name read for both
                holder = f"another constraint of {table}"
                if key in keys:
                    holder = f"the same key of {table}, declared twice in the source"
                changed.append(
                    SchemaObject(
                        "constraint",
                        f"{table}.{fk.name}",
                        "translated",
                        f"created with the database's own name: name taken by {holder}",
                    )
                )
                wanted = ""
            keys.add(key)
            own.add(wanted)
            shape.foreign_keys[index] = replace(fk, name=wanted)
    return changed
