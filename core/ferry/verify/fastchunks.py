"""Verification's fast path, a SQLite source span read a chunk of rows at a time
(:mod:`ferry.verify.fastsource` reads its spans so once the target's side is done): one
statement writes up to :data:`CHUNK_ROWS` rows' bytes joined by NUL (``group_concat``), and
Python splits them and sums their MD5s.

Python's ``sqlite3`` releases the GIL around each ``sqlite3_step``: read a row at a time, two
threads hand the GIL over once a row, and cost more than they gain. Read a chunk at a time,
SQLite writes the whole chunk without the GIL and the hand-over comes once a chunk, so two
threads reading two spans can use two cores.

A chunk's rows are told apart by the NULs between them: a NUL inside a row gives more parts
than rows, and a NULL row (one SQL cannot write) an empty part (a written row is never empty:
it holds the ``;`` after its lengths). Either way the chunk's rows are read again one at a
time, as :func:`~ferry.verify.fastsource.digest_sum` takes them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable

from ..shape.identifiers import quote
from .fastrows import SMALL_ROW_BYTES, digest_sum, small_md5, summed_digests

#: rows one chunk statement writes
CHUNK_ROWS = 2000


def chunk_sql(table: str, rowid: str, row_value: str) -> str:
    """Of the rows whose rowid is between the two parameters, the first :data:`CHUNK_ROWS` by
    rowid: how many, the last rowid, and their bytes joined by NUL (NULL rows empty)."""
    return (
        "SELECT count(*), max(ferry_k), "
        "CAST(group_concat(ifnull(ferry_r, ''), char(0)) AS BLOB) "
        f"FROM (SELECT {rowid} AS ferry_k, {row_value} AS ferry_r FROM {quote(table)} "
        f"WHERE {rowid} BETWEEN ? AND ? ORDER BY {rowid} LIMIT {CHUNK_ROWS})"
    )


def chunk_sum(count: int, joined: bytes) -> int | None:
    """The sum of the MD5s of a chunk's ``count`` rows, None when they cannot be told apart."""
    parts = joined.split(b"\0")
    if len(parts) != count or not all(parts):
        return None
    md5 = small_md5 if len(parts[0]) < SMALL_ROW_BYTES else hashlib.md5
    return summed_digests(b"".join([md5(one).digest() for one in parts]))


def read_chunks(
    conn: sqlite3.Connection,
    chunks: str,
    rows: str,
    span: tuple[int, int],
    counted: Callable[[int], bool],
) -> int | None:
    """The digest sum of a span's rows read a chunk at a time (``chunks``: its
    :func:`chunk_sql`; ``rows``: the row SQL with ``BETWEEN ? AND ?``), None for the general
    path. ``counted(rows)`` is called after each chunk and stops the read when it says so."""
    low, high = span
    total = 0
    while True:
        count, last, joined = conn.execute(chunks, (low, high)).fetchone()
        if not count:
            return total
        part = chunk_sum(count, joined)
        if part is None:  # rows with a NUL, or NULL rows: these one at a time
            part = digest_sum(conn.execute(rows, (low, last)).fetchall())
            if part is None:
                return None
        total += part
        if not counted(count):
            return None
        if count < CHUNK_ROWS or last >= high:
            return total
        low = last + 1
