"""A scan's type evidence taken a batch at a time (EvidenceTracker.add_rows, a column at a
time) is exactly what adding the rows one by one gives: types, counts per kind, the first
examples with their keys or row numbers, and the mixed-column notes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.values.textbytes import BadText
from ferry.values.typeevidence import EvidenceTracker

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.sampled_from(["2024-05-01", "2024-05-01T10:00:00Z", " 2024-05-01 10:00 ", "n/a", ""]),
    st.text(max_size=8),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
    st.binary(max_size=4),
    st.binary(min_size=1, max_size=4).map(BadText),
    st.just(date(2024, 5, 1)),
    st.just(datetime(2024, 5, 1, 10, tzinfo=UTC)),
)
COLUMNS = ("id", "a", "b")


def _state(tracker: EvidenceTracker) -> tuple[Any, ...]:
    return (
        tracker.rows,
        list(tracker.types.items()),
        tracker.counts,
        tracker.examples,
        tracker.result(),
        tracker.mixed(),
    )


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.fixed_dictionaries({c: VALUES for c in COLUMNS}), max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    keyed=st.booleans(),
)
def test_batches_give_what_rows_one_by_one_give(
    rows: list[dict[str, Any]], cuts: list[int], keyed: bool
) -> None:
    key = ("id",) if keyed else ()
    one_by_one, batched = EvidenceTracker(key), EvidenceTracker(key)
    for row in rows:
        one_by_one.add(row)
    edges = [0, *sorted(min(c, len(rows)) for c in cuts), len(rows)]
    for start, end in pairwise(edges):
        batched.add_rows(rows[start:end])

    assert _state(batched) == _state(one_by_one)


def test_rows_with_other_keys_are_taken_one_by_one() -> None:
    rows = [{"id": 1, "price": 1.5}, {"id": 2, "note": "n/a"}, {"id": 3, "price": "n/a"}]
    one_by_one, batched = EvidenceTracker(("id",)), EvidenceTracker(("id",))
    for row in rows:
        one_by_one.add(row)

    batched.add_rows(rows)

    assert _state(batched) == _state(one_by_one)
    assert batched.examples[("price", "text")] == ["'n/a' at id 3"]


@settings(max_examples=500, deadline=None)
@given(value=VALUES | st.text(alphabet="0123456789-:TZ .+\u0661\u00b2", max_size=30))
def test_value_type_takes_the_common_classes_at_once_and_means_the_same(value: Any) -> None:
    from ferry.values.logical import _kind_by_isinstance, value_type

    assert value_type(value) == _kind_by_isinstance(value)


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(alphabet="0123456789-:TZ .+\u0661\u00b2\n", max_size=30)
    | st.sampled_from(["2024-05-01", " 2024-05-01T10:00:00.5+02:00\n", "\u0661" * 4 + "-01-01"])
)
def test_the_timestamp_shortcut_agrees_with_the_pattern(text: str) -> None:
    from ferry.values.logical import _TIMESTAMP_RE, looks_like_timestamp

    assert looks_like_timestamp(text) == bool(_TIMESTAMP_RE.match(text.strip()))


def test_a_key_of_1e999_ends_the_key_span() -> None:
    """JSON's ``1e999`` reads as infinity, which no integer holds (was an OverflowError that
    stopped ``ferry init``; found by the property test above)."""
    tracker = EvidenceTracker(("id",))

    tracker.add({"id": float("inf")})

    assert tracker.key_span is None
