"""Property tests over the JSON, JSON Lines, .env and plan parsers (hypothesis).

Whatever bytes a file holds, reading it either gives rows or raises a :class:`FerryError`
with a message — never another exception (a traceback for the user) and never a hang
(each example has a deadline). Inputs are valid documents, the same documents cut short or
with bytes flipped, and plain random bytes.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.errors import FerryError
from ferry.plan import SourceSpec, load_plan
from ferry.sources import open_source

FUZZ = settings(
    max_examples=120,
    database=None,  # no .hypothesis folder in the working tree
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "id", "a.b", 'x"); DROP TABLE t; --', "quo'te", "ключ", "n" * 300]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)
records = st.lists(st.dictionaries(keys, json_values, max_size=5), max_size=6)
documents = st.one_of(
    records,
    st.dictionaries(keys, st.dictionaries(keys, json_values, max_size=4), max_size=4),
    json_values,
)


@st.composite
def damaged(draw: st.DrawFn, text: st.SearchStrategy[bytes]) -> bytes:
    """A document as it is, cut short, with a byte flipped, or with raw bytes spliced in."""
    data = draw(text)
    how = draw(st.sampled_from(["as-is", "cut", "flip", "splice"]))
    if how == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip" and data:
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if how == "splice":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


json_bytes = damaged(
    st.one_of(
        documents.map(lambda d: json.dumps(d, ensure_ascii=False).encode()),
        st.sampled_from(
            [b"NaN", b'[{"a": Infinity}]', b'{"a": 1, "a": 2}', b"\xef\xbb\xbf[]", b"[" * 600]
        ),
        st.binary(max_size=64),
    )
)


def read_all(kind: str, name: str, data: bytes, **spec: Any) -> None:
    """Describe and read a source holding ``data``; only a FerryError may come out."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / name).write_bytes(data)
        reader = open_source(SourceSpec(name="data", kind=kind, path=name, **spec), Path(folder))
        try:
            reader.describe()
            for batch in reader.batches(50):
                assert all(isinstance(row, dict) for row in batch.rows)
        except FerryError as exc:
            assert exc.message.strip()
        finally:
            reader.close()


@FUZZ
@given(data=json_bytes, shape=st.sampled_from(["auto", "records", "keyed", "kv"]))
def test_the_json_reader_gives_rows_or_a_ferry_error(data: bytes, shape: str) -> None:
    read_all("json", "data.json", data, shape=shape)


@FUZZ
@given(
    lines=st.lists(damaged(json_values.map(lambda v: json.dumps(v).encode())), max_size=6),
)
def test_the_json_lines_reader_gives_rows_or_a_ferry_error(lines: list[bytes]) -> None:
    read_all("jsonl", "data.jsonl", b"\n".join(lines))


env_lines = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", st.text(max_size=10), st.text(max_size=20)),
    st.sampled_from(
        ['export A="x', "B='unterminated", 'C="a\\nb"', "=novalue", "#comment", "D=${E}", "F"]
    ),
    st.text(max_size=30),
)


@FUZZ
@given(
    data=damaged(st.lists(env_lines, max_size=8).map(lambda ls: "\n".join(ls).encode())),
)
def test_the_env_reader_gives_rows_or_a_ferry_error(data: bytes) -> None:
    read_all("env", ".env", data)


plan_values = st.one_of(
    scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=8), scalars)
)
plan_tables = st.fixed_dictionaries(
    {"name": st.text(max_size=10), "source": st.text(max_size=10)},
    optional={
        "key": st.lists(st.text(max_size=5), max_size=2),
        "conflict": st.sampled_from(["insert", "update", "newer", "error", "upsert", ""]),
        "columns": st.dictionaries(
            st.text(max_size=6), st.one_of(st.text(max_size=6), st.dictionaries(keys, scalars))
        ),
        "on_reject": plan_values,
    },
)
plans = st.fixed_dictionaries(
    {},
    optional={
        "version": st.one_of(st.just(1), plan_values),
        "name": plan_values,
        "target": st.dictionaries(
            st.sampled_from(["url", "schema", "password_env", "sslmode", "connect_timeout", "x"]),
            plan_values,
        ),
        "sources": st.lists(
            st.dictionaries(
                st.sampled_from(["name", "kind", "path", "url", "shape", "root", "tables", "x"]),
                plan_values,
            ),
            max_size=3,
        ),
        "tables": st.lists(plan_tables, max_size=3),
        "options": st.dictionaries(st.sampled_from(["batch_size", "timezone", "y"]), plan_values),
    },
)


def toml_bytes(plan: dict[str, Any]) -> bytes:
    try:
        return tomli_w.dumps(plan).encode()
    except (TypeError, ValueError):  # None has no TOML form: the plan is text then
        return repr(plan).encode()


@FUZZ
@given(data=damaged(plans.map(toml_bytes)))
def test_the_plan_loader_gives_a_plan_or_a_plan_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ferry.toml"
        path.write_bytes(data)
        try:
            load_plan(path)
        except FerryError as exc:
            assert exc.exit_code == 3
            assert exc.message.strip()
