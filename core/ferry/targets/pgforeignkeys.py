"""A created table's foreign key checked by a merge of two index-only scans.

``ALTER TABLE … ADD FOREIGN KEY`` checks every existing row with one query (PostgreSQL's
``RI_Initial_Check``: the child's rows with no parent, an anti-join). On tables just loaded
the planner has no statistics and takes a hash anti-join; at the benchmark's full size
(1,000,000 child rows, 200,000 parents) its bucket scans cost 0.6–0.8 CPU s, while both sides
are already sorted by an index: the parent's key and, usually, an index of the child leading
with the key's columns. Where both tables' pages are all-visible (a first load writes them
frozen, :mod:`.pgfreeze`, and the index builds record it in ``pg_class``), a merge of the two
indexes reads no row of either table: 0.1 CPU s. The planner is steered there for that one
statement, in the run's transaction only (``set_config(…, true)``, then the previous values
back): hash joins and JIT compilation off. The check's result is the same whichever plan
runs it; where the conditions do not hold, the server's own choice stands.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..shape.ddl import sql_literal
from ..shape.identifiers import quote
from .pgsettings import local_settings

#: both tables' pages all-visible, and a valid plain btree index of the child whose first
#: columns are the key's (in any order): the anti-join can merge two index-only scans
_MERGEABLE = """
SELECT
  (SELECT relpages > 0 AND relallvisible >= relpages FROM pg_class WHERE oid = {child}::regclass)
  AND (SELECT relpages > 0 AND relallvisible >= relpages FROM pg_class
       WHERE oid = {parent}::regclass)
  AND EXISTS (
    SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    WHERE i.indrelid = {child}::regclass AND am.amname = 'btree' AND i.indisvalid
      AND i.indpred IS NULL
      AND ARRAY(SELECT k FROM unnest((i.indkey::int2[])[0:{last}]) k ORDER BY k)
        = ARRAY(SELECT attnum FROM pg_attribute
                WHERE attrelid = {child}::regclass AND attname = ANY({columns})
                ORDER BY attnum)
  )
"""

#: what the check's statement runs with, and what it had before
_STEER = {"enable_hashjoin": "off", "jit": "off"}


def mergeable_sql(table: str, columns: tuple[str, ...], ref_table: str) -> str:
    """The catalog query: may ``table``'s foreign key on ``columns`` to ``ref_table`` be
    checked by merging index-only scans (one boolean)."""
    names = "ARRAY[" + ", ".join(sql_literal(c) for c in columns) + "]::name[]"
    return _MERGEABLE.format(
        child=sql_literal(quote(table)),
        parent=sql_literal(quote(ref_table)),
        last=len(columns) - 1,
        columns=names,
    )


@asynccontextmanager
async def merge_checked(
    conn: Any, table: str, columns: tuple[str, ...], ref_table: str
) -> AsyncIterator[bool]:
    """Inside the block the planner merges index-only scans for the foreign key's check
    where :func:`mergeable_sql` says it may (yields whether it does); ``conn`` is the run's
    SQLAlchemy ``AsyncConnection``, inside its transaction."""
    found = (await conn.exec_driver_sql(mergeable_sql(table, columns, ref_table))).first()
    if not (found and found[0]):
        yield False
        return
    async with local_settings(conn, _STEER):
        yield True


__all__ = ["merge_checked", "mergeable_sql"]
