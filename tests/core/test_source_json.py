"""JsonSource: the three shapes, roots, nested objects and lists, and every kind of bad file."""

from __future__ import annotations

import inspect
import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import Batch, ParentLink, SourceTable, open_source
from ferry.sources import json as json_source
from ferry.sources.json import JsonSource


def source(
    tmp_path: Path, content: Any, name: str = "executions", file: str = "data.json", **spec: Any
) -> JsonSource:
    """A JsonSource over ``file`` in tmp_path (bytes are written as they are)."""
    path = tmp_path / file
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    reader = open_source(SourceSpec(name=name, kind="json", path=file, **spec), tmp_path)
    assert isinstance(reader, JsonSource)
    return reader


def rows(reader: JsonSource, table: str | None = None, batch_size: int = 100) -> list[Any]:
    wanted = table or reader.spec.name
    return [row for b in reader.batches(batch_size) if b.table == wanted for row in b.rows]


def error_of(reader: JsonSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        list(reader.batches(100))
    return caught.value


# -- shapes ------------------------------------------------------------------------------------


def test_records_give_one_row_per_object(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])

    assert rows(reader) == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_records_with_id_are_keyed_by_id(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "name": "a"}])

    assert [(t.name, t.key) for t in reader.describe()] == [("executions", ("id",))]


def test_records_without_id_get_a_position_column_as_key(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"name": "a"}, {"name": "b"}])

    assert rows(reader) == [{"position": 0, "name": "a"}, {"position": 1, "name": "b"}]
    assert reader.describe()[0].key == ("position",)


def test_record_whose_own_position_differs_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, [{"position": 7}]))

    assert "$[0] has its own 'position' (7)" in error.message


def test_array_of_scalars_gives_value_and_position(tmp_path: Path) -> None:
    reader = source(tmp_path, ["a", 2, None])

    assert rows(reader) == [
        {"value": "a", "position": 0},
        {"value": 2, "position": 1},
        {"value": None, "position": 2},
    ]


def test_record_after_records_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, [{"id": 1}, "oops"]))

    assert error.message.endswith("data.json: $[1] is a string, not an object")


def test_keyed_object_puts_the_key_in_id(tmp_path: Path) -> None:
    reader = source(tmp_path, {"job1": {"title": "A"}, "job2": {"title": "B"}})

    assert rows(reader) == [{"id": "job1", "title": "A"}, {"id": "job2", "title": "B"}]
    assert reader.describe()[0].key == ("id",)


def test_keyed_object_uses_key_column(tmp_path: Path) -> None:
    reader = source(tmp_path, {"job1": {"title": "A"}}, key_column="job_id")

    assert rows(reader) == [{"job_id": "job1", "title": "A"}]


def test_keyed_record_repeating_its_key_with_the_same_value_is_fine(tmp_path: Path) -> None:
    reader = source(tmp_path, {"job1": {"id": "job1", "title": "A"}})

    assert rows(reader) == [{"id": "job1", "title": "A"}]


def test_keyed_record_with_a_different_id_is_refused_with_a_key_column_hint(
    tmp_path: Path,
) -> None:
    error = error_of(source(tmp_path, {"job1": {"id": "other"}}))

    assert error.message == (
        f"{tmp_path / 'data.json'}: $[\"job1\"] has its own 'id' ('other'), which differs "
        "from the 'id' Ferry gives the row ('job1')"
    )
    assert "key_column" in error.hint


def test_keyed_record_whose_integer_id_is_its_key_keeps_the_integer(tmp_path: Path) -> None:
    reader = source(tmp_path, {"12": {"id": 12, "title": "A"}, "13": {"id": 13, "title": "B"}})

    assert rows(reader) == [{"id": 12, "title": "A"}, {"id": 13, "title": "B"}]


def test_nested_keyed_record_whose_integer_id_is_its_key_links_its_children_by_it(
    tmp_path: Path,
) -> None:
    reader = source(tmp_path, {"12": {"id": 12, "tags": [{"t": "x"}]}}, name="items")

    assert rows(reader) == [{"id": 12}]
    assert rows(reader, "items.tags") == [{"items_id": 12, "position": 0, "t": "x"}]


@pytest.mark.parametrize("key", ["012", "12.0", " 12"])
def test_keyed_record_whose_integer_id_is_not_its_keys_canonical_text_is_refused(
    tmp_path: Path, key: str
) -> None:
    error = error_of(source(tmp_path, {key: {"id": 12, "title": "A"}}))

    assert error.message == (
        f"{tmp_path / 'data.json'}: $[{json.dumps(key)}] has its own 'id' (12), which differs "
        f"from the 'id' Ferry gives the row ({key!r})"
    )


def test_keyed_entry_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    values = {f"k{i}": {"a": i} for i in range(20)} | {"late": 5}

    error = error_of(source(tmp_path, values, shape="keyed"))

    assert error.message.endswith('$["late"] is an integer, not an object')
    assert "shape = 'kv'" in error.hint


def test_kv_map_gives_key_value_and_json_type(tmp_path: Path) -> None:
    settings = {
        "log_level": "INFO",
        "retries": 3,
        "ratio": 0.5,
        "dry_run": False,
        "proxy": None,
        "whisper": {"model": "base"},
        "tags": ["a"],
    }
    reader = source(tmp_path, settings, name="settings")

    assert rows(reader) == [
        {"key": "log_level", "value": "INFO", "value_type": "string"},
        {"key": "retries", "value": 3, "value_type": "integer"},
        {"key": "ratio", "value": 0.5, "value_type": "number"},
        {"key": "dry_run", "value": False, "value_type": "boolean"},
        {"key": "proxy", "value": None, "value_type": "null"},
        {"key": "whisper", "value": {"model": "base"}, "value_type": "object"},
        {"key": "tags", "value": ["a"], "value_type": "array"},
    ]


def test_kv_nested_object_is_a_plain_dict(tmp_path: Path) -> None:
    reader = source(tmp_path, {"whisper": {"model": "base"}, "n": 1})

    value = rows(reader)[0]["value"]
    assert type(value) is dict
    value["model"] = "large"  # a plain dict: changing an existing key works
    assert value == {"model": "large"}


def test_kv_uses_key_column(tmp_path: Path) -> None:
    reader = source(tmp_path, {"retries": 3}, key_column="name")

    assert rows(reader) == [{"name": "retries", "value": 3, "value_type": "integer"}]
    assert reader.describe()[0].key == ("name",)


def test_auto_takes_an_object_of_objects_as_keyed(tmp_path: Path) -> None:
    reader = source(tmp_path, {"a": {"x": 1}, "b": {"x": 2}})

    assert rows(reader) == [{"id": "a", "x": 1}, {"id": "b", "x": 2}]


def test_auto_takes_an_object_with_a_plain_value_as_kv(tmp_path: Path) -> None:
    reader = source(tmp_path, {"a": {"x": 1}, "b": 2})

    assert [r["key"] for r in rows(reader)] == ["a", "b"]


def test_explicit_shape_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, {"a": 1}, shape="records"))

    assert error.message.endswith("shape 'records' needs an array at $, but it holds an object")


# -- root --------------------------------------------------------------------------------------


def test_root_selects_a_collection_inside_the_document(tmp_path: Path) -> None:
    reader = source(tmp_path, {"version": 2, "jobs": [{"id": 1}]}, root="jobs")

    assert rows(reader) == [{"id": 1}]


def test_dotted_root_goes_several_levels_down(tmp_path: Path) -> None:
    document = {"state": {"discs": {"d1": {"label": "One"}}}}
    reader = source(tmp_path, document, name="discs", root="state.discs")

    assert rows(reader) == [{"id": "d1", "label": "One"}]


def test_missing_root_is_refused_naming_the_top_level_keys(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, {"jobs": [], "meta": {}}, root="job"))

    assert error.message == f"{tmp_path / 'data.json'}: has no 'job' (the source's root)"
    assert error.hint == "Set root to one of the top-level keys: 'jobs', 'meta'."


def test_root_holding_a_plain_value_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, {"jobs": 3}, root="jobs"))

    assert error.message.endswith("$.jobs holds a number, not an array or object")


# -- nested values -----------------------------------------------------------------------------


def test_nested_object_stays_one_json_value_by_default(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "meta": {"a": 1, "b": {"c": 2}}}])

    assert rows(reader) == [{"id": 1, "meta": {"a": 1, "b": {"c": 2}}}]


def test_flatten_turns_nested_objects_into_underscored_columns(tmp_path: Path) -> None:
    reader = source(
        tmp_path, [{"id": 1, "meta": {"a": 1, "b": {"c": 2}}}], nested_objects="flatten"
    )

    assert rows(reader) == [{"id": 1, "meta_a": 1, "meta_b_c": 2}]


def test_flattened_name_that_collides_with_a_field_is_refused(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "meta_a": 1, "meta": {"a": 2}}], nested_objects="flatten")

    assert "has its own 'meta_a'" in error_of(reader).message


def test_list_of_objects_becomes_a_child_table(tmp_path: Path) -> None:
    document = {"job1": {"title": "A", "steps": [{"step_name": "x", "status": "ok"}]}}
    reader = source(tmp_path, document)

    assert rows(reader) == [{"id": "job1", "title": "A"}]
    assert rows(reader, "executions.steps") == [
        {"executions_id": "job1", "position": 0, "step_name": "x", "status": "ok"}
    ]


def test_child_table_is_described_with_its_key_and_parent(tmp_path: Path) -> None:
    document = {"job1": {"title": "A", "steps": [{"step_name": "x", "ok": True}]}}

    tables = source(tmp_path, document).describe()

    assert tables == [
        SourceTable(
            "executions", {"id": "text", "title": "text"}, ("id",), None, None, "data.json"
        ),
        SourceTable(
            "executions.steps",
            {"executions_id": "text", "position": "integer", "step_name": "text", "ok": "boolean"},
            ("executions_id", "position"),
            ParentLink("executions", ("executions_id",), ("id",)),
            None,
            "data.json",
        ),
    ]


def test_grandchild_table_carries_the_childs_key(tmp_path: Path) -> None:
    document = {"job1": {"steps": [{"logs": [{"line": "hi"}]}]}}
    reader = source(tmp_path, document)

    assert rows(reader, "executions.steps.logs") == [
        {"steps_executions_id": "job1", "steps_position": 0, "position": 0, "line": "hi"}
    ]
    logs = {t.name: t for t in reader.describe()}["executions.steps.logs"]
    assert logs.key == ("steps_executions_id", "steps_position", "position")
    assert logs.parent == ParentLink(
        "executions.steps", ("steps_executions_id", "steps_position"), ("executions_id", "position")
    )


def test_child_of_records_without_id_points_at_the_position(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"name": "a", "steps": [{"s": 1}, {"s": 2}]}])

    assert rows(reader) == [{"position": 0, "name": "a"}]
    assert rows(reader, "executions.steps") == [
        {"executions_position": 0, "position": 0, "s": 1},
        {"executions_position": 0, "position": 1, "s": 2},
    ]


def test_child_record_with_its_own_different_position_is_refused(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "steps": [{"position": 5}]}])

    assert "$[0] has its own 'position' (5)" in error_of(reader).message


def test_list_of_scalars_stays_a_json_value(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "tags": ["a", "b"]}])

    assert rows(reader) == [{"id": 1, "tags": ["a", "b"]}]
    assert [t.name for t in reader.describe()] == ["executions"]


def test_nested_lists_json_keeps_lists_of_objects_as_values(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "steps": [{"s": 1}]}], nested_lists="json")

    assert rows(reader) == [{"id": 1, "steps": [{"s": 1}]}]


def test_empty_list_of_a_known_child_table_gives_no_column(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": 1, "steps": [{"s": 1}]}, {"id": 2, "steps": []}])

    assert rows(reader) == [{"id": 1}, {"id": 2}]


# -- batches, describe, scan -------------------------------------------------------------------


def test_batches_hold_at_most_batch_size_rows(tmp_path: Path) -> None:
    reader = source(tmp_path, [{"id": i} for i in range(5)])

    assert [len(b.rows) for b in reader.batches(2)] == [2, 2, 1]


def test_parent_rows_always_come_before_their_children(tmp_path: Path) -> None:
    document = [{"id": i, "steps": [{"s": 0}, {"s": 1}, {"s": 2}]} for i in range(3)]

    batches = list(source(tmp_path, document).batches(2))

    assert [(b.table, [r.get("id", r.get("executions_id")) for r in b.rows]) for b in batches] == [
        ("executions", [0]),
        ("executions.steps", [0, 0]),
        ("executions", [1]),
        ("executions.steps", [0, 1]),
        ("executions.steps", [1, 1]),
        ("executions", [2]),
        ("executions.steps", [2, 2]),
        ("executions.steps", [2]),
    ]


def test_describe_reads_only_the_first_records(tmp_path: Path) -> None:
    good = ",".join(json.dumps({"id": i}) for i in range(150))
    reader = source(tmp_path, f'[{good}, {{"id": 150'.encode())

    assert reader.describe() == [
        SourceTable("executions", {"id": "integer"}, ("id",), None, None, "data.json")
    ]
    assert "ends too early" in error_of(reader).message


def test_scan_finds_a_child_table_first_seen_after_the_sample(tmp_path: Path) -> None:
    document = [{"id": i} for i in range(150)] + [{"id": 150, "steps": [{"s": "x"}]}]

    tables = source(tmp_path, document).scan()

    assert [(t.name, t.columns, t.row_estimate) for t in tables] == [
        ("executions", {"id": "integer"}, 151),
        ("executions.steps", {"executions_id": "integer", "position": "integer", "s": "text"}, 1),
    ]


def test_files_is_the_json_file(tmp_path: Path) -> None:
    assert source(tmp_path, []).files() == [tmp_path / "data.json"]


def test_numbers_are_ints_and_floats(tmp_path: Path) -> None:
    reader = source(tmp_path, b'[{"i": 3, "f": 1.25, "e": 1e3}]')

    row = rows(reader)[0]
    assert row == {"position": 0, "i": 3, "f": 1.25, "e": 1000.0}
    assert [type(v) for v in row.values()] == [int, int, float, float]


def test_integers_beyond_64_bits_are_yielded_once_each(tmp_path: Path) -> None:
    text = b'[{"n": 1, "f": 0.5}, {"n": 2}, {"n": 123456789012345678901234567890, "f": 2.5}]'

    batches = list(source(tmp_path, text).batches(1))

    assert [row for b in batches for row in b.rows] == [
        {"position": 0, "n": 1, "f": 0.5},
        {"position": 1, "n": 2},
        {"position": 2, "n": 123456789012345678901234567890, "f": 2.5},
    ]
    assert type(batches[2].rows[0]["f"]) is float


# -- bad input ---------------------------------------------------------------------------------


def test_truncated_file_names_line_and_column(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'[{"id": 1},\n {"id": 2'))

    assert error.message == (
        f"{tmp_path / 'data.json'}: the JSON ends too early at line 2, column 10 (truncated?)"
    )
    assert error.hint


def test_nan_is_refused_with_its_position(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'[{"id": 1,\n  "x": NaN}]'))

    assert error.message.endswith("data.json: NaN at line 2, column 8 is not valid JSON")
    assert "null" in error.hint


def test_infinity_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'[{"s": "NaN", "x": -Infinity}]'))

    assert error.message.endswith("-Infinity at line 1, column 20 is not valid JSON")


def test_duplicate_key_in_a_record_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'[{"id": 1}, {"id": 2, "a": 1, "a": 1}]'))

    assert error.message == f"{tmp_path / 'data.json'}: duplicate key 'a' in $[1]"
    assert error.hint


def test_duplicate_key_inside_a_keyed_entry_names_the_entry(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"j1": {"a": 1}, "j2": {"b": {"c": 1, "c": 2}}}'))

    assert error.message.endswith("duplicate key 'c' in $[\"j2\"]")


def test_duplicate_top_level_key_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"retries": 1, "retries": 2}'))

    assert error.message.endswith("duplicate key 'retries' in $")


def test_duplicate_noted_on_a_failed_read_does_not_leak_into_the_next(tmp_path: Path) -> None:
    error_of(source(tmp_path, b'[{"a": 1, "a": 2}]', file="bad.json"))
    reader = source(tmp_path, [{"a": 1}])

    assert rows(reader) == [{"position": 0, "a": 1}]


def test_reading_can_move_between_threads(tmp_path: Path) -> None:
    batches = source(tmp_path, [{"id": i} for i in range(4)]).batches(1)
    got: list[Batch] = []
    for _ in range(4):
        worker = threading.Thread(target=lambda: got.append(next(batches)))
        worker.start()
        worker.join()

    assert [b.rows for b in got] == [[{"id": 0}], [{"id": 1}], [{"id": 2}], [{"id": 3}]]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    reader = source(tmp_path, b'\xef\xbb\xbf[{"id": 1}]')

    assert rows(reader) == [{"id": 1}]


def test_non_utf8_bytes_are_refused_with_the_offset(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'[{"name": "caf\xe9"}]'))

    assert error.message.endswith("data.json: not UTF-8 text (byte 14 cannot be decoded)")
    assert "UTF-8" in error.hint


def test_utf16_file_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, "[1]".encode("utf-16")))

    assert error.message.endswith("is UTF-16 text; JSON must be UTF-8")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b""))

    assert error.message == f"{tmp_path / 'data.json'}: file is empty"


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b"  \n "))

    assert error.message.endswith("data.json: file is empty")


def test_text_that_is_not_json_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b"name = value\n"))

    assert error.message.endswith("not valid JSON at line 1, column 1: Expecting value")


def test_trailing_data_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'[{"id": 1}]\n[2]'))

    assert error.message.endswith("not valid JSON at line 2, column 1: Extra data")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    spec = SourceSpec(name="x", kind="json", path="nope.json")

    with pytest.raises(SourceError) as caught:
        open_source(spec, tmp_path).describe()

    assert caught.value.message == f"{tmp_path / 'nope.json'}: file not found"
    assert "plan's folder" in caught.value.hint


def test_big_file_errors_give_the_byte_offset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_source, "_REPARSE_LIMIT", 0)  # as if the file were over 64 MiB

    error = error_of(source(tmp_path, b'[{"id": 1}, {"id": 2'))

    assert error.message.endswith("the JSON ends too early near byte 20 (truncated?)")


def test_nesting_deeper_than_512_levels_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b"[" * 100_000))

    assert error.message.endswith("data.json: nested deeper than 512 levels at byte 512")


def test_nesting_of_512_levels_is_read(tmp_path: Path) -> None:
    reader = source(tmp_path, b"[" * 512 + b"]" * 512)

    value = rows(reader)[0]["value"]
    depth = 1
    while value:
        value, depth = value[0], depth + 1
    assert depth == 511


def test_deep_nesting_past_pythons_recursion_limit_is_a_source_error(tmp_path: Path) -> None:
    nested: Any = 1
    for _ in range(400):
        nested = {"a": nested}
    reader = source(tmp_path, [{"id": 1, "deep": nested}], nested_objects="flatten")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 200)  # fewer frames than flattening needs
    try:
        with pytest.raises(SourceError) as caught:
            list(reader.batches(10))
    finally:
        sys.setrecursionlimit(limit)

    assert "nested deeper than Python can follow" in caught.value.message


def test_memory_stays_flat_while_streaming_a_large_file(tmp_path: Path) -> None:
    """200,000 records (~40 MB): the peak is about one batch, not the file."""
    import tracemalloc

    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for number in range(200_000):
            comma = "," if number else ""
            handle.write(
                f'{comma}{{"id": {number}, "title": "row {number}", "pad": "{"x" * 150}"}}'
            )
        handle.write("]")
    reader = JsonSource(SourceSpec(name="big", kind="json", path=str(path)), tmp_path)
    tracemalloc.start()
    rows = sum(len(batch.rows) for batch in reader.batches(5000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rows == 200_000
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"
