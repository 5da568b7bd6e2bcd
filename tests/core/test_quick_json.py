"""orjson's quick read (``quick_loads``) against the strict stdlib read it stands in for.

Where the quick read gives a value, it must be the strict read's value with the same types
(``repr``: 1 and 1.0, -0.0 and 0.0, key order); where it cannot vouch for one it gives ``UNSURE``
and the caller reads strictly. Generated texts mix what orjson reads differently: duplicate
keys (nested too), strings holding ``":`` and escaped colons, floats that overflow or round at
the edges, integers past 64 bits, surrogate escapes, whitespace JSON does not allow, and
random bytes flipped in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.plan import SourceSpec
from ferry.sources import json as json_source
from ferry.sources.json import _FAST_DECODER, JsonSource
from ferry.sources.quickjson import UNSURE, quick_loads

FUZZ = settings(
    max_examples=600,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_WS = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n  ", "\f"])
_STRING_PIECES = st.sampled_from(
    ["a", "id", ":", '\\":', '\\" :', "\\\\", "\\u003a", "\\u003A", "\\ud83d\\ude80",
     "\\ud800", "\\udc00", "\\u00e9", "é", "東京", "\\n", "\\/", "\x01", "0123456789", " "]
)  # fmt: skip
_KEYS = st.sampled_from(["a", "b", "id", "a:", 'x\\":', "\\u0061"])


def _number() -> st.SearchStrategy[str]:
    digits = st.text("0123456789", min_size=1, max_size=25)
    sign = st.sampled_from(["", "-"])
    exponent = st.one_of(
        st.just(""),
        st.builds(
            lambda e, s, n: f"{e}{s}{n}",
            st.sampled_from(["e", "E"]),
            st.sampled_from(["", "+", "-"]),
            st.integers(0, 400),
        ),
    )
    fraction = st.one_of(st.just(""), digits.map(lambda d: "." + d))
    made = st.builds(lambda s, i, f, e: f"{s}{i}{f}{e}", sign, digits, fraction, exponent)
    edges = st.sampled_from(
        ["-0", "-0.0", "0", "1.0", "1", "1e400", "-1e400", "1e-400", "1.7976931348623157e308",
         "1.7976931348623159e308", "2.4703282292062328e-324", "9223372036854775807",
         "9223372036854775808", "18446744073709551615", "18446744073709551616",
         "-9223372036854775808", "-9223372036854775809", "NaN", "Infinity", "-Infinity"]
    )  # fmt: skip
    floats = st.floats(allow_nan=False, allow_infinity=False).map(repr)
    return st.one_of(made, edges, floats)


def _string() -> st.SearchStrategy[str]:
    return st.lists(_STRING_PIECES, max_size=6).map(lambda parts: '"' + "".join(parts) + '"')


def _value(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    member = st.builds(
        lambda w1, k, w2, w3, v: f'{w1}"{k}"{w2}:{w3}{v}', _WS, _KEYS, _WS, _WS, children
    )
    objects = st.lists(member, max_size=4).map(lambda ms: "{" + ",".join(ms) + "}")
    arrays = st.lists(children, max_size=4).map(lambda vs: "[" + ",".join(vs) + "]")
    return st.one_of(objects, arrays)


_SCALARS = st.one_of(_number(), _string(), st.sampled_from(["true", "false", "null"]))
# Flat objects with few keys and colon-laden values: duplicates whose colons might balance.
_FLAT = st.lists(
    st.builds(
        lambda k, v: f'"{k}": {v}',
        st.sampled_from(["a", "b", "a\\u003a"]),
        st.sampled_from(["1", '"\\u003a"', '":"', '"x"', '"\\u003A:"', "{}"]),
    ),
    max_size=4,
).map(lambda ms: "{" + ", ".join(ms) + "}")
_TEXTS = st.builds(
    lambda w1, v, w2: f"{w1}{v}{w2}",
    _WS,
    st.one_of(st.recursive(_SCALARS, _value, max_leaves=12), _FLAT),
    _WS,
)


@st.composite
def _data(draw: st.DrawFn) -> bytes:
    data = draw(_TEXTS).encode("utf-8")
    if draw(st.integers(0, 9)) == 0:  # a byte flipped in: bad UTF-8, a broken token...
        at = draw(st.integers(0, len(data)))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if draw(st.integers(0, 19)) == 0:
        data = b"\xef\xbb\xbf" + data
    return data


def _strict(data: bytes) -> str | None:
    """The strict read's value as repr (types show), or None where it refuses the text."""
    try:
        return repr(_FAST_DECODER.decode(data.decode("utf-8")))
    except Exception:  # any refusal: the quick read must be unsure
        return None


@FUZZ
@given(_data())
def test_a_quick_read_is_the_strict_read(data: bytes) -> None:
    quick = quick_loads(data)
    if quick is not UNSURE:
        assert repr(quick) == _strict(data)


@FUZZ
@given(st.recursive(_SCALARS, _value, max_leaves=12))
def test_the_quick_read_takes_every_valid_text_without_escapes_or_long_numbers(text: str) -> None:
    data = text.encode("utf-8")
    long_run = b"0" * 19 in data.translate(bytes.maketrans(b"123456789", b"000000000"))
    if _strict(data) is not None and b"\\" not in data and not long_run:
        assert quick_loads(data) is not UNSURE


def test_a_duplicate_key_nested_in_a_later_record_is_left_to_the_strict_read() -> None:
    data = b'[{"id": 1, "m": {"a": 1}}, {"id": 2, "m": {"a": 1, "a": 2}}]'
    assert quick_loads(data) is UNSURE


def test_a_duplicate_key_hidden_by_an_escaped_colon_is_left_to_the_strict_read() -> None:
    # one colon dropped with the duplicate, one written back where the text had \u003a
    assert quick_loads(b'{"a": 1, "a": "\\u003a"}') is UNSURE


def test_an_integer_past_64_bits_is_left_to_the_strict_read() -> None:
    assert quick_loads(b'{"n": 18446744073709551616}') is UNSURE


def test_the_benchmark_s_records_are_read_quickly() -> None:
    data = (
        b'[{"id": 1, "name": "caf\xc3\xa9 1", "created_at": "2023-01-20T18:04:39.644130+00:00",'
        b' "ratio": 0.09144, "done": false, "note": null, "meta": {"owner": "u1", "rev": 46}}]'
    )
    assert quick_loads(data) == _FAST_DECODER.decode(data.decode("utf-8"))


def test_a_record_with_a_duplicate_key_still_stops_the_line_read(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text('[\n{"id": 1}\n]\n', encoding="utf-8")
    reader = JsonSource(SourceSpec(name="r", kind="json", path="r.json"), tmp_path)
    with pytest.raises(json_source._DuplicateKey, match="'a'"):
        reader.rows_of_records([b'{"id": 1, "a": 1, "a": 2}'], "id", 1)
