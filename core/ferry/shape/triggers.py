"""A SQLite source's triggers in the target: a trigger that only keeps a full-text index
current is created again on a SQLite target, once the index is rebuilt, and fires on Ferry's
writes too; the app's other triggers are carried into a SQLite target and set aside while
Ferry writes (:mod:`ferry.shape.apptriggers`); a PostgreSQL target gets none of them.

sqlite-utils' ``enable_fts(..., create_triggers=True)`` and most hand-made FTS5 setups keep
an external-content index equal to its table with three triggers (``INSERT INTO posts_fts
…`` after each insert, update and delete of ``posts``). Without them the index Ferry rebuilt
goes stale from the first row the app or a later sync writes: a search misses new and
changed rows. Such a trigger is safe to fire on Ferry's own writes, because it keeps the
index what the rebuild makes it. Any other trigger is not: a later sync's merge would run
it again on rows the source's trigger already shaped (an ``updated_at`` moved, an audit row
written twice while the audit table is synced too), so Ferry sets those aside while it
writes; and SQLite trigger bodies do not translate into PostgreSQL functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .apptriggers import carry_app_trigger
from .carried import SchemaObject
from .ddl import sql_literal
from .identifiers import quote

if TYPE_CHECKING:
    from ..targets import Target
    from .schema import TableInfo

_NAME = r'(?:"(?:[^"]|"")+"|\[[^\]]+\]|`[^`]+`|[\w$]+)'
_HEAD = re.compile(
    rf"^\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}\s+"
    rf"(?:BEFORE\s+|AFTER\s+|INSTEAD\s+OF\s+)?(?P<event>DELETE|INSERT|UPDATE)"
    rf"(?:\s+OF\s+(?P<of>.+?))?\s+"
    rf"ON\s+(?:{_NAME}\s*\.\s*)?(?P<table>{_NAME})\s.*?\bBEGIN\b(?P<body>.*)\bEND\b\s*;?\s*$",
    re.I | re.S,
)
_WRITE = re.compile(
    rf"\b(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    rf"\s+(?:{_NAME}\s*\.\s*)?(?P<name>{_NAME})",
    re.I,
)
_STRING = re.compile(r"'(?:[^']|'')*'")

#: why a trigger is not carried (a PostgreSQL target: SQLite bodies do not translate)
NOT_CARRIED = (
    "triggers are not carried: recreate it in the target after the move if the app needs it"
)
#: why a trigger whose SQL Ferry cannot read is not carried
UNREAD = "its SQL could not be read as CREATE TRIGGER ... BEGIN ... END: recreate it in the target"
#: why a target taking no app triggers does not get one that writes to a table
FIRES_ON_SYNCS = (
    "triggers are not carried: they would fire on every later sync's rows too; recreate it in "
    "the target after the move if the app needs it"
)


@dataclass(frozen=True)
class TriggerSql:
    """A trigger as its SQL says: the table it is on and the tables its body writes to
    (names unquoted, as written)."""

    table: str
    writes: tuple[str, ...]
    #: ``INSERT``, ``UPDATE`` or ``DELETE``, and the columns of an ``UPDATE OF``
    event: str = "INSERT"
    columns: tuple[str, ...] = ()


def unquote(name: str) -> str:
    """A SQLite identifier without its quotes (``[posts]``, ``"posts"``, `` `posts` ``)."""
    if len(name) >= 2 and name[0] + name[-1] in ('""', "[]", "``"):
        return name[1:-1].replace('""', '"') if name[0] == '"' else name[1:-1]
    return name


def parse_trigger(sql: str) -> TriggerSql | None:
    """What a ``CREATE TRIGGER`` is on and writes to; None when it does not read as one."""
    found = _HEAD.match(sql)
    if found is None:
        return None
    body = _STRING.sub("''", found.group("body"))
    writes = tuple(unquote(m.group("name")) for m in _WRITE.finditer(body))
    columns = tuple(unquote(c.strip()) for c in (found.group("of") or "").split(",") if c.strip())
    event = found.group("event").upper()
    return TriggerSql(unquote(found.group("table")), writes, event, columns)


async def carry_trigger(
    name: str,
    sql: str,
    source: str,
    target: Target,
    names: dict[tuple[str, str], tuple[str, dict[str, str]]],
    tables: dict[str, TableInfo],
    indexes: set[str],
    lost: Collection[str] = (),
) -> SchemaObject:
    """Create ``name`` after the load when it only keeps full-text indexes current (see the
    module docstring); ``indexes`` are the folded names of the indexes the target has from this
    or an earlier run, ``lost`` the ones it does not get, ``names`` the source tables' target
    names and columns."""
    trigger = parse_trigger(sql)
    if not target.capabilities.sqlite_virtual_tables:
        # a trigger that only keeps full-text indexes current: the table it reads is named
        if trigger and trigger.writes and {w.casefold() for w in trigger.writes} <= set(lost):
            return SchemaObject("trigger", name, "not carried", feeds_lost_index(trigger))
        # the app made its own on the table (MLflow's prevent_secrets_aad_mutation)
        found = names.get((source, trigger.table.casefold())) if trigger else None
        if found is not None and await _exists(target, name, found[0]):
            return SchemaObject("trigger", name, "carried", "in the target already")
        return SchemaObject("trigger", name, "not carried", NOT_CARRIED)
    if trigger is None:
        return SchemaObject("trigger", name, "not carried", UNREAD)
    written = {w.casefold() for w in trigger.writes}
    if written and written <= set(lost):
        index = ", ".join(dict.fromkeys(trigger.writes))
        why = f"it keeps the full-text index {index} current, which is not carried (see its entry)"
        return SchemaObject("trigger", name, "not carried", why)
    if not written or not written <= indexes:
        if target.capabilities.sqlite_triggers:
            return await carry_app_trigger(name, sql, trigger, source, target, names, tables)
        others = [w for w in trigger.writes if w.casefold() not in indexes]
        writes = f" (it writes to {others[0]})" if others else ""
        return SchemaObject("trigger", name, "not carried", FIRES_ON_SYNCS + writes)
    found = names.get((source, trigger.table.casefold()))
    info = tables.get(found[0]) if found is not None else None
    if found is None or info is None:
        return SchemaObject(
            "trigger", name, "not carried", f"it is on {trigger.table}, which the plan leaves out"
        )
    if await _exists(target, name):
        return SchemaObject("trigger", name, "carried", "in the target already")
    renamed = found[0].casefold() != trigger.table.casefold() or any(
        k != v.casefold() for k, v in found[1].items()
    )
    if not info.created or info.shape is None or renamed:
        why = (
            "the plan renames its table or columns"
            if renamed
            else f"{found[0]} is not a table this run creates"
        )
        return SchemaObject("trigger", name, "not carried", f"{why}: recreate it in the target")
    # After the index's rebuild (appended when the index was made), so the load's rows are
    # indexed once, by the rebuild.
    info.shape.after_load.append(sql)
    writes = ", ".join(dict.fromkeys(trigger.writes))
    # No ``sql`` here: it runs with the table's indexes, and is shown with them.
    return SchemaObject(
        "trigger", name, "carried", f"keeps {writes} current; created after the rows are in"
    )


def feeds_lost_index(trigger: TriggerSql) -> str:
    """Why a trigger keeping a full-text index a PostgreSQL target does not get is not
    carried, naming the table it reads: an app whose search backend is made per database may
    keep that table in another shape there (a Wagtail site's index entries are tsvector
    columns on PostgreSQL: its first page saved after the move failed on the SQLite-shaped
    table, ``column "title_text" … does not exist``)."""
    index = ", ".join(dict.fromkeys(trigger.writes))
    table = trigger.table
    return (
        f"it keeps the full-text index {index} current from the rows of {table}, and PostgreSQL "
        f"does not get that index: {table} comes across as it is, and nothing keeps an index of "
        f"it; if {table} is there only to feed the app's search and the app's search backend is "
        "made per database (Wagtail's keeps tsvector columns on PostgreSQL), compare it with "
        "what the app's own migrations make in an empty database and rebuild its index with "
        "the app's own command"
    )


async def _exists(target: Target, name: str, table: str = "") -> bool:
    """Whether the target has trigger ``name`` (on ``table``: a PostgreSQL target's, whose
    trigger names are per table)."""
    literal = name.replace("'", "''")
    sql = f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = '{literal}'"
    if table:
        on = sql_literal(quote(table))
        sql = (
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
            f"AND tgname = '{literal}' AND tgrelid = to_regclass({on})"
        )
    return bool(await target.scalar(sql, f"looking for trigger {name}"))


__all__ = [
    "FIRES_ON_SYNCS",
    "NOT_CARRIED",
    "TriggerSql",
    "carry_trigger",
    "feeds_lost_index",
    "parse_trigger",
    "unquote",
]
