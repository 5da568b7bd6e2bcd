"""The one way Ferry opens a SQLite file it only reads.

Every such connection is read-only by its URI (``mode=ro``: opening never writes the file,
not even a journal) and registers a stand-in for each collation the app registers itself
(:mod:`ferry.sources.appcollations`: without Anki's ``unicase`` SQLite refuses even a
``count(*)``). Before this module each reader built its URI and remembered the collations on
its own, and one that forgot (the SQLite target's side check) fell back to a slower path on
such a file without saying why.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote as url_quote

from .appcollations import register_app_collations


def read_only_uri(path: Path | str, immutable: bool = False) -> str:
    """The ``file:`` URI that opens ``path`` (made absolute) read-only; ``immutable`` for a
    copy nobody writes (SQLite then takes no locks and never looks for a journal)."""
    return (
        f"file:{url_quote(str(Path(path).resolve()))}?{'immutable=1' if immutable else 'mode=ro'}"
    )


def connect_uri(
    uri: str, *, timeout: float, autocommit: bool = False, any_thread: bool = False
) -> sqlite3.Connection:
    """A connection on ``uri`` (from :func:`read_only_uri`) with the app's collations.

    ``autocommit``: transactions are the caller's own ``BEGIN``/``ROLLBACK`` (a read snapshot
    held across statements); ``any_thread``: usable from another thread than the opener's
    (one at a time)."""
    conn = sqlite3.connect(
        uri,
        uri=True,
        timeout=timeout,
        isolation_level=None if autocommit else "DEFERRED",
        check_same_thread=not any_thread,
    )
    try:
        register_app_collations(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def open_read_only(
    path: Path | str, *, timeout: float, autocommit: bool = False, any_thread: bool = False
) -> sqlite3.Connection:
    """:func:`connect_uri` on :func:`read_only_uri` of ``path``."""
    return connect_uri(
        read_only_uri(path), timeout=timeout, autocommit=autocommit, any_thread=any_thread
    )


__all__ = ["connect_uri", "open_read_only", "read_only_uri"]
