"""A row's print: 8 bytes that change whenever any of its values changes.

A delta run (:mod:`ferry.load.delta`) compares each source row's print with the one journaled
when the row was last written, and maps and stages only the rows whose print differs. The
print is the first 8 bytes of BLAKE2b over the pickled values (protocol 5: the same values
give the same bytes on every Python version that reads protocol 5; ints, floats, text, bytes
and None keep their kinds apart, so ``1`` and ``'1'`` differ), as a signed 64-bit integer
(what SQLite and PostgreSQL store as an integer). A changed row keeps its print with a chance
of 2**-64.

The same function serves SQLite as a registered SQL function (:func:`row_print`, one argument
per column: the source file prints its rows inside the query) and Python for parsed records
(:func:`record_print`); a SQLite target in WAL mode sums its rows' prints to tell whether a
table is as a run left it (:func:`ferry.load.rowprints.table_state`). A JSON file laid out one
record per line prints its lines instead (:mod:`ferry.load.linescan`).
"""

from __future__ import annotations

from hashlib import blake2b
from pickle import dumps
from typing import Any


def _signed(digest: bytes) -> int:
    return int.from_bytes(digest, "little", signed=True)


def row_print(*values: Any) -> int:
    """The print of one row given as its values in column order (SQLite's ``ferry_row_print``)."""
    return _signed(blake2b(dumps(values, 5), digest_size=8).digest())


def record_print(record: dict[str, Any]) -> int:
    """The print of one parsed record (field names, order and values)."""
    return _signed(blake2b(dumps(record, 5), digest_size=8).digest())


def _print_file(uri: str, sql: str) -> None:
    """``python -m ferry.values.rowprint URI`` with a query on stdin: the query's rows (an
    integer key, a print) to stdout as little-endian int64 pairs. Ferry prints a SQLite file
    this way while it loads the same file (:mod:`ferry.load.delta`): a process of its own
    takes no time from the load's threads, as a thread would under the GIL."""
    import sys
    from array import array

    # No waiting for the lock: see ferry.sources.sqlite.SIDE_TIMEOUT
    from ferry.sources.readonly import connect_uri

    conn = connect_uri(uri, timeout=0)
    conn.create_function("ferry_row_print", -1, row_print, deterministic=True)
    out = sys.stdout.buffer
    cursor = conn.execute(sql)
    while rows := cursor.fetchmany(10_000):
        pairs = array("q", [v for row in rows for v in row])  # a key that is no int: fails
        if sys.byteorder == "big":
            pairs.byteswap()
        out.write(pairs.tobytes())
    out.flush()


if __name__ == "__main__":
    import sys

    _print_file(sys.argv[1], sys.stdin.read())


__all__ = ["record_print", "row_print"]
