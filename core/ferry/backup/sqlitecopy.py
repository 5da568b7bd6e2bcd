"""Copying and hashing SQLite database files, for backups and rollbacks.

A live SQLite file cannot simply be copied byte by byte: another program may be writing it,
and part of its content may still sit in the ``-wal`` file next to it. :func:`sqlite_copy`
goes through SQLite's online backup API instead, so the copy is one consistent state, and
switches the copy to rollback-journal mode so it is one self-contained file.
:func:`sqlite_backup` is that page copy with a deadline: it gives up when another program
holds the file for longer than :data:`BUSY_TIMEOUT_SECONDS`. :func:`sqlite_digest` hashes a
database's content rather than its bytes, so a copy and its original (or a restored database
and its backup) compare equal even when their files differ.

Used by :mod:`ferry.backup.create` (making a backup) and :mod:`ferry.rollback` (restoring one).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

from ..shape.identifiers import quote
from ..sources.readonly import connect_uri, read_only_uri

#: how long a SQLite copy waits for a writer to let go of the file
BUSY_TIMEOUT_SECONDS = 10.0


def sqlite_backup(
    source: sqlite3.Connection, dest: sqlite3.Connection, timeout: float | None = None
) -> None:
    """``source.backup(dest)``, but giving up with "database is locked" after ``timeout``
    seconds of another program holding either file (Python's own loop would wait forever)."""
    limit = BUSY_TIMEOUT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + limit

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked")

    source.backup(dest, progress=progress, sleep=0.05)


def sqlite_copy(source: Path, dest: Path) -> None:
    """Copy a SQLite database through the online backup API into ``dest``.

    ``dest`` is the empty file the caller created (with the permissions it wants; flushing it
    to disk afterwards is the caller's too). The copy is one consistent state even while
    another program writes the source (its WAL included), and it is switched to
    rollback-journal mode so it is one self-contained file.
    """
    src = sqlite3.connect(read_only_uri(source), uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        dst = sqlite3.connect(dest)
        try:
            sqlite_backup(src, dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def sqlite_digest(path: Path, immutable: bool = False) -> str:
    """SHA-256 of a SQLite database's content: schema, user_version and every table's rows.

    Rows are hashed one by one and summed, so the digest does not depend on page layout or row
    order: a database restored through the backup API has the digest of its backup even when
    the file's bytes differ (header counters, free pages).
    """
    conn = connect_uri(read_only_uri(path, immutable), timeout=BUSY_TIMEOUT_SECONDS)
    conn.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    try:
        digest = hashlib.sha256()
        for pragma in ("user_version", "application_id"):
            digest.update(f"{pragma}={conn.execute(f'PRAGMA {pragma}').fetchone()[0]}\n".encode())
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        digest.update(_text(repr(schema)))
        for kind, name, _table, sql in schema:
            if kind != "table" or str(sql or "").upper().startswith("CREATE VIRTUAL"):
                continue  # a virtual table's data lives in its shadow tables
            count = total = 0
            for row in conn.execute(f"SELECT * FROM {quote(name)}"):
                count += 1
                total += int.from_bytes(hashlib.sha256(_text(repr(row))).digest(), "big")
            digest.update(_text(f"{name}\0{count}\0{total % (1 << 256):x}\n"))
        return digest.hexdigest()
    finally:
        conn.close()


def _text(value: str) -> bytes:
    return value.encode("utf-8", "backslashreplace")
