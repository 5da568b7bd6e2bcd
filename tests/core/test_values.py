"""Logical types: casting, timestamp parsing and type inference (ferry.values.logical)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from ferry.values.logical import (
    INT64_MAX,
    INT64_MIN,
    LOGICAL_TYPES,
    CastError,
    TypeTracker,
    cast,
    infer_type,
    json_text,
    looks_like_timestamp,
    merge_types,
    parse_timestamp,
    to_utc_naive,
    value_type,
)

PLUS2 = timezone(timedelta(hours=2))

# -- None ---------------------------------------------------------------------------------


@pytest.mark.parametrize("type_", LOGICAL_TYPES)
def test_none_stays_none_for_every_type(type_: Any) -> None:
    assert cast(None, type_) is None


# -- integer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (" -7 ", -7),
        ("+5", 5),
        ("1_000", 1000),
        ("3.0", 3),
        ("3.", 3),
        (3.0, 3),
        (Decimal("12"), 12),
        (True, 1),
        (False, 0),
        (INT64_MAX, 9223372036854775807),
        (INT64_MIN, -9223372036854775808),
        (str(INT64_MAX), 9223372036854775807),
    ],
)
def test_integer_cast_accepts(value: Any, expected: int) -> None:
    result = cast(value, "integer")
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", ["abc", "1.5", "", "1e3", 3.5, math.nan, math.inf, [1], {}])
def test_integer_cast_refuses_non_whole_numbers(value: Any) -> None:
    with pytest.raises(CastError, match="is not a whole number"):
        cast(value, "integer")


@pytest.mark.parametrize("value", [INT64_MAX + 1, INT64_MIN - 1, "9223372036854775808"])
def test_integer_cast_refuses_more_than_64_bits(value: Any) -> None:
    with pytest.raises(CastError, match="does not fit in a 64-bit integer"):
        cast(value, "integer")


def test_cast_error_message_shortens_long_values() -> None:
    with pytest.raises(CastError) as caught:
        cast("x" * 200, "integer")
    assert str(caught.value) == "'" + "x" * 56 + "... is not a whole number"


# -- float --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.5", 1.5), (" 2 ", 2.0), (2, 2.0), (Decimal("1.25"), 1.25), (True, 1.0), ("1e3", 1000.0)],
)
def test_float_cast_accepts(value: Any, expected: float) -> None:
    result = cast(value, "float")
    assert result == expected
    assert type(result) is float


def test_float_cast_refuses_text() -> None:
    with pytest.raises(CastError, match=r"^'abc' is not a valid float$"):
        cast("abc", "float")


def test_float_cast_refuses_a_list() -> None:
    with pytest.raises(CastError, match=r"^\[1\] is not a number$"):
        cast([1], "float")


# -- boolean ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, 1, "true", "TRUE", " yes ", "y", "on", "1", "t"])
def test_boolean_cast_true(value: Any) -> None:
    assert cast(value, "boolean") is True


@pytest.mark.parametrize("value", [False, 0, "false", "False", "no", "n", "off", "0", "f"])
def test_boolean_cast_false(value: Any) -> None:
    assert cast(value, "boolean") is False


@pytest.mark.parametrize("value", [2, -1, "maybe", "", 1.0, [True]])
def test_boolean_cast_refuses_other_values(value: Any) -> None:
    with pytest.raises(CastError, match=r"is not a boolean \(true/false, 1/0, yes/no\)$"):
        cast(value, "boolean")


# -- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("as is ", "as is "),
        (True, "true"),
        (False, "false"),
        (5, "5"),
        (1.5, "1.5"),
        ({"b": 1, "a": [1, "é"]}, '{"b":1,"a":[1,"é"]}'),
        ([1, 2], "[1,2]"),
        ("é".encode(), "é"),
        (datetime(2024, 5, 1, 10, 0), "2024-05-01T10:00:00"),
        (date(2024, 5, 1), "2024-05-01"),
    ],
)
def test_text_cast(value: Any, expected: str) -> None:
    assert cast(value, "text") == expected


def test_text_cast_refuses_bytes_that_are_not_utf8() -> None:
    with pytest.raises(CastError, match=r"^b'\\xff' is not a valid text$"):
        cast(b"\xff", "text")


# -- timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, 0)),
        ("2024-05-01 10:00:00", datetime(2024, 5, 1, 10, 0)),
        ("2024-05-01 10:00", datetime(2024, 5, 1, 10, 0)),
        ("2024-05-01", datetime(2024, 5, 1)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00+02:00", datetime(2024, 5, 1, 10, 0, tzinfo=PLUS2)),
        ("2024-05-01T10:00:00+0200", datetime(2024, 5, 1, 10, 0, tzinfo=PLUS2)),
        ("2024-05-01T10:00:00.5", datetime(2024, 5, 1, 10, 0, 0, 500000)),
        ("2024-05-01T10:00:00.123456Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        # Nanoseconds (Go, PostgreSQL logs) are cut to microseconds.
        ("2024-05-01T10:00:00.123456789Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        (" 2024-05-01 10:00:00 ", datetime(2024, 5, 1, 10, 0)),
    ],
)
def test_parse_timestamp_iso_styles(text: str, expected: datetime) -> None:
    result = parse_timestamp(text)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "value", [1714557600, 1714557600.0, "1714557600", Decimal("1714557600"), 1714557600000]
)
def test_parse_timestamp_epoch_seconds_and_milliseconds(value: Any) -> None:
    assert parse_timestamp(value) == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_parse_timestamp_epoch_fraction() -> None:
    assert parse_timestamp(1714557600.25) == datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC)


def test_parse_timestamp_keeps_datetime_and_widens_date() -> None:
    moment = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert parse_timestamp(moment) is moment
    assert parse_timestamp(date(2024, 5, 1)) == datetime(2024, 5, 1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "an empty string is not a timestamp"),
        ("   ", "an empty string is not a timestamp"),
        ("yesterday", "'yesterday' is not a timestamp"),
        ("2024-13-01", "'2024-13-01' is not a timestamp"),
        (True, "True is not a timestamp"),
        (math.nan, "nan is not a timestamp"),
        ([2024], "[2024] is not a timestamp"),
        (10**20, "100000000000000000000 is out of range for a timestamp"),
    ],
)
def test_parse_timestamp_refuses(value: Any, message: str) -> None:
    with pytest.raises(CastError) as caught:
        parse_timestamp(value)
    assert str(caught.value) == message


def test_timestamp_cast_uses_parse_timestamp() -> None:
    assert cast("2024-05-01 10:00:00", "timestamp") == datetime(2024, 5, 1, 10, 0)


def test_to_utc_naive_converts_aware_times() -> None:
    assert to_utc_naive(datetime(2024, 5, 1, 12, 0, tzinfo=PLUS2)) == datetime(2024, 5, 1, 10, 0)


def test_to_utc_naive_keeps_naive_times() -> None:
    assert to_utc_naive(datetime(2024, 5, 1, 12, 0)) == datetime(2024, 5, 1, 12, 0)


# -- date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["2024-05-01", "2024-05-01T23:59:59", datetime(2024, 5, 1, 8), date(2024, 5, 1)]
)
def test_date_cast(value: Any) -> None:
    result = cast(value, "date")
    assert result == date(2024, 5, 1)
    assert type(result) is date


def test_date_cast_refuses_text() -> None:
    with pytest.raises(CastError, match=r"^'soon' is not a timestamp$"):
        cast("soon", "date")


# -- json ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, None]}, {"a": [1, None]}),
        ([1, "x"], [1, "x"]),
        ("text", "text"),
        (3, 3),
        (Decimal("1.5"), 1.5),
        (datetime(2024, 5, 1, 10, 0), "2024-05-01T10:00:00"),
    ],
)
def test_json_cast(value: Any, expected: Any) -> None:
    assert cast(value, "json") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [(math.inf, "inf cannot be stored in JSON"), (b"x", "bytes cannot be stored in JSON")],
)
def test_json_cast_refuses(value: Any, message: str) -> None:
    with pytest.raises(CastError) as caught:
        cast(value, "json")
    assert str(caught.value) == message


# -- bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(b"\x00\xff", b"\x00\xff"), (bytearray(b"ab"), b"ab"), (memoryview(b"cd"), b"cd")],
)
def test_bytes_cast_keeps_binary(value: Any, expected: bytes) -> None:
    result = cast(value, "bytes")
    assert result == expected
    assert type(result) is bytes


def test_bytes_cast_encodes_text_as_utf8() -> None:
    assert cast("hé", "bytes") == b"h\xc3\xa9"


def test_bytes_cast_refuses_numbers() -> None:
    with pytest.raises(CastError, match=r"^5 is not bytes$"):
        cast(5, "bytes")


# -- json_text ----------------------------------------------------------------------------


def test_json_text_is_compact_keeps_order_and_unicode() -> None:
    assert json_text({"z": 1, "a": ["é", None, True]}) == '{"z":1,"a":["é",null,true]}'


def test_json_text_refuses_nan() -> None:
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        json_text({"x": math.nan})


def test_json_text_encodes_a_value_again_after_a_failed_encoding_of_it() -> None:
    # the reused encoder marks containers while it walks them; a failure must not leave the
    # marks behind, or the next encoding of the same list reads as a circular reference
    values: list[Any] = [{"x": math.nan}]
    with pytest.raises(ValueError):
        json_text(values)
    values[0]["x"] = 1.5
    assert json_text(values) == '[{"x":1.5}]'


def test_json_text_refuses_a_circular_value() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference detected"):
        json_text(loop)


def test_json_text_gives_the_same_text_in_threads_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    shared = {"a": [1, 2.5, "é", None, {"b": True}]}
    with ThreadPoolExecutor(4) as pool:
        texts = set(pool.map(lambda _: json_text(shared), range(2000)))
    assert texts == {'{"a":[1,2.5,"é",null,{"b":true}]}'}


# -- inference ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01",
        "2024-05-01T10:00",
        "2024-05-01T10:00:00",
        "2024-05-01 10:00:00",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00.123456789+02:00",
        "2024-05-01T10:00:00-0500",
    ],
)
def test_looks_like_timestamp(text: str) -> None:
    assert looks_like_timestamp(text) is True


@pytest.mark.parametrize(
    "text", ["2024/05/01", "10:00", "1714557600", "May 1, 2024", "2024-05-01 10", ""]
)
def test_does_not_look_like_timestamp(text: str) -> None:
    assert looks_like_timestamp(text) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, "boolean"),
        (0, "integer"),
        (INT64_MAX, "integer"),
        (INT64_MAX + 1, "decimal"),
        (1.5, "float"),
        (Decimal("1.5"), "decimal"),
        ({"a": 1}, "json"),
        ([1], "json"),
        (b"x", "bytes"),
        (datetime(2024, 5, 1), "timestamp"),
        (date(2024, 5, 1), "date"),
        ("2024-05-01 10:00:00", "timestamp"),
        ("hello", "text"),
    ],
)
def test_value_type(value: Any, expected: str | None) -> None:
    assert value_type(value) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (None, "integer", "integer"),
        ("integer", None, "integer"),
        ("integer", "integer", "integer"),
        ("integer", "float", "float"),
        ("date", "timestamp", "timestamp"),
        ("json", "integer", "json"),
        ("boolean", "integer", "text"),
        ("timestamp", "text", "text"),
        ("bytes", "text", "text"),
    ],
)
def test_merge_types(a: Any, b: Any, expected: str) -> None:
    assert merge_types(a, b) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 2, None], "integer"),
        ([1, 2.5], "float"),
        ([True, False, None], "boolean"),
        (["2024-05-01T10:00:00Z", "2024-05-01 10:00:00", "2024-05-01"], "timestamp"),
        (["2024-05-01", "soon"], "text"),
        ([None, None], "text"),
        ([], "text"),
        ([{"a": 1}, [2]], "json"),
    ],
)
def test_infer_type(values: list[Any], expected: str) -> None:
    assert infer_type(values) == expected


def test_type_tracker_widens_and_keeps_first_seen_order() -> None:
    tracker = TypeTracker()
    tracker.add({"b": 1, "a": None})
    tracker.add({"b": 2.5, "c": True})
    tracker.add({"a": None, "c": False})
    assert tracker.result() == {"b": "float", "a": "text", "c": "boolean"}
    assert list(tracker.result()) == ["b", "a", "c"]


def _stdlib_json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


FLAT_OBJECTS = [
    {},
    {"owner": "user1", "rev": 3, "ok": True, "gone": None},
    {"big": 2**64 - 1, "small": -(2**63), "past": 2**64, "below": -(2**63) - 1},
    {"lone": "\ud800 surrogate"},
    {1: "a key that is not a string", "b": 2},
    {"class": type("Sub", (str,), {})("a str subclass")},
    {'quote"back\\slash': "\b\f\n\r\t\x00\x1f\x7f\u2028\u2029\ufeff\U0001f680"},
]


@pytest.mark.parametrize("value", FLAT_OBJECTS, ids=range(len(FLAT_OBJECTS)))
def test_json_text_of_flat_objects_is_the_stdlib_text(value: dict[Any, Any]) -> None:
    assert json_text(value) == _stdlib_json(value)


def test_json_text_of_every_character_in_a_flat_object_is_the_stdlib_text() -> None:
    for start in range(0, 0x110000, 0x800):
        text = "".join(chr(c) for c in range(start, start + 0x800) if not 0xD800 <= c < 0xE000)
        value = {text[:8]: text, "n": start}
        assert json_text(value) == _stdlib_json(value), hex(start)
