"""How plan tables meet target tables: keys, required columns, and the tables Ferry creates.

Shared by the migration, the preflight (``ferry check``) and verification, so all three agree
on what a table's key is and what a created table looks like.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from ..errors import PlanError
from ..plan import Plan, TableSpec
from ..shape.asstored import refuse_off_sqlite, stored_declared
from ..shape.carried import SchemaObject
from ..shape.constraintnames import settle_constraint_names
from ..shape.ddl import target_shape
from ..shape.djangolike import like_indexes
from ..shape.headerpragmas import carry_header
from ..shape.indexnames import settle_index_names
from ..shape.namefold import folded_names, target_column
from ..shape.nocaseunique import nocase_unique_indexes
from ..shape.nullorder import null_order_objects
from ..shape.planshape import plan_shape
from ..shape.schema import ColumnInfo, ForeignKey, TableInfo, check_names, dependency_order
from ..shape.schemafile import read_schema_file
from ..shape.sqlitetypes import plan_sqlite_types
from ..shape.textorder import text_order_objects
from ..shape.typemap import created_objects, kept_type, planned_type, settle_collations
from ..shape.views import carry_views
from ..sources import SourceReader, SourceTable, open_source
from ..targets import Target
from ..values.epochs import declared_times
from ..values.logical import LogicalType, value_type
from ..values.transform import RowMapper, load_hook


async def open_plan_sources(
    plan: Plan,
) -> tuple[dict[str, SourceReader], dict[str, SourceTable]]:
    """Open the sources the plan's tables read and describe them (in a worker thread).

    Returns the readers by source name and the source tables by name; a table reading a
    source table no source provides is a PlanError. The caller closes the readers.
    """
    readers: dict[str, SourceReader] = {}
    tables: dict[str, SourceTable] = {}
    used = {t.source.split(".", 1)[0] for t in plan.tables}
    try:
        for spec in plan.sources:
            if spec.name not in used:
                continue
            reader = open_source(spec, plan.base_dir, plan.sources)
            reader.quick_counts = True  # for progress: not worth reading a big file twice
            readers[spec.name] = reader
            for described in await asyncio.to_thread(reader.describe):
                tables[described.name] = described
        for table in plan.tables:
            if table.source not in tables:
                known = ", ".join(sorted(tables)) or "none"
                raise PlanError(
                    f"table {table.name!r} reads {table.source!r}, which the sources do not "
                    f"provide (they provide: {known})",
                    hint="Fix `source` of that table in the plan.",
                )
    except BaseException:
        for reader in readers.values():
            reader.close()
        raise
    return readers, tables


async def prepare_schema(
    plan: Plan,
    target: Target,
    source_tables: dict[str, SourceTable],
    objects: list[SchemaObject] | None = None,
) -> tuple[dict[str, TableInfo], list[str]]:
    """Make the plan's missing tables (schema.sql first, then inferred from the sources),
    then the source's views that translate, inside the target's open transaction. Returns
    every target table and the DDL that ran; ``objects`` gets what was carried, translated
    and not carried (:mod:`ferry.shape.carried`)."""
    objects = objects if objects is not None else []
    tables, ddl = await _make_tables(plan, target, source_tables, objects)
    plan_sqlite_types(plan, tables)
    for item in [
        *await carry_views(plan, target, tables),
        *await carry_header(plan, target, tables),
    ]:
        objects.append(item)
        if item.sql and item.status == "carried":
            ddl.append(item.sql)
    created = {name: info for name, info in tables.items() if info.created and info.shape}
    if created:  # the indexes come after the load: their names are settled now
        fold = plan.target.identifiers == "lower"
        objects.extend(await settle_index_names(target, created, fold))
    return tables, ddl


async def _make_tables(
    plan: Plan,
    target: Target,
    source_tables: dict[str, SourceTable],
    objects: list[SchemaObject],
) -> tuple[dict[str, TableInfo], list[str]]:
    ddl: list[str] = []
    tables = await target.reflect()
    wanted = [t.name for t in plan.tables]
    missing = [name for name in wanted if name not in tables]
    if missing and plan.target.schema_sql:
        path = plan.resolve(plan.target.schema_sql)
        statements = read_schema_file(path, target.dialect_name)
        ddl.extend(await target.run_schema_sql(statements, str(path)))
        tables = await target.reflect()
        missing = [name for name in wanted if name not in tables]
    if not missing:
        return tables, ddl
    inferred = {
        name: infer_table(plan, name, source_tables, target.dialect_name)
        for name in dict.fromkeys(missing)
    }
    # before the collations settle: a column with its own (NOCASE) is not compared in bytes
    created = [(info, _first_source(plan, name, source_tables)) for name, info in inferred.items()]
    ordered = await text_order_objects(target, created)
    settled = await settle_collations(target, list(inferred.values())) + ordered
    add_shapes(plan, inferred, source_tables, target.dialect_name)
    settled += null_order_objects(target.capabilities, created)  # (by the shapes' indexes)
    settled = nocase_unique_indexes(inferred, settled)  # (NOCASE not carried, above)
    if target.capabilities.constraint_names_in_schema:
        fold = plan.target.identifiers == "lower"
        settled.extend(await settle_constraint_names(target, inferred, fold))
    made: dict[str, str] = {}
    for name in dependency_order(list(inferred), inferred):
        check_names(inferred[name], target.capabilities.max_identifier_bytes)
        made[name] = await target.create_table(inferred[name])
        ddl.append(made[name])
    if target.capabilities.defers_cyclic_references and references_in_a_cycle(inferred):
        # No load order puts every parent first: check references at commit instead (the
        # run checks them itself before, see ferry.migrate).
        await target.defer_references()
    tables = await target.reflect()
    for name in inferred:
        tables[name].created = True
        tables[name].shape = inferred[name].shape
        tables[name].ddl = made[name]
    objects.extend(created_objects(plan, inferred, tables, source_tables, made))
    objects.extend(settled)
    return tables, ddl


def _first_source(plan: Plan, name: str, source_tables: dict[str, SourceTable]) -> SourceTable:
    """The source table of the plan's first table spec of ``name`` (the one its columns and
    shape come from, as in :func:`infer_table`)."""
    return source_tables[next(t.source for t in plan.tables if t.name == name)]


def add_shapes(
    plan: Plan, inferred: dict[str, TableInfo], source_tables: dict[str, SourceTable], dialect: str
) -> None:
    """Give each inferred table the shape of the database table it copies (its defaults,
    constraints and indexes in target names); its foreign keys then come from the shape."""
    by_origin: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for spec in plan.tables:
        source = source_tables.get(spec.source)
        if source is not None and source.shape is not None:
            root = spec.source.split(".", 1)[0]
            named = _created_from(plan, spec, source, dialect)
            by_origin.setdefault((root, source.origin), (spec.name, named))
    for name, info in inferred.items():
        spec = next(t for t in plan.tables if t.name == name)
        source = source_tables[spec.source]
        if source.shape is None:
            if spec.identity is not None or spec.references or spec.indexes:  # a file's shape
                info.shape = plan_shape(spec, info, inferred)
            continue
        root = spec.source.split(".", 1)[0]
        named = _created_from(plan, spec, source, dialect)
        columns = {k: v for k, v in named.items() if v in info.columns}
        tables = {origin: found for (r, origin), found in by_origin.items() if r == root}
        types = {name: column.type for name, column in info.columns.items()}
        own = source.declared  # the columns created with the source's own type:
        kept = {n for f, n in columns.items() if info.columns[n].sql_type == own.get(f, "-")}
        info.shape = target_shape(source.shape, columns, tables, dialect, types, kept)
        siblings = [t for n, t in source_tables.items() if n.split(".", 1)[0] == root]
        varchar = {n for n, c in info.columns.items() if c.sql_type.startswith("character varying")}
        info.shape.indexes += like_indexes(source, siblings, dialect, name, columns, types, varchar)
        info.foreign_keys = []
        for column in info.shape.not_null:
            info.columns[column].nullable = False
        if info.shape.identity is not None:
            info.columns[info.shape.identity].has_default = True


def _created_from(plan: Plan, spec: TableSpec, source: SourceTable, dialect: str) -> dict[str, str]:
    """Source column -> the column Ferry creates for it (folded or shortened on PostgreSQL)."""
    names = created_names(plan, spec, planned_columns(spec, source), dialect)
    return {
        field: names.get(column, column) for field, column in source_columns(spec, source).items()
    }


def references_in_a_cycle(tables: dict[str, TableInfo]) -> bool:
    """True when the created tables' foreign keys make a cycle (a self-reference too)."""
    edges = {
        name: {fk.ref_table for fk in info.shape.foreign_keys}
        for name, info in tables.items()
        if info.shape is not None
    }
    done: set[str] = set()

    def cycles(name: str, path: set[str]) -> bool:
        if name in path:
            return True
        if name in done:
            return False
        found = any(cycles(ref, path | {name}) for ref in edges.get(name, ()))
        done.add(name)
        return found

    return any(cycles(name, set()) for name in edges)


def source_columns(spec: TableSpec, source: SourceTable) -> dict[str, str]:
    """Source column -> the target column ``spec`` copies it to (as they are, or renamed)."""
    columns = {c.from_: n for n, c in spec.columns.items() if c.from_ is not None}
    if spec.map_all:
        for name in source.columns:
            if name not in spec.ignore and name not in columns and name not in spec.columns:
                columns[name] = name
    return columns


def infer_table(
    plan: Plan, name: str, source_tables: dict[str, SourceTable], dialect: str = ""
) -> TableInfo:
    """A table definition from the plan and what the sources hold. On PostgreSQL the columns
    carried under their source names are named as :mod:`ferry.shape.namefold` says."""
    specs = [t for t in plan.tables if t.name == name]
    spec = specs[0]
    source = source_tables[spec.source]
    columns = planned_columns(spec, source)
    names = created_names(plan, spec, columns, dialect)
    info = TableInfo(name=name, created=True)
    fields = {n: c.from_ for n, c in spec.columns.items() if c.from_}
    for column, type_ in columns.items():
        # A decimal keeps its source's precision and scale (DECIMAL(10,2) -> numeric(10,2)).
        declared = source.declared.get(fields.get(column, column), "")
        origin = source.shape.dialect if source.shape is not None else ""
        declared = declared if type_ == "decimal" else kept_type(origin, dialect, type_, declared)
        if type_ == "any":  # as stored: the source's declared type (its affinity) kept
            refuse_off_sqlite(name, column, dialect)
            declared = stored_declared(source, fields.get(column, column))
        declared = planned_type(dialect, type_, spec.target_types.get(column, "")) or declared
        collation = source.collations.get(fields.get(column, column), "") if type_ == "text" else ""
        info.columns[names[column]] = ColumnInfo(
            names[column], type_, sql_type=declared, collation=collation
        )
    renamed = {c.from_: n for n, c in spec.columns.items() if c.from_ is not None}
    key = [names.get(k, k) for k in spec.key] or [
        names.get(renamed.get(k, k), renamed.get(k, k)) for k in source.key
    ]
    if key and all(k in info.columns for k in key):
        info.primary_key = tuple(key)
        for k in key:
            info.columns[k].nullable = False
    if source.parent is not None:
        parent_tables = [t.name for t in plan.tables if t.source == source.parent.parent]
        if parent_tables:
            parent_spec = next(t for t in plan.tables if t.name == parent_tables[0])
            parent_renamed = {
                c.from_: n for n, c in parent_spec.columns.items() if c.from_ is not None
            }
            parent_source = source_tables.get(parent_spec.source)
            parent_names = (
                created_names(
                    plan, parent_spec, planned_columns(parent_spec, parent_source), dialect
                )
                if parent_source is not None
                else {}
            )
            fk_cols = tuple(
                names.get(renamed.get(c, c), renamed.get(c, c)) for c in source.parent.columns
            )
            ref_cols = tuple(
                parent_names.get(parent_renamed.get(c, c), parent_renamed.get(c, c))
                for c in source.parent.parent_columns
            )
            if all(c in info.columns for c in fk_cols):
                info.foreign_keys.append(ForeignKey(fk_cols, parent_tables[0], ref_cols))
    return info


def created_names(
    plan: Plan, spec: TableSpec, columns: dict[str, LogicalType], dialect: str
) -> dict[str, str]:
    """Each planned column -> the name Ferry creates it under: on PostgreSQL, a column carried
    under its source name is folded to lower case (``identifiers = "lower"``, where no other
    folds alike) and shortened past 63 bytes; a column the plan names keeps its name."""
    if dialect != "postgresql":
        return {c: c for c in columns}
    carried = [c for c in columns if c not in spec.columns]
    folded = folded_names(carried, plan.target.identifiers == "lower")
    taken = set(spec.columns)
    return {c: c if c in taken or folded[c] in taken else folded[c] for c in columns}


def planned_columns(spec: TableSpec, source: SourceTable) -> dict[str, LogicalType]:
    """Columns (and types) of a table Ferry creates for ``spec``."""
    columns: dict[str, LogicalType] = {}
    used = {c.from_ for c in spec.columns.values() if c.from_ is not None}
    if spec.map_all:
        for name, type_ in source.columns.items():
            if name not in used and name not in spec.ignore:
                columns[name] = type_
            elif (fed := spec.columns.get(name)) is not None and fed.from_ == name:
                columns[name] = "text"  # its place kept (INSERT … VALUES go by position)
    for name, column in spec.columns.items():
        if column.cast:
            type_ = column.cast
        elif column.is_not_null:
            type_ = "boolean"
        elif column.now:
            type_ = "timestamp"
        elif column.has_const:
            type_ = value_type(column.const) or "text"
        elif column.json_path or column.parse_json:
            type_ = "json"
        elif column.from_ is not None:
            type_ = source.columns.get(column.from_, "text")
        else:
            type_ = "text"
        columns[name] = type_
    for name, type_ in spec.types.items():
        if name in columns:
            columns[name] = type_
    return columns


def with_key(spec: TableSpec, info: TableInfo, source: SourceTable) -> TableSpec:
    """The spec with its key filled in from the target's primary key when the plan gives none.

    A table loaded with ``mode = "append"`` or ``"replace"`` matches no rows, so it needs no
    key (the plan's, if any, only names rows in messages)."""
    if spec.key:
        # The plan may name a key column as the source spells it (``TrackId``: ``trackid``).
        key = [k if k in info.columns else target_column(k, info.columns) or k for k in spec.key]
        return spec if key == spec.key else spec.model_copy(update={"key": key})
    if spec.mode != "merge":
        return spec
    key = [k for k in info.primary_key]
    taken = {c.from_ for c in spec.columns.values() if c.from_ is not None}
    # A generated key column still identifies rows when the source fills it (as map_all does).
    carried = set(source.columns) - taken - set(spec.ignore) if spec.map_all else set()
    fed = set(spec.columns) | carried | {target_column(c, info.columns) or c for c in carried}
    generated = [k for k in key if info.columns[k].has_default and k not in fed]
    if not key or generated:
        what = (
            f"its primary key {', '.join(key)} is generated by the database"
            if generated
            else "it has no primary key"
        )
        raise PlanError(
            f"table {spec.name!r} needs a key: {what}",
            hint="Name the columns that identify a row in `key` for that table in the plan, "
            'or load it with mode = "append" (once) or mode = "replace".',
        )
    return spec.model_copy(update={"key": key})


def row_mapper(
    plan: Plan,
    spec: TableSpec,
    info: TableInfo,
    source: SourceTable,
    now: datetime,
    *,
    warn: Callable[[str, str], None] | None = None,
) -> RowMapper:
    """The row mapper of ``spec`` into ``info``: the one way migrate (and its preview), verify
    and check build it, so all map rows alike — the spec keyed by :func:`with_key`, its hook
    loaded (a hook that cannot be loaded is a PlanError), the plan's time zone for naive
    timestamps, the source's declared date/time fields and key fields. ``now`` fills ``now``
    columns; ``warn`` gets value warnings with the row's key."""
    hook = load_hook(spec.hook, plan.base_dir) if spec.hook else None
    return RowMapper(
        with_key(spec, info, source),
        info,
        source.columns,
        now,
        hook,
        warn=warn,
        timezone=plan.options.zone,
        declared_times=declared_times(source),
        key_fields=source.key,
    )


def check_mapping(spec: TableSpec, info: TableInfo, mapper: RowMapper) -> None:
    """Refuse a mapping that cannot load: a key or ``newer_by`` without a value, or a
    NOT NULL column without a default that gets nothing."""
    for column in mapper.key:
        if column not in mapper.columns:
            raise PlanError(
                f"table {spec.name!r}: key column {column!r} gets no value from the source",
                hint=f"Map a source field to {column!r} under [tables.columns].",
            )
    if spec.newer_by and spec.newer_by not in mapper.columns:
        raise PlanError(
            f"table {spec.name!r}: newer_by column {spec.newer_by!r} gets no value",
            hint="Map a source field to it, or choose another column.",
        )
    for info_column in info.columns.values():
        name = info_column.name
        if not info_column.nullable and not info_column.has_default and name not in mapper.columns:
            raise PlanError(
                f"table {spec.name!r}: column {name!r} is NOT NULL without a default, "
                "and the plan gives it no value",
                hint=f"Map a source field to {name!r}, or give it a const or default.",
            )
