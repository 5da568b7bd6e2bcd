"""The fast path's batch hashing (ferry.verify.fastsource.digest_sum): whichever MD5 a batch is
hashed with, its sum is the sum of the rows' :func:`ferry.verify.checksum.digest`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.verify.checksum import digest
from ferry.verify.fastsource import SMALL_ROW_BYTES, digest_sum

# rows around the length at which a batch changes MD5, and across MD5's 64-byte blocks
ROW = st.binary(min_size=0, max_size=3 * SMALL_ROW_BYTES)


def expected(rows: list[bytes]) -> int:
    return sum(int.from_bytes(digest(row), "big") for row in rows)


@settings(max_examples=300, deadline=None)
@given(st.lists(ROW, max_size=12))
def test_a_batch_sums_the_md5_of_each_row(rows: list[bytes]) -> None:
    assert digest_sum([(row,) for row in rows]) == expected(rows)


@given(st.lists(st.binary(max_size=SMALL_ROW_BYTES // 2), min_size=1, max_size=8))
def test_a_batch_of_short_rows_sums_their_md5s(rows: list[bytes]) -> None:
    assert digest_sum([(row,) for row in rows]) == expected(rows)


def test_a_null_row_leaves_the_batch_to_the_general_path() -> None:
    assert digest_sum([(b"a",), (None,)]) is None


def test_text_that_is_not_utf8_leaves_the_batch_to_the_general_path() -> None:
    assert digest_sum([(b"\xff",)], utf8=True) is None
    assert digest_sum([(b"\xc3\xa9",)], utf8=True) == expected([b"\xc3\xa9"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=SMALL_ROW_BYTES, max_size=5000), min_size=1, max_size=4))
def test_a_batch_of_long_rows_sums_their_md5s(rows: list[bytes]) -> None:
    assert digest_sum([(row,) for row in rows]) == expected(rows)
