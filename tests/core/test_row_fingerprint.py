"""The SQLite fingerprint function of undo's changesets (ferry.load.changesql.row_fingerprint)
gives the digest it always gave: undo compares fingerprints earlier runs recorded with ones
it computes now. Checked against the function as first written (one md5 update per value),
on generated rows and through a real SQLite connection."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.load.changesql import SQLITE_FUNCTION, row_fingerprint


def first_written(*values: Any) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for value in values:
        if value is None:
            digest.update(b"n;")
        elif isinstance(value, bytes):
            digest.update(b"b" + str(len(value)).encode() + b":" + value)
        elif isinstance(value, str):
            data = value.encode("utf-8", "surrogatepass")
            digest.update(b"t" + str(len(data)).encode() + b":" + data)
        else:  # int, float
            digest.update(type(value).__name__[0].encode() + repr(value).encode() + b";")
    return digest.hexdigest()


class Text(str):
    """A str subclass (as a text factory may give)."""


VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(),
    st.booleans(),
    st.text().map(Text),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(VALUES, max_size=12))
def test_a_rows_fingerprint_is_the_one_first_written(values: list[Any]) -> None:
    assert row_fingerprint(*values) == first_written(*values)


def test_sqlite_values_fingerprint_as_first_written() -> None:
    db = sqlite3.connect(":memory:")
    db.create_function(SQLITE_FUNCTION, -1, row_fingerprint, deterministic=True)
    row = (7, -(2**63), 1.5, -0.0, "café 東京", b"\x00\xff", None, "")
    db.execute("CREATE TABLE t (a, b, c, d, e, f, g, h)")
    db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    (found,) = db.execute(f"SELECT {SQLITE_FUNCTION}(a, b, c, d, e, f, g, h) FROM t").fetchone()
    assert found == first_written(*row)
