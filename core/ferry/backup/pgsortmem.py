"""Sort memory for a rollback's index builds, on a PostgreSQL server on this machine.

A rollback sets the restored tables' secondary indexes and foreign keys aside while the rows go
back and makes them again afterwards (:mod:`ferry.backup.pgaside`). PostgreSQL sorts the rows
of a ``CREATE INDEX`` within ``maintenance_work_mem`` (64 MB by default), and checks a new
foreign key with that much ``work_mem`` too; past it the sort spills into temporary files on
the server's disk and merges them. At twelve million rows every build spilled (30–310 MB a
build) and the builds took 1.3× full size's time per row.

:func:`raise_sort_memory` raises ``maintenance_work_mem`` for the rollback's own transaction
only (``set_config(…, true)``: the server's value is back at commit or rollback) to an eighth
of the machine's memory, at most 1 GiB, and never lowers it. Only when the server runs on
this machine: the memory is the server's, for the length of a build (not Ferry's process),
and a remote server's size is not known here.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

#: the most a rollback asks for (PostgreSQL's own sorts gain little past it)
MAX_SORT_BYTES = 1 << 30


def machine_memory() -> int | None:
    """Bytes of physical memory, None where the system does not say (Windows)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def sort_memory_kb(memory: int | None) -> int | None:
    """The ``maintenance_work_mem`` (kB) for a machine of ``memory`` bytes: an eighth, ≤ 1 GiB."""
    if not memory or memory <= 0:
        return None
    return min(memory // 8, MAX_SORT_BYTES) // 1024


def on_this_machine(conn: Any) -> bool:
    """True when the connection reaches the server through a Unix socket or a loopback
    address."""
    host = str(conn.info.host or "")
    if host.startswith("/") or host.startswith("@") or host == "localhost":
        return True
    for address in (getattr(conn.info, "hostaddr", ""), host):
        try:
            if address and ipaddress.ip_address(address).is_loopback:
                return True
        except ValueError:
            continue
    return False


def raise_sort_memory(conn: Any) -> int | None:
    """Raise ``maintenance_work_mem`` for ``conn``'s transaction (psycopg, sync, inside one);
    returns the kB set, None when left as it was (a remote server, memory unknown, or the
    server's own setting as large)."""
    if not on_this_machine(conn):
        return None
    want = sort_memory_kb(machine_memory())
    row = conn.execute(
        "SELECT setting::bigint FROM pg_settings WHERE name = 'maintenance_work_mem'"
    ).fetchone()
    if want is None or row is None or int(row[0]) >= want:
        return None
    conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (f"{want}kB",))
    return want
