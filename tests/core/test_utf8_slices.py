"""The UTF-8 check in slices (ferry.values.textbytes.is_utf8) says what one decode of the
whole says, wherever the slices fall."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.values.textbytes import all_utf8, is_utf8


def whole(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


#: pieces of valid UTF-8 of every length, and bytes that break it (stray continuation bytes,
#: leads cut short, overlong forms, surrogates, past U+10FFFF, bytes UTF-8 never uses)
PIECES = st.one_of(
    st.text(max_size=4).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"\x80",
            b"\xbf",
            b"\xc3",
            b"\xe2\x82",
            b"\xf0\x9f\x9a",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xf8",
            b"\xff",
            b"\n",
            b"\x00",
        ]
    ),
    st.binary(max_size=3),
)


@settings(max_examples=600, deadline=None)
@given(pieces=st.lists(PIECES, max_size=40), size=st.integers(1, 9))
def test_slices_give_the_verdict_of_one_decode(pieces: list[bytes], size: int) -> None:
    data = b"".join(pieces)
    assert is_utf8(data, size) == whole(data)


@pytest.mark.parametrize("size", [4, 5, 6, 7])
@pytest.mark.parametrize("text", ["a🚀b", "東京データ" * 5, "é" * 9, "x" * 20])
def test_valid_text_cut_anywhere_stays_valid(text: str, size: int) -> None:
    assert is_utf8(text.encode(), size)


def test_four_continuation_bytes_at_a_cut_are_not_utf8() -> None:
    assert not is_utf8(b"abcd" + b"\x80" * 4 + b"efgh", 6)


def test_all_utf8_checks_every_blob_and_skips_other_values() -> None:
    assert all_utf8((b"ok", None, "text", 3))
    assert not all_utf8((b"ok", b"\xff"))
