"""The foreign keys that change another table's rows when a row of a table is deleted.

A run deletes the rows its plan's ``delete_missing`` says, children first
(:func:`ferry.load.finish.finish_tables`), so a child table that deletes its own rows has none
left for a cascade to take. A table the run does not delete from (not in the plan, or no
``delete_missing``) may still lose rows to ``ON DELETE CASCADE`` or have them changed by
``SET NULL`` / ``SET DEFAULT``: the run counts those rows around the delete
(:mod:`ferry.load.cascades`) and names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..shape.ddl import sql_literal
from ..shape.identifiers import quote

if TYPE_CHECKING:
    from .base import Target

#: ``pg_constraint.confdeltype`` of the actions that change the referencing rows
_PG_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class Cascade:
    """``columns`` of ``table`` reference the deleted table; ``action`` is what a delete does
    to its rows (``CASCADE``, ``SET NULL`` or ``SET DEFAULT``)."""

    table: str
    columns: tuple[str, ...]
    action: str

    def count_sql(self) -> str | None:
        """The rows a delete changes the count of (all rows: a cascade lowers it; rows with
        the columns NULL: ``SET NULL`` raises it); None for ``SET DEFAULT``."""
        if self.action == "SET DEFAULT":
            return None
        where = ""
        if self.action == "SET NULL":
            where = " WHERE " + " AND ".join(f"{quote(c)} IS NULL" for c in self.columns)
        return f"SELECT count(*) FROM {quote(self.table)}{where}"


async def pg_cascades(target: Target, table: str) -> list[Cascade]:
    """The PostgreSQL target's foreign keys into ``table`` with an action on delete."""
    rows = await target.fetch_dicts(
        "SELECT c.conrelid::regclass::text AS child, c.confdeltype AS action, "
        "array_agg(a.attname::text ORDER BY k.n) AS columns "
        "FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(num, n) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num "
        f"WHERE c.contype = 'f' AND c.confrelid = to_regclass({sql_literal(quote(table))}) "
        "AND c.confdeltype IN ('c', 'n', 'd') GROUP BY c.oid, c.conrelid, c.confdeltype",
        f"the foreign keys into {table}",
    )
    return [
        Cascade(_unquoted(str(r["child"])), tuple(r["columns"]), _PG_ACTIONS[str(r["action"])])
        for r in rows
    ]


async def sqlite_cascades(target: Target, table: str) -> list[Cascade]:
    """The SQLite target's foreign keys into ``table`` with an action on delete."""
    rows = await target.fetch_dicts(
        'SELECT m.name AS child, f.id AS id, f."from" AS col, upper(f.on_delete) AS action '
        "FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f "
        f"WHERE m.type = 'table' AND f.\"table\" = {sql_literal(table)} COLLATE NOCASE "
        "AND upper(f.on_delete) IN ('CASCADE', 'SET NULL', 'SET DEFAULT') "
        "ORDER BY m.name, f.id, f.seq",
        f"the foreign keys into {table}",
    )
    found: dict[tuple[str, int], Cascade] = {}
    for r in rows:
        place = (str(r["child"]), int(r["id"]))
        had = found.get(place)
        columns = (*(had.columns if had else ()), str(r["col"]))
        found[place] = Cascade(place[0], columns, str(r["action"]))
    return list(found.values())


def _unquoted(name: str) -> str:
    """A ``regclass`` name as text, without the quotes PostgreSQL adds where needed."""
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


__all__ = ["Cascade", "pg_cascades", "sqlite_cascades"]
