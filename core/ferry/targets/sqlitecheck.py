"""Whether a whole copy (:mod:`ferry.targets.sqlitecopy`) may carry a source table as it is.

Every row must be one SQLite maps as it is (the native load's row check, ``row_ok``, finds
none for Python) and every text value UTF-8: per chunk of rows, one read gives the check's
minimum and each text column's values joined by a newline (which breaks any sequence), and
Python decodes each join once.

The check costs about three times the copy itself (the decode alone, in Python, about as much
as the copy), so where it can, it runs **while SQLite copies** (:func:`start_side_check`), in
two parts of the table's rowids, each on a read-only connection of its own in a worker thread:
the copy runs in the target's thread without Python's lock, the parts' SQL too, so the three
share the machine's cores. The copy is kept only when the check passes, else undone (its
savepoint). What the parts read is what the copy reads: only a source file in rollback-journal
mode is checked so, whose content cannot change while the target's transaction holds its
shared lock (taken before the check starts, kept until the run ends). A file in WAL mode (a
later commit would be in a new connection's snapshot), or a part that cannot read (another
writer waiting for the lock), leaves the check to the target's own connection
(:func:`rows_as_they_are`), before the copy or after it.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..shape.identifiers import quote
from ..sources.readonly import connect_uri, read_only_uri
from ..values.textbytes import all_utf8

if TYPE_CHECKING:
    from .sqlitecopy import WholeCopy

#: parts of the table checked at once (each a worker thread and a connection)
PARTS = 2

_FIRST, _LAST = -(2**63), 2**63 - 1


def check_sql(src: str, copy: WholeCopy) -> str:
    """One chunk of the check: (last rowid, minimum of ``row_ok``, each text column's values
    joined as one BLOB) for at most ``?`` rows of rowids ``(?, ?]``."""
    joined = "".join(f", CAST(group_concat({quote(c)}, char(10)) AS BLOB)" for c in copy.texts)
    names = "".join(f", {quote(c)}" for c in copy.texts)
    return (
        f"SELECT max(r), min(ok){joined} FROM (SELECT rowid AS r, ({copy.row_ok}) AS ok"
        f"{names} FROM {src} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?)"
    )


def _chunk_passes(row: tuple[Any, ...] | None) -> bool | None:
    """True: the chunk passes; False: it does not; None: there was no row left."""
    if row is None or row[0] is None:
        return None
    return bool(row[1]) and all_utf8(row[2:])


async def rows_as_they_are(driver: Any, src: str, copy: WholeCopy) -> bool:
    """The check in one read of the table on the target's connection (``driver``)."""
    sql = check_sql(src, copy)
    after = _FIRST
    while True:
        copy.cancel_point()
        async with driver.execute(sql, (after, _LAST, copy.rows)) as cursor:
            row = await cursor.fetchone()
        passes = _chunk_passes(row)
        if passes is None:
            return True
        if not passes:
            return False
        assert row is not None
        after = row[0]


@dataclass
class SideCheck:
    """The check's parts running in worker threads (:func:`start_side_check`)."""

    parts: list[asyncio.Future[bool | None]]
    #: set to stop the parts at their next chunk (a part failed, or the copy ended early)
    stop: threading.Event = field(default_factory=threading.Event)

    async def passed(self, driver: Any, src: str, copy: WholeCopy) -> bool:
        """Whether every part passed; where a part could not read, the check is made again
        on the target's connection. Raises what a part raised (a cancel)."""
        results = await asyncio.gather(*self.parts)
        if False in results:
            return False
        if None in results:
            return await rows_as_they_are(driver, src, copy)
        return True

    async def close(self) -> None:
        """Stop the parts and wait for their threads (their outcome is not needed)."""
        self.stop.set()
        await asyncio.gather(*self.parts, return_exceptions=True)


async def start_side_check(driver: Any, copy: WholeCopy) -> SideCheck | None:
    """Start the check of ``copy``'s source table on connections of its own, or None where
    it must run on the target's connection (a file in WAL mode, or not a file)."""
    schema = quote(copy.schema)
    async with driver.execute("SELECT name, file FROM pragma_database_list") as cursor:
        files = {name: path for name, path in await cursor.fetchall()}
    path = files.get(copy.schema)
    async with driver.execute(f"PRAGMA {schema}.journal_mode") as cursor:
        mode = await cursor.fetchone()
    if not path or mode is None or str(mode[0]).lower() == "wal":
        return None
    # (reading the source here, in the target's transaction, holds its shared lock)
    async with driver.execute(_looks_sql(copy.schema, copy.origin)) as cursor:
        looks = tuple(await cursor.fetchone() or ())
    low, high = (int(looks[2]), int(looks[3])) if looks and looks[2] is not None else (0, 0)
    uri = read_only_uri(path)
    sql = check_sql(quote(copy.origin), copy)
    bounds = [_FIRST] + [low + (high - low) * i // PARTS for i in range(1, PARTS)] + [_LAST]
    side = SideCheck([])
    for after, last in itertools.pairwise(bounds):
        part = asyncio.to_thread(
            _check_part,
            uri,
            (sql, _looks_sql("main", copy.origin), looks),
            (after, last),
            copy.rows,
            side.stop,
            copy.cancel_point,
        )
        side.parts.append(asyncio.ensure_future(part))
    return side


def _looks_sql(schema: str, table: str) -> str:
    """How the file looks to a connection: its pages, its schema (with each table's first
    page) and the table's first and last rowid. A part whose connection sees it otherwise (a
    file put in its place since the run attached it) leaves the check to the target's."""
    name, literal = quote(schema), "'" + schema.replace("'", "''") + "'"
    return (
        f"SELECT (SELECT page_count FROM pragma_page_count({literal})), "
        f"(SELECT group_concat(rootpage || sql) FROM {name}.sqlite_master), "
        f"min(rowid), max(rowid) FROM {name}.{quote(table)}"
    )


def _check_part(
    uri: str,
    queries: tuple[str, str, tuple[Any, ...]],
    span: tuple[int, int],
    rows: int,
    stop: threading.Event,
    cancel_point: Callable[[], None],
) -> bool | None:
    """The check of rowids ``span`` (``(after, last]``) in a worker thread: True when every
    chunk passes (or ``stop`` was set), False at the first that does not (and sets ``stop``),
    None when the file could not be read so (or looks other than to the target: ``queries``
    holds the check's SQL, the SQL of :func:`_looks_sql` and what the target saw)."""
    sql, looks_sql, looks = queries
    after, last = span
    try:
        conn = connect_uri(uri, timeout=0, any_thread=True)
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")
        if tuple(conn.execute(looks_sql).fetchone() or ()) != looks:
            return None
        while not stop.is_set():
            cancel_point()
            row = conn.execute(sql, (after, last, rows)).fetchone()
            passes = _chunk_passes(row)
            if passes is None:
                return True
            if not passes:
                stop.set()
                return False
            after = row[0]
        return True
    except sqlite3.Error:
        return None
    finally:
        conn.close()


__all__ = ["PARTS", "SideCheck", "check_sql", "rows_as_they_are", "start_side_check"]
