"""Source row -> target row: column steps, their order, errors and hooks
(ferry.values.transform)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import PlanError
from ferry.plan import TableSpec
from ferry.shape.schema import ColumnInfo, TableInfo
from ferry.values.logical import LogicalType
from ferry.values.transform import (
    RowMapper,
    RowRefused,
    compile_json_path,
    follow_json_path,
    load_hook,
)

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def table(**columns: LogicalType) -> TableInfo:
    info = TableInfo("t")
    for name, type_ in columns.items():
        info.columns[name] = ColumnInfo(name, type_)
    return info


def mapper(
    columns: dict[str, Any],
    target: TableInfo,
    source_columns: tuple[str, ...] = (),
    *,
    key: list[str] | None = None,
    row_hook: Any = None,
    warnings: list[str] | None = None,
    **spec: Any,
) -> RowMapper:
    table_spec = TableSpec.model_validate(
        {"name": "t", "source": "s", "columns": columns, "key": key or [], **spec}
    )
    warn = (lambda message, _key: warnings.append(message)) if warnings is not None else None
    return RowMapper(table_spec, target, source_columns, NOW, hook=row_hook, warn=warn)


def one(column: dict[str, Any] | str, row: dict[str, Any], type_: LogicalType = "text") -> Any:
    """The value of a single column ``c`` mapped from ``row``."""
    values = mapper({"c": column}, table(c=type_)).map(row)
    assert values is not None
    return values[0]


def rejection(column: dict[str, Any] | str, row: dict[str, Any], type_: LogicalType) -> str:
    with pytest.raises(RowRefused) as caught:
        mapper({"c": column}, table(c=type_)).map(row)
    return caught.value.reason


# -- each step ----------------------------------------------------------------------------


def test_from_takes_the_named_source_field() -> None:
    assert one("name", {"name": "Ada", "c": "other"}) == "Ada"


def test_from_a_missing_field_is_null() -> None:
    assert one("name", {}) is None


def test_const() -> None:
    assert one({"const": "legacy"}, {"c": "ignored"}) == "legacy"


def test_const_zero_is_a_value() -> None:
    assert one({"const": 0}, {}, "integer") == 0


def test_now_is_the_run_start() -> None:
    assert one({"now": True}, {}, "timestamp") == NOW


def test_parse_json_text() -> None:
    assert one({"from": "raw", "parse_json": True}, {"raw": '{"a": [1, 2]}'}, "json") == {
        "a": [1, 2]
    }


def test_parse_json_bytes() -> None:
    assert one({"from": "raw", "parse_json": True}, {"raw": b"[1]"}, "json") == [1]


def test_parse_json_leaves_parsed_values_alone() -> None:
    assert one({"from": "raw", "parse_json": True}, {"raw": {"a": 1}}, "json") == {"a": 1}


def test_json_path_into_an_object() -> None:
    row = {"meta": {"categories": ["news", "tech"]}}
    assert one({"from": "meta", "json_path": "$.categories[1]"}, row) == "tech"


def test_json_path_parses_json_text_on_its_own() -> None:
    assert one({"from": "meta", "json_path": "$.a.b"}, {"meta": '{"a": {"b": 7}}'}, "integer") == 7


def test_json_path_quoted_names() -> None:
    row = {"meta": {"a b": {"c.d": 1}}}
    assert one({"from": "meta", "json_path": "$['a b'][\"c.d\"]"}, row, "integer") == 1


def test_json_path_that_does_not_exist_is_null() -> None:
    row = {"meta": {"a": [1]}}
    assert one({"from": "meta", "json_path": "$.a[3]"}, row, "integer") is None
    assert one({"from": "meta", "json_path": "$.b.c"}, row, "integer") is None
    assert one({"from": "meta", "json_path": "$.a.x"}, row, "integer") is None


def test_json_path_dollar_alone_is_the_whole_value() -> None:
    assert one({"from": "meta", "json_path": "$"}, {"meta": "[1, 2]"}, "json") == [1, 2]


def test_default_fills_null() -> None:
    assert one({"from": "x", "default": "none given"}, {"x": None}) == "none given"


def test_default_leaves_values_alone() -> None:
    assert one({"from": "x", "default": "none given"}, {"x": ""}) == ""


@pytest.mark.parametrize(
    ("ops", "expected"),
    [(["trim"], "Mixed Case"), (["lower"], "  mixed case "), (["trim", "upper"], "MIXED CASE")],
)
def test_text_ops(ops: list[str], expected: str) -> None:
    assert one({"from": "x", "ops": ops}, {"x": "  Mixed Case "}) == expected


def test_text_ops_skip_non_text() -> None:
    assert one({"from": "x", "ops": ["trim"]}, {"x": 5}, "integer") == 5


LOOKUP = {"boolean": "bool", "integer": "int", "true": "yes", "3": "three"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("boolean", "bool"), ("integer", "int"), (True, "yes"), (3, "three"), ("string", "string")],
)
def test_lookup_replaces_the_values_it_names(value: Any, expected: Any) -> None:
    assert one({"from": "x", "lookup": LOOKUP}, {"x": value}) == expected


def test_lookup_leaves_null_to_default() -> None:
    assert one({"from": "x", "lookup": {"null": "n/a"}}, {"x": None}) is None
    assert one({"from": "x", "default": "null", "lookup": {"null": "n/a"}}, {}) == "n/a"


@pytest.mark.parametrize(
    ("value", "expected"), [("x", True), (0, True), (None, False), ("", False)]
)
def test_is_not_null(value: Any, expected: bool) -> None:
    assert one({"from": "x", "is_not_null": True}, {"x": value}, "boolean") is expected


def test_cast_to_the_target_column_type() -> None:
    assert one("x", {"x": "42"}, "integer") == 42


def test_cast_in_the_plan_reads_the_value_then_the_column_type_stores_it() -> None:
    assert one({"from": "x", "cast": "integer"}, {"x": "42.0"}, "text") == "42"


def test_a_value_the_cast_reads_but_the_column_type_cannot_hold_rejects_the_row() -> None:
    assert rejection({"from": "x", "cast": "text"}, {"x": "soon"}, "timestamp") == (
        "column 'c': 'soon' is not a timestamp (cast to text, then stored in the table's "
        "timestamp column)"
    )


def test_cast_failure_rejects_the_row_with_the_reason() -> None:
    assert rejection("x", {"x": "lots"}, "integer") == "column 'c': 'lots' is not a whole number"


# -- order of steps -----------------------------------------------------------------------


def test_parse_json_then_json_path_then_cast() -> None:
    column = {"from": "raw", "parse_json": True, "json_path": "$.n"}
    assert one(column, {"raw": '{"n": "12"}'}, "integer") == 12


def test_json_path_then_default() -> None:
    column = {"from": "meta", "json_path": "$.missing", "default": "fallback"}
    assert one(column, {"meta": {"a": 1}}) == "fallback"


def test_default_then_ops() -> None:
    assert one({"from": "x", "default": "  NEW ", "ops": ["trim", "lower"]}, {}) == "new"


def test_ops_then_lookup_then_cast() -> None:
    column = {"from": "x", "ops": ["trim", "lower"], "lookup": {"on": "1", "off": "0"}}
    assert one(column, {"x": " ON "}, "integer") == 1


def test_ops_then_is_not_null() -> None:
    assert (
        one({"from": "x", "ops": ["trim"], "is_not_null": True}, {"x": "   "}, "boolean") is False
    )


def test_ops_then_cast() -> None:
    assert one({"from": "x", "ops": ["lower"]}, {"x": "YES"}, "boolean") is True


def test_default_then_cast() -> None:
    assert one({"from": "x", "default": "7"}, {}, "integer") == 7


# -- errors -------------------------------------------------------------------------------


def test_parse_json_malformed_rejects() -> None:
    reason = rejection({"from": "raw", "parse_json": True}, {"raw": "{oops"}, "json")
    assert reason == (
        "column 'c': is not valid JSON "
        "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    )


def test_parse_json_refuses_nan() -> None:
    reason = rejection({"from": "raw", "parse_json": True}, {"raw": "[NaN]"}, "json")
    assert reason == "column 'c': is not valid JSON (NaN is not valid JSON)"


def test_json_path_on_malformed_text_rejects() -> None:
    reason = rejection({"from": "raw", "json_path": "$.a"}, {"raw": "not json"}, "text")
    assert reason == "column 'c': is not valid JSON (Expecting value: line 1 column 1 (char 0))"


def test_parse_json_malformed_with_warn_uses_fallback_and_warns() -> None:
    warnings: list[str] = []
    column = {"from": "raw", "parse_json": True, "on_error": "warn", "fallback": {"v": 0}}
    rows = mapper({"c": column}, table(c="json"), warnings=warnings)
    assert rows.map({"raw": "{oops"}) == ({"v": 0},)
    assert warnings == [
        "t: column 'c': is not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)); used {'v': 0} instead"
    ]


def test_cast_failure_with_warn_uses_fallback_cast_to_the_type() -> None:
    warnings: list[str] = []
    column = {"from": "x", "on_error": "warn", "fallback": "-1"}
    rows = mapper({"c": column}, table(c="integer"), warnings=warnings)
    assert rows.map({"x": "lots"}) == (-1,)
    assert warnings == ["t: column 'c': 'lots' is not a whole number; used '-1' instead"]  # no key


def test_warn_without_fallback_uses_null() -> None:
    warnings: list[str] = []
    rows = mapper({"c": {"from": "x", "on_error": "warn"}}, table(c="integer"), warnings=warnings)
    assert rows.map({"x": "lots"}) == (None,)
    assert warnings == ["t: column 'c': 'lots' is not a whole number; used None instead"]


def test_key_column_empty_rejects() -> None:
    rows = mapper({"id": "id", "name": "name"}, table(id="text", name="text"), key=["id"])
    with pytest.raises(RowRefused) as caught:
        rows.map({"id": None, "name": "x"})
    assert caught.value.reason == "key column 'id' is empty"


def test_key_column_empty_after_warn_fallback_rejects() -> None:
    column = {"from": "id", "on_error": "warn"}
    rows = mapper({"id": column}, table(id="integer"), key=["id"], warnings=[])
    with pytest.raises(RowRefused, match=r"^key column 'id' is empty$"):
        rows.map({"id": "abc"})


def test_skip_when_null_skips_the_row() -> None:
    rows = mapper({"a": "a", "b": "b"}, table(a="text", b="text"), skip_when_null=["b"])
    assert rows.map({"a": "x", "b": None}) is None
    assert rows.map({"a": "x", "b": "y"}) == ("x", "y")


def test_skip_when_null_looks_at_the_transformed_value() -> None:
    column = {"from": "meta", "json_path": "$.b"}
    rows = mapper({"b": column}, table(b="text"), skip_when_null=["b"])
    assert rows.map({"meta": {"a": 1}}) is None


# -- hooks --------------------------------------------------------------------------------


def test_hook_rewrites_the_row_before_mapping() -> None:
    def hook(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "name": row["name"].title()}

    rows = mapper({"name": "name"}, table(name="text"), row_hook=hook)
    assert rows.map({"name": "ada lovelace"}) == ("Ada Lovelace",)


def test_hook_returning_none_drops_the_row() -> None:
    rows = mapper({"name": "name"}, table(name="text"), row_hook=lambda row: None)
    assert rows.map({"name": "x"}) is None


def test_hook_raising_value_error_rejects_with_its_message() -> None:
    def hook(row: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("no test rows please")

    rows = mapper({"name": "name"}, table(name="text"), row_hook=hook, hook="hooks.py:clean")
    with pytest.raises(RowRefused) as caught:
        rows.map({"name": "x"})
    assert caught.value.reason == "hook hooks.py:clean: no test rows please"


def test_hook_key_error_rejects() -> None:
    def hook(row: dict[str, Any]) -> dict[str, Any]:
        return {"name": row["missing"]}

    rows = mapper({"name": "name"}, table(name="text"), row_hook=hook, hook="hooks.py:clean")
    with pytest.raises(RowRefused, match=r"^hook hooks.py:clean: 'missing'$"):
        rows.map({"name": "x"})


def test_load_hook_from_a_file_next_to_the_plan(tmp_path: Path) -> None:
    (tmp_path / "hooks.py").write_text(
        "def shout(row):\n    return {**row, 'name': row['name'].upper()}\n", encoding="utf-8"
    )
    hook = load_hook("hooks.py:shout", tmp_path)
    assert hook({"name": "a"}) == {"name": "A"}


def test_load_hook_from_a_module() -> None:
    hook = load_hook("json:dumps", Path("."))
    assert hook({"a": 1}) == '{"a": 1}'  # type: ignore[comparison-overlap]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "hooks.py",
            "hook 'hooks.py' must look like 'hooks.py:function' or 'package.module:function'",
        ),
        ("missing.py:f", "hook file missing.py was not found next to the plan"),
        ("json:nope", "cannot load hook 'json:nope': module 'json' has no attribute 'nope'"),
        (
            "no_such_module_x:f",
            "cannot load hook 'no_such_module_x:f': No module named 'no_such_module_x'",
        ),
    ],
)
def test_load_hook_errors(tmp_path: Path, reference: str, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_hook(reference, tmp_path)
    assert caught.value.message == message


# -- mapping columns ----------------------------------------------------------------------


def test_map_all_carries_fields_named_like_target_columns() -> None:
    rows = mapper({}, table(a="text", b="integer"), ("b", "a", "extra"))
    assert rows.columns == ["b", "a"]
    assert rows.map({"a": "x", "b": "2", "extra": 1}) == (2, "x")


def test_map_all_does_not_map_a_field_the_plan_already_uses() -> None:
    rows = mapper({"b": "a"}, table(a="text", b="text"), ("a", "b"))
    assert rows.columns == ["b"]


def test_map_all_off_maps_only_the_named_columns() -> None:
    rows = mapper({"a": "a"}, table(a="text", b="text"), ("a", "b"), map_all=False)
    assert rows.columns == ["a"]


def test_column_missing_from_the_target_is_a_plan_error() -> None:
    with pytest.raises(PlanError) as caught:
        mapper({"nope": "x"}, table(a="text"))
    assert caught.value.message == "table 't' has no column 'nope' (the plan maps a value to it)"
    assert caught.value.hint == "Columns of t: a"


def test_now_columns_are_known() -> None:
    rows = mapper({"seen": {"now": True}, "a": "a"}, table(a="text", seen="timestamp"))
    assert rows.now_columns == {"seen"}


def test_key_of_for_messages() -> None:
    rows = mapper({"a": "a", "b": "b"}, table(a="text", b="integer"), key=["a", "b"])
    assert rows.key_of(("x", 1)) == "a='x', b=1"
    assert rows.key_of({"a": "y", "b": 2}) == "a='y', b=2"


def test_values_dict() -> None:
    rows = mapper({"a": "a", "b": "b"}, table(a="text", b="integer"))
    assert rows.values_dict(("x", 1)) == {"a": "x", "b": 1}


# -- JSON paths ---------------------------------------------------------------------------


def test_compile_json_path() -> None:
    assert compile_json_path("$.a[0]['b c'][\"d\"]") == ["a", 0, "b c", "d"]


@pytest.mark.parametrize("path", ["a.b", "$.a[", "$a", "$.a[-1]"])
def test_compile_json_path_refuses(path: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        compile_json_path(path)


def test_follow_json_path() -> None:
    assert follow_json_path({"a": [{"b": 2}]}, ["a", 0, "b"]) == 2
    assert follow_json_path({"a": "text"}, ["a", 0]) is None


# -- time zones, fallbacks and broken hooks -----------------------------------------------


def zoned(timezone: Any) -> RowMapper:
    spec = TableSpec.model_validate({"name": "t", "source": "s", "columns": {"c": "x"}})
    return RowMapper(spec, table(c="timestamp"), (), NOW, timezone=timezone)


def test_naive_timestamps_take_the_plan_zone() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    values = zoned(berlin).map({"x": "2024-05-01 12:00:00"})
    assert values == (datetime(2024, 5, 1, 12, 0, tzinfo=berlin),)
    assert values[0] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # the same moment


def test_timestamps_with_an_offset_keep_it() -> None:
    from zoneinfo import ZoneInfo

    values = zoned(ZoneInfo("Europe/Berlin")).map({"x": "2024-05-01T10:00:00Z"})
    assert values == (datetime(2024, 5, 1, 10, 0, tzinfo=UTC),)


def test_without_a_zone_naive_timestamps_stay_naive() -> None:
    assert zoned(None).map({"x": "2024-05-01 12:00:00"}) == (datetime(2024, 5, 1, 12, 0),)


def test_fallback_that_does_not_fit_the_type_is_a_plan_error() -> None:
    with pytest.raises(PlanError) as caught:
        mapper({"c": {"from": "x", "on_error": "warn", "fallback": "none"}}, table(c="integer"))
    assert (
        caught.value.message == "table 't', column 'c': the fallback 'none' is not a whole number"
    )


def test_hook_index_error_rejects() -> None:
    def hook(row: dict[str, Any]) -> dict[str, Any]:
        return {"name": row["tags"][3]}

    rows = mapper({"name": "name"}, table(name="text"), row_hook=hook, hook="hooks.py:clean")
    with pytest.raises(RowRefused, match=r"^hook hooks.py:clean: list index out of range$"):
        rows.map({"tags": []})


def test_hook_with_a_bug_stops_with_a_plan_error() -> None:
    def hook(row: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    rows = mapper({"name": "name"}, table(name="text"), row_hook=hook, hook="hooks.py:clean")
    with pytest.raises(PlanError) as caught:
        rows.map({"name": "x"})
    assert caught.value.message == "hook hooks.py:clean of table 't' failed: RuntimeError: boom"
