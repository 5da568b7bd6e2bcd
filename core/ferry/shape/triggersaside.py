"""The app triggers Ferry carried into a SQLite target, set aside while Ferry writes.

Ferry records each trigger it carries (:mod:`ferry.shape.apptriggers`) in ``_ferry_triggers``
of the target file, in the run that creates it. Every later run that writes there (migrate and
its sync cycles and cutover, undo) calls :func:`set_aside` inside its transaction before its
first write: each recorded trigger still in the file is dropped, its SQL kept as the file
holds it then (an app that changed it keeps its change). :func:`put_back` creates them again,
in their order, before the commit; a run that fails rolls back, drops included. Triggers that
only keep a full-text index current are not recorded: they fire on Ferry's writes too, which
keeps the index equal to its table.

A trigger whose table is gone (an undo dropped the tables its run created) is not put back,
and a record whose trigger is gone (the app or an undo dropped it) is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .identifiers import quote

if TYPE_CHECKING:
    from ..targets import Target

#: Ferry's record of the triggers it carried, in the SQLite target file
TRIGGERS_TABLE = "_ferry_triggers"


@dataclass
class TriggersAside:
    """The triggers a run dropped: (name, table, SQL), in the order the file held them."""

    triggers: list[tuple[str, str, str]] = field(default_factory=list)
    recorded: bool = False  #: the target has a record (so put_back tidies it)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def _has_record(target: Target) -> bool:
    return bool(
        await target.scalar(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            f"AND name = {_literal(TRIGGERS_TABLE)}",
            "looking for Ferry's record of carried triggers",
        )
    )


async def record_trigger(target: Target, name: str, table: str) -> None:
    """Record ``name`` (on ``table``) as a trigger Ferry carried, in the run's transaction."""
    await target.execute(
        f"CREATE TABLE IF NOT EXISTS {TRIGGERS_TABLE} "
        "(name TEXT PRIMARY KEY COLLATE NOCASE, table_name TEXT NOT NULL)",
        "recording the triggers Ferry carries",
    )
    await target.execute(
        f"INSERT OR REPLACE INTO {TRIGGERS_TABLE} VALUES ({_literal(name)}, {_literal(table)})",
        f"recording trigger {name}",
    )


async def is_recorded(target: Target, name: str) -> bool:
    """Whether Ferry carried the trigger ``name`` (and so sets it aside)."""
    if not await _has_record(target):
        return False
    return bool(
        await target.scalar(
            f"SELECT count(*) FROM {TRIGGERS_TABLE} WHERE name = {_literal(name)}",
            f"looking for trigger {name} in Ferry's record",
        )
    )


async def set_aside(target: Target) -> TriggersAside:
    """Drop the recorded triggers the target holds, keeping their SQL (see the module
    docstring); nothing on a target that takes no SQLite triggers or has no record."""
    aside = TriggersAside()
    if not target.capabilities.sqlite_triggers or not await _has_record(target):
        return aside
    aside.recorded = True
    rows = await target.fetch_dicts(
        f"SELECT m.name, m.tbl_name, m.sql FROM sqlite_master AS m JOIN {TRIGGERS_TABLE} AS f "
        "ON f.name = m.name WHERE m.type = 'trigger' ORDER BY m.rowid",
        "reading the triggers Ferry carried",
    )
    for row in rows:
        name = str(row["name"])
        await target.execute(f"DROP TRIGGER main.{quote(name)}", f"setting trigger {name} aside")
        aside.triggers.append((name, str(row["tbl_name"]), str(row["sql"])))
    return aside


async def put_back(target: Target, aside: TriggersAside) -> None:
    """Create the triggers :func:`set_aside` dropped again, but those whose table is gone;
    forget the records of triggers the target no longer holds."""
    for name, table, sql in aside.triggers:
        exists = await target.scalar(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            f"AND name = {_literal(table)} COLLATE NOCASE",
            f"looking for table {table}",
        )
        if exists:
            await target.execute(sql, f"putting trigger {name} back")
    if aside.recorded:
        await target.execute(
            f"DELETE FROM {TRIGGERS_TABLE} WHERE name NOT IN "
            "(SELECT name FROM sqlite_master WHERE type = 'trigger')",
            "forgetting the triggers the target no longer holds",
        )


__all__ = [
    "TRIGGERS_TABLE",
    "TriggersAside",
    "is_recorded",
    "put_back",
    "record_trigger",
    "set_aside",
]
