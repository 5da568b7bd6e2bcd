"""The fast reader of top-level JSON arrays (``_FastArray``) against ijson, the reference.

Every test reads the same file twice, once as Ferry does and once with the fast reader turned
off (ijson alone), and compares everything a caller can see: each batch (table and rows, with
the types of the values), and the error that ends the read (its message and hint). Small
chunk sizes put element boundaries, escapes and multi-byte characters across chunk edges.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import json as json_source
from ferry.sources.json import JsonSource

FUZZ = settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _ijson_only(self: Any) -> Iterator[Any]:
    raise json_source._Fallback
    yield  # a generator, like the real one


def observe(path: Path, batch_size: int = 2, **spec: Any) -> tuple[str, str | None]:
    """Every batch read (repr: types included) and the error that stopped the read."""
    reader = JsonSource(SourceSpec(name="t", kind="json", path=path.name, **spec), path.parent)
    seen: list[tuple[str, list[Any]]] = []
    error = None
    try:
        for batch in reader.batches(batch_size):
            seen.append((batch.table, batch.rows))
    except SourceError as exc:
        error = f"{exc.message} | {exc.hint}"
    except Exception as exc:  # what ijson lets through (a lone low surrogate) must match too
        error = f"{type(exc).__name__}: {exc}"
    return repr(seen), error


def both(
    monkeypatch: pytest.MonkeyPatch, path: Path, **spec: Any
) -> tuple[tuple[str, str | None], tuple[str, str | None]]:
    """(fast, ijson): what a caller sees with and without the fast reader."""
    fast = observe(path, **spec)
    with monkeypatch.context() as patch:
        patch.setattr(json_source._FastArray, "blocks", _ijson_only)
        slow = observe(path, **spec)
    return fast, slow


def small_chunks(monkeypatch: pytest.MonkeyPatch, chunk: int, refill: int = 2) -> None:
    """ijson and the guard read ``chunk`` bytes at a time, the fast reader refills every
    ``refill`` chunks."""
    monkeypatch.setattr(json_source, "CHUNK", chunk)
    monkeypatch.setattr(json_source, "_FAST_READ", chunk * refill)


def no_ijson_items(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("ijson.items was used: the fast reader handed over")

    monkeypatch.setattr(json_source.ijson, "items", refuse)


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "data.json"
    path.write_bytes(data)
    return path


RECORDS = [
    {"id": i, "name": f"naïve café 🚀 {i}", "ratio": i / 7, "done": i % 2 == 0, "note": None,
     "meta": {"owner": f"user{i}", "tags": ["a", "b"]}, "big": 2**70 + i}
    for i in range(40)
]  # fmt: skip


def test_a_plain_array_is_read_without_ijson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, json.dumps(RECORDS, ensure_ascii=False).encode())
    _, expected = both(monkeypatch, path)
    no_ijson_items(monkeypatch)

    assert observe(path) == expected
    assert expected[1] is None


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
@pytest.mark.parametrize("layout", ["compact", "indented", "ascii", "lines"])
def test_rows_are_the_same_as_ijsons_whatever_the_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, layout: str
) -> None:
    if layout == "lines":  # one record per line, the comma first (the benchmark's file)
        text = "[\n" + "\n,".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n]\n"
    else:
        indent = 2 if layout == "indented" else None
        text = json.dumps(RECORDS, ensure_ascii=layout == "ascii", indent=indent)
    path = write(tmp_path, text.encode())
    small_chunks(monkeypatch, chunk)

    _, slow = both(monkeypatch, path)
    no_ijson_items(monkeypatch)  # no hand-over: surrogate pairs and characters cut are fine

    assert observe(path) == slow
    assert slow[1] is None


def test_nested_values_are_read_without_ijson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, b'[{"id": 1, "m": {"a": {"b": [1, {"c": 2}]}}, "e": {}}]')
    no_ijson_items(monkeypatch)

    fast = observe(path)

    assert fast == (
        repr([("t", [{"id": 1, "m": {"a": {"b": [1, {"c": 2}]}}, "e": {}}])]),
        None,
    )


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"nested_objects": "flatten"},
        {"nested_lists": "json"},
        {"nested_objects": "flatten", "nested_lists": "json"},
        {"key_column": "name"},
    ],
)
def test_every_reshaping_option_gives_ijsons_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: dict[str, Any]
) -> None:
    records = [
        {"id": 1, "name": "a", "o": {"x": 1, "y": {"z": 2}}, "steps": [{"n": 1}, {"n": 2}]},
        {"id": 2, "name": "b", "o": {"x": 3}, "steps": [], "tags": ["t"]},
        {"id": 3, "name": "c", "steps": [{"n": 3, "sub": [{"q": 1}]}]},
    ]
    path = write(tmp_path, json.dumps(records).encode())
    small_chunks(monkeypatch, 5)

    fast, slow = both(monkeypatch, path, **spec)

    assert fast == slow
    assert slow[1] is None


@pytest.mark.parametrize(
    "text",
    [
        b"[]",
        b"  [ ]  \n",
        b'[1, 2.5, "x", true, null, [1], {"a": 1}]',
        b'[{"id": 1}, 2]',  # a record after records that is not an object
        b'[{"position": 5}]',  # its own position differs
        b'[{"a": "\\ud83d\\ude80 pair"}, {"a": "\\u00e9\\u0000"}]',
        b'[{"a": 1}, {"a": "lone \\ud800 high"}, {"a": 3}]',
        b'[{"a": 1}, {"a": "lone \\udc00 low"}]',
        b'[{"a": "\\ud800\\u0041"}]',
        b'[{"a": "\\\\ud83d\\ude80"}]',  # an escaped backslash, then a second half alone
        b'[{"a": 1}, {"a": 1e400}, {"a": 2.5}]',
        b'[{"a": 1}, {"a": -1E+309}]',
        b'[{"a": 123456789012345678901234567890, "b": 0.1}]',
        b'[{"a": 1}, {"a": NaN}]',
        b'[{"a": -Infinity}]',
        b'[{"a": 1}, {"b": 1, "b": 2}, {"c": 3}]',
        b'[{"a": 1}, {"b": {"c": 1, "c": 2}}]',
        b'[{"a": 1}, {"b": 2}] x',
        b'[{"a": 1}, {"b": 2}]\n[2]',
        b'[{"a": 1}, {"b": 2},]',
        b'[{"a": 1}, {"b": 2}',
        b'[{"a": 1}, {"b": "cut',
        b'[{"a": 1}, {"b": 01}]',
        b'[{"a": 1},\x0c{"b": 2}]',  # a form feed: whitespace to yajl, not to json
        b'[{"a": "tab\tinside"}]',
        b'[{"a": "caf\xe9"}]',
        b'[{"a": "\xc3"}]',
        b'\xef\xbb\xbf[{"id": 1}]',
        b"[" * 600,
        b"[" * 511 + b"]" * 511,
        b'[{"a": "' + b"[" * 700 + b'"}]',
        b'[{"a": 1}, {"b": "\\x"}]',
        b'[{"a": 1}, {"b": tru}]',
        b'[{"a": 1} {"b": 2}]',
        b'[{"key" : 1}, {"key"\n:\t2, "key" : 3}]',
    ],
)
@pytest.mark.parametrize("chunk", [2, 6, 4096])
def test_odd_and_broken_files_end_as_with_ijson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes, chunk: int
) -> None:
    path = write(tmp_path, text)
    small_chunks(monkeypatch, chunk)

    fast, slow = both(monkeypatch, path)

    assert fast == slow


def test_a_lone_surrogate_escape_reads_as_ijson_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, b'[{"a": "x\\ud800y"}]')

    fast, slow = both(monkeypatch, path)

    assert fast == slow == (repr([("t", [{"position": 0, "a": "x?y"}])]), None)


def test_a_float_too_big_for_a_double_stays_a_decimal_as_with_ijson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, b'[{"a": 1.5}, {"a": 1e400}]')

    fast, slow = both(monkeypatch, path)

    assert fast == slow
    assert "Decimal('1E+400')" in fast[0]


def test_the_duplicate_key_error_names_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = b",".join(b'{"id": %d}' % i for i in range(50))
    path = write(tmp_path, b"[" + records + b', {"id": 50, "x": 1, "x": 2}]')

    fast, slow = both(monkeypatch, path)

    assert fast == slow
    assert fast[1] is not None and fast[1].startswith(f"{path}: duplicate key 'x' in $[50]")


def test_an_element_longer_than_the_fast_limit_is_left_to_ijson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [{"id": 1}, {"id": 2, "pad": "x" * 5000}, {"id": 3}]
    path = write(tmp_path, json.dumps(records).encode())
    monkeypatch.setattr(json_source, "_FAST_LIMIT", 1000)

    fast, slow = both(monkeypatch, path)

    assert fast == slow
    assert slow[1] is None


def test_records_after_a_hand_over_are_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [{"id": i, "v": "\ud800" if i == 30 else i} for i in range(60)]
    path = write(tmp_path, json.dumps(records).encode())  # ensure_ascii: \ud800, lone
    small_chunks(monkeypatch, 16)
    items = ijson.items
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return items(*args, **kwargs)

    monkeypatch.setattr(json_source.ijson, "items", counted)
    fast, slow = both(monkeypatch, path)

    assert fast == slow
    assert '"id": 59' in fast[0].replace("'", '"') and fast[0].count("'id': 30,") == 1
    assert len(calls) == 2  # one hand-over in the fast read, one ijson-only read


def test_scan_counts_and_types_match_ijsons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, json.dumps(RECORDS).encode())
    spec = SourceSpec(name="t", kind="json", path=path.name)

    fast = JsonSource(spec, tmp_path).scan()
    with monkeypatch.context() as patch:
        patch.setattr(json_source._FastArray, "blocks", _ijson_only)
        slow = JsonSource(spec, tmp_path).scan()

    assert fast == slow
    assert fast[0].row_estimate == len(RECORDS)


# -- property test: random documents, as they are and damaged ---------------------------------

keys = st.one_of(st.text(max_size=6), st.sampled_from(["id", "position", "a", "a_b", "é"]))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)
records = st.lists(st.dictionaries(keys, values, max_size=5), max_size=8)
HAZARDS = [b'"\\ud800"', b"1e400", b"NaN", b'"a": 1, "a"', b"\x0c", b"\xff", b",", b"]", b" "]


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """An array of records in one of json's layouts, perhaps cut, flipped or spliced."""
    value = draw(st.one_of(records, st.lists(values, max_size=6)))
    indent = draw(st.sampled_from([None, 0, 2]))
    ascii_only = draw(st.booleans())
    data = json.dumps(value, indent=indent, ensure_ascii=ascii_only).encode()
    how = draw(st.sampled_from(["as-is", "as-is", "cut", "flip", "hazard"]))
    if how == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if how == "hazard":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from(HAZARDS)) + data[at:]
    return data


@FUZZ
@given(
    data=documents(), chunk=st.integers(1, 40), refill=st.integers(1, 3), batch=st.integers(1, 4)
)
def test_any_document_reads_as_with_ijson(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    chunk: int,
    refill: int,
    batch: int,
) -> None:
    path = write(tmp_path, data)
    with monkeypatch.context() as patch:
        small_chunks(patch, chunk, refill)
        fast = observe(path, batch_size=batch)
        patch.setattr(json_source._FastArray, "blocks", _ijson_only)
        slow = observe(path, batch_size=batch)

    assert fast == slow


def test_long_whitespace_between_records_is_read_without_ijson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [json.dumps({"id": i, "pad": "x" * (i % 7)}) for i in range(300)]
    path = write(tmp_path, ("[" + (" " * 40 + "\n,").join(records) + " " * 40 + "]").encode())
    small_chunks(monkeypatch, 64)
    _, expected = both(monkeypatch, path)
    no_ijson_items(monkeypatch)

    assert observe(path) == expected
    assert expected[1] is None
