"""Verification's fast path, hashing rows in Python: the sum of the MD5s of the bytes SQLite
writes for a batch of rows (:func:`~ferry.verify.fastsql.sqlite_row_sql`), the cheaper MD5 for
short rows."""

from __future__ import annotations

import hashlib
import importlib
import struct
from collections.abc import Callable, Sequence
from typing import Any, cast


def _builtin_md5() -> Callable[[bytes], Any]:
    try:
        return cast("Callable[[bytes], Any]", importlib.import_module("_md5").md5)
    except (ImportError, AttributeError):  # a Python built without its own MD5
        return hashlib.md5


#: CPython's own MD5: the same digests as OpenSSL's, and about half the cost a short row
#: (OpenSSL's is mostly setting up its context); long rows keep OpenSSL's, which hashes faster
#: and lets the fetching thread run meanwhile (it releases the GIL from 2 KiB)
small_md5 = _builtin_md5()
#: bytes of a batch's first row below which the batch is hashed with :data:`small_md5`
SMALL_ROW_BYTES = 1024


def summed_digests(digests: bytes) -> int:
    """The sum of 16-byte MD5 digests laid end to end, as 128-bit unsigned integers."""
    words: tuple[int, ...] = struct.unpack(f">{len(digests) // 8}Q", digests)
    return (sum(words[0::2]) << 64) + sum(words[1::2])


def digest_sum(rows: Sequence[Sequence[Any]], *, utf8: bool = False) -> int | None:
    """The sum of the MD5s of the rows of :func:`sqlite_row_sql`, None when one is NULL (or,
    with ``utf8``, is not valid UTF-8)."""
    try:
        if utf8:
            for (one,) in rows:
                one.decode("utf-8")
        # a batch's rows are one table's: its first tells short rows from long ones
        md5 = small_md5 if rows and len(rows[0][0]) < SMALL_ROW_BYTES else hashlib.md5
        digests = b"".join([md5(one).digest() for (one,) in rows])
    except (TypeError, AttributeError, UnicodeDecodeError):
        return None
    return summed_digests(digests)
