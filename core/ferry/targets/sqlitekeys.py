"""A native load into a new SQLite table with its foreign keys checked once, at the end.

With foreign keys enforced, SQLite looks up the parent of every row it inserts into a child
table: a million rows whose parents lie in random order over a parent table larger than the
page cache read a page each (7.7 GB of reads, 5 CPU s, for the benchmark's one million steps
over 200,000 contents of 4 KiB each). The chunked native load
(:func:`ferry.native.stream.load_natives`) therefore inserts a table this run created, and
that holds no row yet, with foreign keys not enforced (:func:`.sqlitecopy.foreign_keys_off`),
then checks once whether any row lacks its parent (each distinct value once, in key order;
what that cannot settle, SQLite's own ``PRAGMA foreign_key_check``). If one does,
:func:`keys_checked_after` raises: the caller starts the run over with the table staged,
which is what the first refused row would have done with the keys enforced (an immediate
foreign key refuses the statement; the run then starts over staged, see
:meth:`ferry.targets.base.Target.load_direct`), so the result is the same either way.

Where the first refused row would not have stopped the load, the keys stay enforced: a
deferred foreign key (``DEFERRABLE INITIALLY DEFERRED``, or ``PRAGMA defer_foreign_keys``,
which the run sets for tables referencing each other in a cycle) lets a row wait for its
parent until the commit; a table that references itself may insert a child before its parent
within one statement; and a table another table holding rows refers to would leave those
rows' deferred violations unsettled (as in :mod:`.sqlitecopy`).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from ..shape.identifiers import quote
from .sqlitecopy import foreign_keys_off, has_orphans, referenced_by_rows, refers_to_itself

#: what SQLite reports for a row whose parent is missing
MISSING_PARENT = "FOREIGN KEY constraint failed"

_DEFERRED = re.compile(r"\bDEFERRED\b", re.IGNORECASE)
_CHECK = "SELECT EXISTS (SELECT 1 FROM pragma_foreign_key_check(?, 'main'))"


class MissingParent(Exception):
    """A row the load inserted with foreign keys off lacks its parent."""


@contextlib.asynccontextmanager
async def keys_checked_after(
    driver: Any, conn: sqlite3.Connection, table: str
) -> AsyncIterator[bool]:
    """Foreign keys not enforced on ``conn`` while the block loads ``table`` (yields True), or
    left as they are where the load must see them row by row (False). After a block that
    ended without an error, raises :class:`MissingParent` when a row of ``table`` lacks its
    parent. ``driver``: the aiosqlite connection over ``conn``; ``table``: created by this run."""
    if not await _checked_after_is_same(driver, table):
        yield False
        return
    with foreign_keys_off(conn) as off:
        yield off
    # (has_orphans counts a key that is not an integer as missing: the pragma decides those)
    if off and await has_orphans(driver, table) and await _one(driver, _CHECK, (table,)):
        raise MissingParent(table)


async def _checked_after_is_same(driver: Any, table: str) -> bool:
    """Whether one check after the load refuses the load exactly where the enforced keys
    would (see the module's docstring)."""
    sql = "SELECT count(*) FROM pragma_foreign_key_list(?, 'main')"
    if not await _one(driver, sql, (table,)):
        return False  # nothing to look up: no reason to change anything
    if await _one(driver, "PRAGMA main.defer_foreign_keys", ()):
        return False
    ddl = await _one(driver, "SELECT sql FROM main.sqlite_master WHERE name = ?", (table,))
    if ddl is None or _DEFERRED.search(str(ddl)):
        return False
    if await _one(driver, f"SELECT EXISTS (SELECT 1 FROM main.{quote(table)})", ()):
        return False
    return not (await refers_to_itself(driver, table) or await referenced_by_rows(driver, table))


async def _one(driver: Any, sql: str, params: tuple[Any, ...]) -> Any:
    async with driver.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


__all__ = ["MISSING_PARENT", "MissingParent", "keys_checked_after"]
