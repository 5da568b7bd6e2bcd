"""Views and triggers of a SQLite source: views whose SQL translates are created after the
tables; every other view is named as not carried, and so is every trigger but the ones that
keep a full-text index current (:mod:`ferry.shape.triggers`).

A view is translated with sqlglot (SQLite's SQL into the target's dialect), its table and
column names replaced by the ones the plan gives them in the target, and created under a
savepoint: a view the target refuses is not carried, with the target's reason. A view is
created in the run that creates the tables it reads (so a rollback, which drops those
tables, takes it along).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FerryError
from ..sources.readonly import open_read_only
from .carried import SchemaObject
from .identifiers import quote
from .triggers import carry_trigger
from .virtualtables import carry_virtual

if TYPE_CHECKING:
    from ..plan import Plan
    from ..targets import Target
    from .schema import TableInfo


@dataclass
class SourceObject:
    """A view or trigger as a SQLite source file holds it."""

    source: str
    kind: str
    name: str
    sql: str
    path: Path | None = None  # the source file (a full-text index's own rows are read there)


def read_objects(plan: Plan) -> list[SourceObject]:
    """The views, triggers and virtual tables of every SQLite source the plan's tables
    read, in the order the files hold them (a view after the views it reads)."""
    used = {t.source.split(".", 1)[0] for t in plan.tables}
    found: list[SourceObject] = []
    for spec in plan.sources:
        if spec.kind != "sqlite" or spec.name not in used or not spec.path:
            continue
        path = Path(spec.path).expanduser()
        path = path if path.is_absolute() else plan.base_dir / path
        if not path.is_file():
            continue  # the source reader reports it
        try:
            conn = open_read_only(path, timeout=5.0)
            try:
                rows = conn.execute(
                    "SELECT CASE WHEN type = 'table' THEN 'virtual table' ELSE type END, "
                    "name, sql FROM sqlite_master WHERE (type IN ('view', 'trigger') "
                    "OR sql LIKE 'CREATE VIRTUAL TABLE%') AND sql IS NOT NULL ORDER BY rowid"
                ).fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            continue  # the source reader reports an unreadable file
        found.extend(SourceObject(spec.name, str(k), str(n), str(s), path) for k, n, s in rows)
    return found


async def carry_views(
    plan: Plan, target: Target, tables: dict[str, TableInfo]
) -> list[SchemaObject]:
    """Create the source views that translate over tables this run creates; name the rest
    and every trigger. ``tables`` are the target's tables after the schema step."""
    objects: list[SchemaObject] = []
    #: source table or view (source, name folded) -> its target name and column names
    names: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    created: set[str] = set()
    for spec in plan.tables:
        source, _, origin = spec.source.partition(".")
        info = tables.get(spec.name)
        if info is None or not origin or (source, origin.casefold()) in names:
            continue
        columns = {c.casefold(): c for c in info.columns}
        for column_name, column in spec.columns.items():
            if column.from_:
                columns[column.from_.casefold()] = column_name
        names[(source, origin.casefold())] = (spec.name, columns)
        if info.created:
            created.add(spec.name)
    triggers: list[SourceObject] = []
    indexes: set[str] = set()  # the full-text indexes the target has (folded names)
    lost: set[str] = set()  # and the ones it does not get
    for item in read_objects(plan):
        if item.kind == "trigger":
            triggers.append(item)  # after every index, whatever the file's order
            continue
        if item.kind == "virtual table":
            if (item.source, item.name.casefold()) not in names:  # not copied as a table
                made = await carry_virtual(
                    item.name, item.sql, item.source, target, names, tables, item.path
                )
                objects.append(made)
                if made.status == "carried":
                    indexes.add(item.name.casefold())
                else:
                    lost.add(item.name.casefold())
            continue
        objects.append(await _carry_view(item, target, names, created))
    for item in triggers:
        objects.append(
            await carry_trigger(
                item.name, item.sql, item.source, target, names, tables, indexes, lost
            )
        )
    return objects


async def _carry_view(
    item: SourceObject,
    target: Target,
    names: dict[tuple[str, str], tuple[str, dict[str, str]]],
    created: set[str],
) -> SchemaObject:
    try:
        sql, read = translate_view(item, target.dialect_name, names)
    except _NotCarried as exc:
        return SchemaObject("view", item.name, "not carried", str(exc))
    if await target.relation_exists(item.name):
        names[(item.source, item.name.casefold())] = (item.name, {})
        return SchemaObject("view", item.name, "carried", "in the target already (kept as it is)")
    if not read & created:
        return SchemaObject(
            "view",
            item.name,
            "not carried",
            "it reads only tables that were in the target already: create it there yourself",
            sql,
        )
    try:
        async with target.conn.begin_nested():
            await target.execute(sql, f"creating view {item.name}")
    except FerryError as exc:
        reason = f"the target refused its translation: {exc.message.splitlines()[0]}"
        return SchemaObject("view", item.name, "not carried", reason, sql)
    names[(item.source, item.name.casefold())] = (item.name, {})
    created.add(item.name)
    return SchemaObject("view", item.name, "carried", "", sql)


class _NotCarried(Exception):
    """Why a view does not translate."""


def translate_view(
    item: SourceObject, dialect: str, names: dict[tuple[str, str], tuple[str, dict[str, str]]]
) -> tuple[str, set[str]]:
    """``CREATE VIEW`` for the target's ``dialect`` and the target tables it reads."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, SqlglotError

    try:
        parsed = sqlglot.parse_one(item.sql, read="sqlite")
    except SqlglotError as exc:
        raise _NotCarried(f"its SQL could not be read: {str(exc).splitlines()[0]}") from None
    query = parsed.expression if isinstance(parsed, exp.Create) else None
    if not isinstance(query, exp.Query):
        raise _NotCarried("it is not a plain CREATE VIEW ... AS SELECT")
    local = {cte.alias_or_name.casefold() for cte in query.find_all(exp.CTE)}
    read: set[str] = set()
    renames: dict[str, str] = {}
    for table in query.find_all(exp.Table):
        folded = table.name.casefold()
        if folded in local:
            continue
        if table.args.get("db") is not None:
            raise _NotCarried(f"it reads {table.sql(dialect='sqlite')} of another database")
        found = names.get((item.source, folded))
        if found is None:
            raise _NotCarried(f"it reads {table.name}, which the plan does not carry")
        new_name, columns = found
        table.set("this", exp.to_identifier(new_name))
        read.add(new_name)
        renames.update(columns)
    for column in query.find_all(exp.Column):
        new = renames.get(column.name.casefold())
        if new is not None:
            column.set("this", exp.to_identifier(new))
    target_dialect = "postgres" if dialect == "postgresql" else "sqlite"
    try:
        body = query.sql(dialect=target_dialect, identify=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise _NotCarried(f"its SQL does not translate: {str(exc).splitlines()[0]}") from None
    return f"CREATE VIEW {quote(item.name)} AS {body}", read
