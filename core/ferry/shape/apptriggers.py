"""An app's own triggers (a cascade, a stamp, a check that raises) carried from a SQLite source
into a SQLite target: created as the source wrote them once the rows are in, and set aside
while Ferry writes (:mod:`ferry.shape.triggersaside`).

Such a trigger must not fire on Ferry's writes: a later sync's merge would run it again on
rows the source's own trigger already shaped (an audit row written twice while the audit
table is synced too), and a trigger calling a function the app registers on its connections
(calibre's ``title_sort``) cannot even run on Ferry's. SQLite drops and creates a trigger
inside a transaction, so every run drops the ones Ferry carried before its first write and
creates them again before its commit: the app never sees them missing, Ferry's writes never
fire them, the app's always do.

The SQL is the source's, SQLite to SQLite, with only the table and column names the plan
renames replaced. The trigger is tried first under a savepoint (created, then a statement
that fires it compiled): one the target refuses (a table the plan leaves out) is not
carried, with SQLite's reason; a function SQLite does not know is the app's own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from .carried import SchemaObject
from .identifiers import quote
from .triggersaside import is_recorded, record_trigger

if TYPE_CHECKING:
    from ..targets import Target
    from .schema import TableInfo
    from .triggers import TriggerSql

#: what a carried app trigger's entry says in check, the preview and the report
SET_ASIDE = "created after the rows are in; set aside while Ferry writes"
#: and in a later run, or when the target had it already
ALREADY = "in the target already; set aside while Ferry writes"

_TOKEN = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\[[^\]]*\]|`[^`]*`|--[^\n]*|/\*.*?(?:\*/|$)|[\w$]+|.",
    re.S,
)
_APP_FUNCTION = re.compile(r"no such function: ([\w$]+)")

Names = dict[tuple[str, str], tuple[str, dict[str, str]]]


async def carry_app_trigger(
    name: str,
    sql: str,
    trigger: TriggerSql,
    source: str,
    target: Target,
    names: Names,
    tables: dict[str, TableInfo],
) -> SchemaObject:
    """Carry ``name`` (see the module docstring); ``names`` are the source tables' target names
    and columns, ``tables`` the target's tables after the schema step."""
    found = names.get((source, trigger.table.casefold()))
    info = tables.get(found[0]) if found is not None else None
    if found is None or info is None:
        what = "a view" if found is not None else "a table the plan leaves out"
        return SchemaObject(
            "trigger", name, "not carried", f"it is on {trigger.table}, {what}: recreate it"
        )
    on = await trigger_table(target, name)
    if on is not None:
        if on.casefold() != info.name.casefold():
            why = f"the target has a trigger of that name on {on}: recreate it under another"
            return SchemaObject("trigger", name, "not carried", why)
        if not await is_recorded(target, name):
            # the app's own, made there before (the app ran on the target): the source's
            # rows were shaped by the source's alike, so Ferry's writes must not fire it either
            await record_trigger(target, name, info.name)
        return SchemaObject("trigger", name, "carried", ALREADY)
    if not info.created or info.shape is None:
        why = f"{found[0]} is not a table this run creates"
        return SchemaObject("trigger", name, "not carried", f"{why}: recreate it in the target")
    mapped = renamed_sql(sql, source, names)
    refused, calls = await _try(target, name, mapped, trigger, info)
    if refused:
        return SchemaObject("trigger", name, "not carried", f"the target refused it: {refused}")
    info.shape.after_load.append(mapped)  # after the rows (and any full-text rebuild)
    await record_trigger(target, name, info.name)
    if calls:
        return SchemaObject(
            "trigger",
            name,
            "carried",
            f"{SET_ASIDE}; it calls {calls}(), a function the app registers on its own connections",
        )
    return SchemaObject("trigger", name, "carried", SET_ASIDE)


def renamed_sql(sql: str, source: str, names: Names) -> str:
    """``sql`` with the names of the source's tables (and their columns) the plan renames
    replaced by their target names; as written when the plan renames none of them."""
    tokens = [m.group(0) for m in _TOKEN.finditer(sql)]
    words = {_unquoted(t).casefold() for t in tokens if _is_name(t)}
    renames: dict[str, str] = {}
    for (root, origin), (new, columns) in names.items():
        if root != source or origin not in words:
            continue
        if new.casefold() != origin:
            renames[origin] = new
        for old, column in columns.items():
            if column.casefold() != old:
                renames[old] = column
    if not renames:
        return sql
    return "".join(
        quote(renames[_unquoted(t).casefold()])
        if _is_name(t) and _unquoted(t).casefold() in renames
        else t
        for t in tokens
    )


def _is_name(token: str) -> bool:
    first = token[0]
    return first in '"[`' or first == "_" or first == "$" or first.isalpha()


def _unquoted(token: str) -> str:
    if token[0] + token[-1] in ('""', "[]", "``") and len(token) >= 2:
        return token[1:-1].replace('""', '"') if token[0] == '"' else token[1:-1]
    return token


async def _try(
    target: Target, name: str, sql: str, trigger: TriggerSql, info: TableInfo
) -> tuple[str, str]:
    """Create the trigger and compile a statement that fires it, then undo both: SQLite's
    reason when it refuses (else ""), and the app function it calls that SQLite does not know
    (else "")."""
    table = quote(info.name)
    if trigger.event == "DELETE":
        fire = f"DELETE FROM {table}"
    elif trigger.event == "UPDATE":
        # a column it fires on (calibre has one ``UPDATE OF author`` on a table without one:
        # it never fires, in the source as here, and is carried as it is)
        have = {c.casefold(): c for c in info.columns}
        named = [have[c.casefold()] for c in trigger.columns if c.casefold() in have]
        column = quote(named[0] if named else next(iter(info.columns)))
        fire = f"UPDATE {table} SET {column} = {column}"
    else:
        fire = f"INSERT INTO {table} DEFAULT VALUES"
    savepoint = await target.conn.begin_nested()
    try:
        await target.conn.exec_driver_sql(target.driver_sql(sql))
        # (the comment: a statement of its own, never one cached before the trigger was made)
        await target.conn.exec_driver_sql(f"EXPLAIN {fire} /* {name.replace('*', '')} */")
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
        called = _APP_FUNCTION.search(reason)
        return ("", called.group(1)) if called else (reason, "")
    finally:
        await savepoint.rollback()
    return "", ""


async def trigger_table(target: Target, name: str) -> str | None:
    """The table of the target's trigger of that name; None when it has none."""
    literal = name.replace("'", "''")
    found = await target.scalar(
        f"SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
        f"AND name = '{literal}' COLLATE NOCASE",
        f"looking for trigger {name}",
    )
    return None if found is None else str(found)


__all__ = ["ALREADY", "SET_ASIDE", "carry_app_trigger", "renamed_sql", "trigger_table"]
