"""How the long values Ferry writes into PostgreSQL are compressed.

PostgreSQL compresses a value over about 2 kB before storing it (TOAST), by default with its
own ``pglz``, which is slow to write: at the benchmark's full size, compressing the
``content`` table's long texts was about half the server's work in a first run (COPY of
200,000 rows: 7.6 s with ``pglz``, 4.0 s with ``lz4``, the table 24% larger). Servers built
with lz4 (PostgreSQL 14 and newer, as most distributions ship them) offer it for
``default_toast_compression``, which a session may set for itself. Ferry sets it for its own
transaction only (``set_config(…, true)``), a run's and a rollback's restore of a backup alike
(the backup's rows hold the same long texts): the values it writes are stored with lz4, read
back transparently like any other, and the tables keep no setting of their own — the app's
later writes compress as the server's default says. A plan can keep the server's default
(``[target] compression = "server"``).
"""

from __future__ import annotations

from typing import Any

#: lz4 for the rest of the transaction, where the server knows it (no row otherwise: an
#: older server, or one built without lz4, keeps its default and the query raises nothing)
_LZ4_LOCAL = (
    "SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
    "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
)


async def compress_with_lz4(conn: Any) -> bool:
    """Store the long values this transaction writes with lz4 where the server offers it
    (``conn``: a SQLAlchemy ``AsyncConnection`` inside its transaction); True if it does."""
    result = await conn.exec_driver_sql(_LZ4_LOCAL)
    return result.first() is not None


def compress_with_lz4_sync(conn: Any) -> bool:
    """:func:`compress_with_lz4` on a psycopg (sync) connection inside its transaction: a
    rollback's restore writes the backup's long values as a run writes them."""
    return conn.execute(_LZ4_LOCAL).fetchone() is not None
