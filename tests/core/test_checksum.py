"""Row normalisation and hashing (ferry.verify.checksum): spellings of one value compare equal,
every real difference does not, and the temporary store classifies keys as verification needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ferry.values.logical import LogicalType
from ferry.verify.checksum import (
    HashStore,
    RowCodec,
    canonical_json,
    checksum_hex,
    combine,
    decode_key,
    decode_row,
    digest,
    key_bytes,
    newer_value,
    normalizer,
    row_hash,
)


def same(type_: LogicalType, *values: Any, json_as_text: bool = False) -> bool:
    """True when every value normalises to the same text."""
    norm = normalizer(type_)
    text_norm = normalizer(type_, json_as_text=json_as_text)
    first = norm(values[0])
    return all(text_norm(v) == first for v in values[1:])


def h(*values: str | None, names: tuple[str, ...] | None = None) -> bytes:
    cols = names or tuple(f"c{i}" for i in range(len(values)))
    return row_hash(cols, values)


# -- spellings that must compare equal -----------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "values"),
    [
        ("float", (1, 1.0, "1", "1.0", Decimal("1.00"))),
        ("float", (3.1, "3.10", Decimal("3.10"))),
        ("integer", (42, "42", 42.0, Decimal(42), " 42 ")),
        ("boolean", (True, 1, "t", "true", "1")),
        ("boolean", (False, 0, "f", "false", "0")),
        ("text", ("Café ✓", "Café ✓")),
        ("bytes", (b"\x00\xff", bytearray(b"\x00\xff"), memoryview(b"\x00\xff"))),
        ("date", (date(2024, 5, 1), "2024-05-01", datetime(2024, 5, 1, 0, 0))),
    ],
)
def test_spellings_of_one_value_are_equal(type_: LogicalType, values: tuple[Any, ...]) -> None:
    assert same(type_, *values)


def test_timestamps_in_every_style_are_one_moment() -> None:
    moment = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    spellings = [
        moment,
        moment.replace(tzinfo=None),  # naive = UTC
        moment.astimezone(timezone(timedelta(hours=2))),
        "2024-05-01T10:00:00Z",
        "2024-05-01 10:00:00",
        "2024-05-01 10:00:00.000000",  # Ferry's SQLite format
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T10:00:00.000000000Z",
        1714557600,  # epoch seconds
    ]
    assert same("timestamp", *spellings)
    assert normalizer("timestamp")(moment) == "2024-05-01T10:00:00.000000"


def test_json_key_order_whitespace_and_number_spelling_do_not_matter() -> None:
    value = {"b": [1, 2.5, {"y": None, "x": "é"}], "a": 1}
    sqlite_text = '{ "a": 1.0, "b": [1, 2.50, {"x": "é", "y": null}] }'
    assert same("json", value, sqlite_text, json_as_text=True)
    assert canonical_json(value) == '{"a":1,"b":[1,2.5,{"x":"é","y":null}]}'
    # a JSON string stays a string: '"abc"' in SQLite is the value "abc"
    assert same("json", "abc", '"abc"', json_as_text=True)


def test_single_precision_columns_round_both_sides() -> None:
    real = normalizer("float", single_precision=True)
    assert real(0.1) == real("0.1") == real(0.10000000149011612)
    assert normalizer("float")(0.1) != normalizer("float")(0.10000000149011612)


# -- real differences that must never compare equal ----------------------------------------


@pytest.mark.parametrize(
    ("type_", "left", "right"),
    [
        ("text", "Nightly News", "Nightly Newt"),  # one character
        ("text", "", None),  # empty string vs NULL
        ("text", "a ", "a"),
        ("integer", 1, 2),
        ("integer", 0, None),
        ("float", 1.0, 1.0000001),
        ("boolean", True, False),
        ("boolean", False, None),
        ("timestamp", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000001Z"),
        ("timestamp", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00+01:00"),
        ("date", "2024-05-01", "2024-05-02"),
        ("json", {"a": 1}, {"a": "1"}),
        ("json", [1, 2], [2, 1]),
        ("json", {}, None),
        ("bytes", b"\x00", b"\x00\x00"),
    ],
)
def test_real_differences_differ(type_: LogicalType, left: Any, right: Any) -> None:
    norm = normalizer(type_)
    assert norm(left) != norm(right)
    assert h(norm(left)) != h(norm(right))


def test_unreadable_values_never_equal_a_real_one() -> None:
    integer = normalizer("integer")
    assert integer("abc") != integer(0)
    assert integer(1.5) != integer(1)
    json_text = normalizer("json", json_as_text=True)
    assert json_text("{not json") != normalizer("json")("{not json")
    assert normalizer("timestamp")("yesterday") not in (None, "")


def test_values_are_length_prefixed_and_named() -> None:
    assert h("ab", "c") != h("a", "bc")
    assert h("a", None) != h(None, "a")
    assert h("x", names=("a",)) != h("x", names=("b",))
    assert h("1:a") != h("1", "a")


def test_null_columns_are_left_out_so_late_columns_keep_hashes() -> None:
    """A column a source only shows in later records is NULL for earlier ones."""
    assert row_hash(["a"], ["x"]) == row_hash(["a", "late"], ["x", None])
    assert row_hash(["a"], ["x"]) != row_hash(["a", "late"], ["x", ""])


def test_keys_and_rows_encode_unambiguously_and_decode() -> None:
    assert key_bytes(["a,b"]) != key_bytes(["a", "b"])
    assert key_bytes(["ab", "c"]) != key_bytes(["a", "bc"])
    assert key_bytes([None]) != key_bytes(["-"]) != key_bytes([""])
    for values in (["a", "1"], ["x:y", None, ""], ["é✓", "12:34"], ["\ud800"]):
        assert decode_key(key_bytes(values)) == values
    codec = RowCodec(["a", "b:c", "d"])
    encoded = codec.encode(["1:x", None, ""])
    assert decode_row(encoded) == {"a": "1:x", "d": ""}
    assert digest(encoded) == row_hash(["a", "b:c", "d"], ["1:x", None, ""])


def test_newer_values_sort_in_time_and_number_order() -> None:
    assert newer_value("integer", "10") > newer_value("integer", "9")
    assert newer_value("timestamp", "2024-05-01T10:00:00.000000") > newer_value(
        "timestamp", "2024-04-30T23:59:59.999999"
    )
    assert newer_value("float", None) is None


def test_checksum_is_order_independent_and_wraps() -> None:
    digests = [h(str(i)) for i in range(100)]
    forward = backward = 0
    for one in digests:
        forward = combine(forward, one)
    for one in reversed(digests):
        backward = combine(backward, one)
    assert forward == backward
    assert len(checksum_hex(forward)) == 32
    assert combine(2**128 - 1, (1).to_bytes(16, "big")) == 0


# -- the store -----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> HashStore:
    result = HashStore(tmp_path / "verify.sqlite")
    result.add_check(0)
    return result


CODEC = RowCodec(["c0"])


def src(key: str, value: str, seq: int, newer: Any = None) -> tuple[bytes, bytes, Any, bytes, int]:
    encoded = CODEC.encode([value])
    return (key_bytes([key]), digest(encoded), newer, encoded, seq)


def tgt(key: str, value: str, newer: Any = None) -> tuple[bytes, bytes, Any, bytes]:
    encoded = CODEC.encode([value])
    return (key_bytes([key]), digest(encoded), newer, encoded)


def test_store_classifies_matched_mismatched_missing_and_extra(store: HashStore) -> None:
    store.put_source(0, [src("1", "a", 1), src("2", "b", 2), src("3", "c", 3)])
    store.put_source(0, [src("2", "B", 4)])  # a repeated key: the last row wins
    store.put_target(0, [tgt("1", "a"), tgt("2", "b"), tgt("9", "z")])
    store.index_target(0)
    found = store.compare(0, "update", [], 10)
    assert found.counts["matched"] == 1
    assert found.counts["mismatched"] == 1
    assert found.counts["missing"] == 1
    assert (found.expected_rows, found.target_rows, found.extra) == (3, 3, 1)
    # in source order: key 2's last row came after key 3
    assert [(decode_key(p.key), p.status) for p in found.problems] == [
        (["3"], "missing"),
        (["2"], "mismatched"),
    ]
    mismatch = next(p for p in found.problems if p.status == "mismatched")
    assert mismatch.source == {"c0": "B"} and mismatch.target == {"c0": "b"}
    assert found.source_checksum != found.target_checksum


def test_store_rules_and_the_journal_explain_differences(store: HashStore) -> None:
    store.put_source(0, [src("1", "a", 1), src("2", "b", 2)])
    store.put_target(0, [tgt("1", "other")])
    store.put_rejected(0, [(key_bytes(["2"]), "CHECK constraint failed")])
    store.index_target(0)
    found = store.compare(0, "insert", [], 10)
    assert found.counts["kept"] == 1
    assert found.counts["rejected"] == 1
    assert found.problems[0].reason == "CHECK constraint failed"
    assert found.source_checksum == found.target_checksum == 0


def test_store_rule_newer_keeps_only_rows_the_target_has_newer(store: HashStore) -> None:
    store.put_source(0, [src("1", "a", 1, newer=5), src("2", "b", 2, newer=5)])
    store.put_source(0, [src("3", "c", 3, newer=None)])
    store.put_target(0, [tgt("1", "x", newer=5), tgt("2", "y", newer=4), tgt("3", "z", 1)])
    store.index_target(0)
    found = store.compare(0, "newer", [], 10, newer=True)
    assert found.counts["kept"] == 2  # equal, and a source without a value
    assert found.counts["mismatched"] == 1
    assert found.problems[0].key == key_bytes(["2"])
