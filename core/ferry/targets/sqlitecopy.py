"""A table copied whole from an attached SQLite source, record for record.

``INSERT INTO main.t SELECT * FROM src.t`` into an empty table of the same shape lets SQLite
copy the source's b-tree records as they are, indexes included where the target already has
the same ones (its transfer optimisation, ``xferOptimization`` in SQLite's ``insert.c``): no
value is decoded and no constraint is checked row by row, so it costs about what
``VACUUM INTO`` does. The native load (:mod:`ferry.native.stream`) asks for it before its
chunked ``INSERT … SELECT``, and gets the same result or nothing:

- every source row must be one SQLite maps as it is (the load's own row check finds none
  left out) and every text value UTF-8 (checked in chunks, as the chunked load does), which
  :mod:`.sqlitecheck` checks while SQLite copies where it can (the copy undone if it fails);
- SQLite takes the fast path only while foreign keys are not enforced on the connection, and
  ``PRAGMA foreign_keys`` cannot change inside the run's transaction: :func:`foreign_keys_off`
  switches them off through ``sqlite3_db_config`` for the one statement. The copy is then
  checked with ``PRAGMA foreign_key_check`` and undone (a savepoint) if any row lacks its
  parent, so that table is loaded the usual way, with the usual rejects. A table that
  references itself is not copied whole (row by row, a row may not name a later one).

Where SQLite does not take the fast path (another column affinity, default or index), the
same statement inserts row by row: slower, same rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import platform
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..shape.identifiers import quote
from .sqlitecheck import SideCheck, rows_as_they_are, start_side_check

#: ``SQLITE_DBCONFIG_ENABLE_FKEY`` (sqlite3.h), for Pythons whose module lacks the name
_ENABLE_FKEY = 1002


@dataclass(frozen=True)
class WholeCopy:
    """A native load's table (``table``, created by this run) fed by ``origin`` of the source
    attached as ``schema``, column for column (``columns``: the target's, in order; ``fields``:
    the source's), when ``row_ok`` holds for every source row."""

    table: str
    schema: str
    origin: str
    columns: list[str]
    fields: list[str]
    row_ok: str
    #: the source's text columns, checked for UTF-8
    texts: list[str]
    #: rows per chunk of the check
    rows: int
    #: ``CREATE INDEX`` of the table's indexes: built before the copy when the source has the
    #: same ones (then SQLite copies the index records too), else left for after the load
    indexes: list[str] = field(default_factory=list)
    #: called between chunks of the check: raises when the run is cancelled
    cancel_point: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Copied:
    """A table :func:`copy_whole` copied: its rows, and whether its indexes are built."""

    rows: int
    indexed: bool


async def copy_whole(driver: Any, conn: sqlite3.Connection, copy: WholeCopy) -> Copied | None:
    """Copy ``copy``'s table whole (``driver``: the aiosqlite connection over ``conn``), or
    return None having written nothing."""
    table = quote(copy.table)
    if not await _same_columns(driver, copy) or await refers_to_itself(driver, copy.table):
        return None
    if await _one(driver, f"SELECT EXISTS (SELECT 1 FROM main.{table})", ()):
        return None
    if await referenced_by_rows(driver, copy.table):
        return None
    # The check while SQLite copies, where it can: only inside the run's transaction, which
    # holds the source's shared lock from the check's start to the copy's end.
    side = await start_side_check(driver, copy) if conn.in_transaction else None
    if side is None and not await rows_as_they_are(driver, _source(copy), copy):
        return None  # some rows go to Python, or their text is not UTF-8: the chunked load
    try:
        return await _copy_checked(driver, conn, copy, side)
    finally:
        if side is not None:
            await side.close()


async def _copy_checked(
    driver: Any, conn: sqlite3.Connection, copy: WholeCopy, side: SideCheck | None
) -> Copied | None:
    """The copy in a savepoint, undone when the check still running (``side``) fails or a
    row lacks its parent."""
    src = _source(copy)
    await driver.execute("SAVEPOINT ferry_whole_copy")
    try:
        indexed = await _same_indexes(driver, copy)
        with foreign_keys_off(conn) as off:
            if not off:
                await driver.execute("ROLLBACK TO ferry_whole_copy")
                return None
            try:
                insert = f"INSERT INTO main.{quote(copy.table)} SELECT * FROM {src}"
                async with driver.execute(insert) as cur:
                    copied = int(cur.rowcount)
            except sqlite3.IntegrityError:  # the chunked load finds the rows (rejects)
                await driver.execute("ROLLBACK TO ferry_whole_copy")
                return None
        checked = side is None or await side.passed(driver, src, copy)
        if not checked or await has_orphans(driver, copy.table):
            await driver.execute("ROLLBACK TO ferry_whole_copy")
            return None
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            await driver.execute("ROLLBACK TO ferry_whole_copy")
        raise
    finally:  # (after ROLLBACK TO, RELEASE ends the savepoint with nothing in it)
        with contextlib.suppress(sqlite3.Error):
            await driver.execute("RELEASE ferry_whole_copy")
    return Copied(copied, indexed)


def _source(copy: WholeCopy) -> str:
    return f"{quote(copy.schema)}.{quote(copy.origin)}"


async def _same_indexes(driver: Any, copy: WholeCopy) -> bool:
    """Create the table's indexes when the source has the same ones (True), so SQLite copies
    their records with the rows; else create none (False): they are built after the load."""
    if not copy.indexes:
        return False
    await driver.execute("SAVEPOINT ferry_whole_indexes")
    for statement in copy.indexes:
        await driver.execute(statement)
    source = await _index_forms(driver, copy.schema, copy.origin)
    target = await _index_forms(driver, "main", copy.table)
    same = None not in target and all(form in source for form in target)
    if not same:
        await driver.execute("ROLLBACK TO ferry_whole_indexes")
    await driver.execute("RELEASE ferry_whole_indexes")
    return same


async def _index_forms(driver: Any, schema: str, table: str) -> list[Any]:
    """Each index of ``table``: (unique, its key columns with order and collation); None for
    one SQLite might not match (partial, or on an expression)."""
    async with driver.execute(
        'SELECT name, "unique", partial FROM pragma_index_list(?, ?)', (table, schema)
    ) as cursor:
        indexes = await cursor.fetchall()
    forms: list[Any] = []
    for name, unique, partial in indexes:
        sql = 'SELECT name, "desc", coll FROM pragma_index_xinfo(?, ?) WHERE key ORDER BY seqno'
        async with driver.execute(sql, (name, schema)) as cursor:
            parts = tuple(await cursor.fetchall())
        bad = partial or any(part[0] is None for part in parts)
        forms.append(None if bad else (unique, parts))
    return forms


async def has_orphans(driver: Any, table: str) -> bool:
    """Whether a row of ``table`` may reference a row missing from its parent (what
    ``PRAGMA foreign_key_check`` finds). A one-column reference to a parent's INTEGER key is
    checked once per distinct value (through the child's index where there is one); a
    value that is not an integer counts as missing (the caller then loads the table row by
    row, which finds the truth); any other reference by the pragma itself. (GROUP BY, not
    DISTINCT: without an index on the column, SQLite then sorts the values and looks the
    parents up in key order, a page once, instead of in the order the rows give them.) A
    parent key that is the rowid is looked up in the list of the parent's rowids, which
    SQLite reads from the parent's smallest index where it has one (the benchmark's 4 KiB
    rows: 784 MB of pages otherwise)."""
    sql = 'SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?, \'main\')'
    async with driver.execute(sql, (table,)) as cursor:
        refs = await cursor.fetchall()
    by_id: dict[int, list[Any]] = {}
    for ref in refs:
        by_id.setdefault(ref[0], []).append(ref)
    for parts in by_id.values():
        key = await _integer_key(driver, parts[0][1])
        if len(parts) != 1 or key is None or parts[0][3] not in (None, key):
            orphans = "SELECT EXISTS (SELECT 1 FROM pragma_foreign_key_check(?, 'main'))"
            return bool(await _one(driver, orphans, (table,)))
        column, parent = quote(parts[0][2]), quote(parts[0][1])
        if await _rowid_key(driver, parts[0][1]):
            # the parent's keys are its rowids: read from its smallest index, not its rows
            found = f"v IN (SELECT +{quote(key)} FROM main.{parent})"
        else:
            found = f"EXISTS (SELECT 1 FROM main.{parent} WHERE {quote(key)} = v)"
        missing = (
            f"SELECT EXISTS (SELECT 1 FROM (SELECT {column} AS v FROM main.{quote(table)}"
            f" WHERE {column} IS NOT NULL GROUP BY 1) WHERE typeof(v) <> 'integer' OR NOT {found})"
        )
        if await _one(driver, missing, ()):
            return True
    return False


async def referenced_by_rows(driver: Any, table: str) -> bool:
    """Whether another table holding rows references ``table``: with foreign keys off, rows
    copied into a parent do not settle the child rows SQLite holds as violations to check
    at commit (deferred keys), so such a table is loaded the usual way."""
    sql = (
        "SELECT DISTINCT m.name FROM main.sqlite_master AS m, "
        "pragma_foreign_key_list(m.name, 'main') AS f "
        "WHERE m.type = 'table' AND lower(f.\"table\") = lower(?) AND lower(m.name) <> lower(?)"
    )
    async with driver.execute(sql, (table, table)) as cursor:
        children = [row[0] for row in await cursor.fetchall()]
    for child in children:
        if await _one(driver, f"SELECT EXISTS (SELECT 1 FROM main.{quote(child)})", ()):
            return True
    return False


async def _integer_key(driver: Any, table: str) -> str | None:
    """The one primary key column of ``table`` (in ``main``) when it is declared INTEGER."""
    sql = "SELECT name, type FROM pragma_table_info(?, 'main') WHERE pk"
    async with driver.execute(sql, (table,)) as cursor:
        keys = await cursor.fetchall()
    if len(keys) != 1 or keys[0][1].upper() != "INTEGER":
        return None
    return str(keys[0][0])


async def _rowid_key(driver: Any, table: str) -> bool:
    """Whether ``table``'s one INTEGER primary key is its rowid (SQLite gives any other
    primary key, ``WITHOUT ROWID`` or ``INTEGER PRIMARY KEY DESC``, an index of its own)."""
    sql = "SELECT NOT EXISTS (SELECT 1 FROM pragma_index_list(?, 'main') WHERE origin = 'pk')"
    return bool(await _one(driver, sql, (table,)))


@contextlib.contextmanager
def foreign_keys_off(conn: sqlite3.Connection) -> Iterator[bool]:
    """Foreign keys not enforced on ``conn`` inside the block, even in a transaction (True;
    False where this Python cannot switch them: nothing changed). They are on again after."""
    setconfig = getattr(conn, "setconfig", None)  # Python 3.12+
    if setconfig is not None:
        op = getattr(sqlite3, "SQLITE_DBCONFIG_ENABLE_FKEY", _ENABLE_FKEY)
        was = conn.getconfig(op)  # type: ignore[attr-defined]
        setconfig(op, False)
        try:
            yield True
        finally:
            setconfig(op, was)
        return
    switch = _db_config(conn)
    if switch is None:
        yield False
        return
    was = switch(-1)
    if switch(0) != 0:  # not switched off: nothing to rely on
        switch(was)
        yield False
        return
    try:
        yield True
    finally:
        switch(was)


def _db_config(conn: sqlite3.Connection) -> Any:
    """On CPython 3.11 (no ``setconfig``): a function setting ``SQLITE_DBCONFIG_ENABLE_FKEY``
    of ``conn`` (-1 reads it) and returning the value after, or None. The module keeps the
    ``sqlite3 *`` first in its connection object; the handle is used only when SQLite names
    the connection's own file for it. Linux on x86-64 or ARM64 only: ``sqlite3_db_config``
    is variadic, which ctypes calls as if it were not; those two pass variadic integers and
    pointers as fixed ones, where Apple's ARM64 does not (the value would be read from
    elsewhere)."""
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return None
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64"):
        return None
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        config, filename = lib.sqlite3_db_config, lib.sqlite3_db_filename
    except (ImportError, OSError, AttributeError):
        return None
    handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    filename.restype = ctypes.c_char_p
    main = conn.execute("SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()
    if (
        not handle
        or main is None
        or filename(ctypes.c_void_p(handle), b"main") != (main[0] or "").encode()
    ):
        return None

    def switch(value: int) -> int:
        out = ctypes.c_int(-1)
        config(ctypes.c_void_p(handle), _ENABLE_FKEY, ctypes.c_int(value), ctypes.byref(out))
        return out.value

    return switch


async def _one(driver: Any, sql: str, params: tuple[Any, ...]) -> Any:
    async with driver.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


async def _same_columns(driver: Any, copy: WholeCopy) -> bool:
    """Both tables have exactly the copy's columns, in order, none hidden (``SELECT *``
    then gives every target column its source column)."""
    for schema, table, names in (
        ("main", copy.table, copy.columns),
        (copy.schema, copy.origin, copy.fields),
    ):
        sql = "SELECT name, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid"
        async with driver.execute(sql, (table, schema)) as cursor:
            found = await cursor.fetchall()
        if [r[0] for r in found] != names or any(r[1] for r in found):
            return False
    return True


async def refers_to_itself(driver: Any, table: str) -> bool:
    """Whether a foreign key of ``table`` (in ``main``) references ``table`` itself."""
    sql = "SELECT count(*) FROM pragma_foreign_key_list(?, 'main') WHERE lower(\"table\") = ?"
    return bool(await _one(driver, sql, (table, table.lower())))


__all__ = [
    "Copied",
    "WholeCopy",
    "copy_whole",
    "foreign_keys_off",
    "has_orphans",
    "referenced_by_rows",
    "refers_to_itself",
]
