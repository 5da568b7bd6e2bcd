"""A JSON worker maps with plan specs sent as views (ferry.load.specviews): a RowMapper built
from the views gives the values, refusals and warnings of one built from the plan's models."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.load.specviews import mapper_view
from ferry.plan import TableSpec
from ferry.shape.schema import ColumnInfo, TableInfo
from ferry.values.transform import RowMapper, RowRefused

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
FIELDS = ("a", "b", "c")
TYPES = ("text", "integer", "float", "decimal", "boolean", "json", "timestamp", "date")

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([" Foo ", "12", "1.5", "true", "x", "2024-01-01T00:00:00Z", '{"k": 1}', ""]),
    st.just({"k": [1, 2]}),
)

from_field = st.fixed_dictionaries(
    {"from": st.sampled_from(FIELDS)},
    optional={
        "ops": st.lists(st.sampled_from(["trim", "lower", "upper"]), max_size=2),
        "default": st.sampled_from(["d", 0]),
        "lookup": st.just({"x": "y", "12": "13"}),
        "is_not_null": st.booleans(),
        "cast": st.sampled_from(["text", "integer", "float"]),
        "on_error": st.just("warn"),
        "parse_json": st.booleans(),
    },
)
column_specs = st.one_of(
    from_field,
    st.fixed_dictionaries({"const": st.sampled_from(["k", 7])}),
    st.just({"now": True}),
)


def outcome(mapper: RowMapper, warned: list[str], rows: list[dict[str, Any]]) -> list[Any]:
    """Each row's values or refusal, and the warnings, through the compiled row function."""
    map_row = mapper.row_function([lambda value: value] * len(mapper.columns))
    out: list[Any] = []
    for row in rows:
        try:
            out.append(map_row(row))
        except RowRefused as exc:
            out.append(("refused", exc.reason))
        out.append(list(warned))
        warned.clear()
    return out


@settings(max_examples=150, deadline=None)
@given(
    types=st.fixed_dictionaries({name: st.sampled_from(TYPES) for name in ("a", "b", "x", "y")}),
    columns=st.dictionaries(st.sampled_from(["x", "y"]), column_specs, max_size=2),
    key=st.sampled_from([[], ["a"], ["x"]]),
    rows=st.lists(st.fixed_dictionaries({f: values for f in FIELDS}), min_size=1, max_size=5),
)
def test_a_mapper_from_views_maps_as_the_plans_mapper(
    types: dict[str, Any], columns: dict[str, Any], key: list[str], rows: list[dict[str, Any]]
) -> None:
    target = TableInfo("t")
    for name, type_ in types.items():
        target.columns[name] = ColumnInfo(name, type_)
    spec = TableSpec.model_validate({"name": "t", "source": "s", "columns": columns, "key": key})
    warned: list[str] = []
    try:
        plans = RowMapper(spec, target, FIELDS, NOW, warn=lambda m, _k: warned.append(m))
    except Exception as exc:  # a fallback the column's type refuses: a PlanError
        plans_error = (type(exc), str(exc))
    else:
        plans_error = None
    if plans_error is not None:
        return
    view = pickle.loads(pickle.dumps(mapper_view(plans)))  # as a worker receives it
    viewed = RowMapper(view, target, FIELDS, NOW, warn=lambda m, _k: warned.append(m))
    assert viewed.columns == plans.columns
    assert outcome(viewed, warned, rows) == outcome(plans, warned, rows)
