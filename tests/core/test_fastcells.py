"""The compiled row function (RowMapper.row_function, ferry.values.fastcells) gives exactly what
RowMapper.map gives: values, rejects with their reasons, skips and warnings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from ferry.plan import TableSpec
from ferry.shape.schema import ColumnInfo, TableInfo
from ferry.values.logical import identity
from ferry.values.transform import RowMapper, RowRefused

TYPES = {
    "id": "integer",
    "name": "text",
    "score": "float",
    "ok": "boolean",
    "at": "timestamp",
    "day": "date",
    "doc": "json",
    "raw": "bytes",
}

VALUES: dict[str, list[Any]] = {
    "id": [1, 2**63, -(2**63), True, "7", " 8 ", 9.0, 9.5, "x", None, Decimal("3")],
    "name": ["a", "", 5, True, b"bytes", {"k": 1}, [1], datetime(2024, 1, 1), None],
    "score": [1.5, 2, "3.25", True, "nan?", None, Decimal("1.1")],
    "ok": [True, False, 1, 0, 2, "yes", "off", "maybe", None],
    "at": [
        "2024-05-01T10:00:00Z",
        "2024-05-01 10:00:00.123456789+02:00",
        "2024-05-01",
        "2024-05-01T25:00:00",
        "2024-13-01",
        " 2024-05-01T10:00:00 ",
        "20240501",
        "1700000000",
        1700000000,
        1_700_000_000_000,
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        datetime(2024, 5, 1, 10),
        date(2024, 5, 1),
        "",
        "soon",
        None,
    ],
    "day": ["2024-05-01", datetime(2024, 5, 1, 23), date(2024, 5, 1), "nope", None],
    "doc": [{"a": [1, 2]}, [1], "text", 3, 2.5, float("nan"), True, Decimal("2"), b"x", None],
    "raw": [b"x", "text", 5, None],
}


def mapper(zone: Any, **spec: Any) -> RowMapper:
    table = TableInfo("t", {name: ColumnInfo(name, type_) for name, type_ in TYPES.items()})
    table_spec = TableSpec.model_validate({"name": "t", "source": "s", "key": ["id"], **spec})
    return RowMapper(table_spec, table, list(TYPES), datetime(2024, 1, 1), timezone=zone)


def outcome(function: Any, row: dict[str, Any]) -> Any:
    try:
        return ("ok", function(row))
    except RowRefused as exc:
        return ("rejected", exc.reason)


def rows() -> list[dict[str, Any]]:
    base = {"id": 1, "name": "a", "score": 1.0, "ok": True, "at": None, "day": None}
    out = [dict(base, **{column: value}) for column, values in VALUES.items() for value in values]
    out.append({"name": "missing fields"})
    return out


@pytest.mark.parametrize("zone", [None, UTC, timezone(timedelta(hours=2))])
def test_row_function_matches_map_for_plain_columns(zone: Any) -> None:
    plain = mapper(zone)
    compiled = plain.row_function([identity] * len(plain.columns))
    for row in rows():
        assert outcome(compiled, row) == outcome(plain.map, row), row


def test_row_function_applies_the_adapters_after_mapping() -> None:
    plain = mapper(UTC)
    adapters = [(lambda v, i=i: None if v is None else (i, v)) for i in range(len(plain.columns))]
    compiled = plain.row_function(adapters)
    for row in rows():
        expected = outcome(plain.map, row)
        if expected[0] == "ok":
            expected = ("ok", tuple(a(v) for a, v in zip(adapters, expected[1], strict=True)))
        assert outcome(compiled, row) == expected, row


def test_row_function_keeps_transforms_warnings_and_skips() -> None:
    warnings: list[str] = []
    spec = {
        "columns": {
            "name": {"from": "name", "ops": ["trim", "upper"], "default": "none"},
            "score": {"from": "score", "on_error": "warn", "fallback": 0},
        },
        "skip_when_null": ["day"],
    }
    plain = mapper(UTC, **spec)
    plain.warn = lambda message, _key: warnings.append(message)
    compiled = plain.row_function([identity] * len(plain.columns))
    for row in rows():
        before = len(warnings)
        expected = outcome(plain.map, row)
        expected_warnings = warnings[before:]
        assert outcome(compiled, row) == expected, row
        assert warnings[before + len(expected_warnings) :] == expected_warnings


UTC_SPELLINGS = [
    "2023-01-20T18:04:39.644130+00:00",
    "2023-01-20 18:04:39.644130+00:00",
    "2023-01-20T18:04:39.644130Z",
    "2023-01-20T18:04:39.644130",
    "2023-01-20T18:04:39.644130-00:00",
    "2023-01-20T18:04:39.644130+02:00",
    "2023-01-20T18:04:39.644+00:00",
    "2023-01-20T18:04:39,644130+00:00",
    "2023-W03-5T18:04:39.644130+00:00",
    "2023-02-30T18:04:39.644130+00:00",
    "2023-01-20T24:00:00.000000+00:00",
    "2023-01-20T23:59:60.000000+00:00",
    "0999-01-20T18:04:39.644130+00:00",
    "2023-01-20T18:04:39.6441300+00:00",
    "2023-01-20T18:04:39.64413a+00:00",
    "2023-01-20T18:04:39.644130+00:00 ",
]


@pytest.mark.parametrize("zone", [None, timezone(timedelta(hours=2))])
def test_utc_text_adapter_copies_only_what_it_would_print_the_same(zone: Any) -> None:
    from ferry.values.drivervalues import SQLITE_ADAPTERS as _ADAPTERS

    adapt = _ADAPTERS["timestamp"]
    plain = mapper(zone)
    index = plain.columns.index("at")
    adapters = [adapt if name == "at" else identity for name in plain.columns]
    compiled = plain.row_function(adapters)
    for spelling in UTC_SPELLINGS:
        row = {"id": 1, "at": spelling}
        expected = outcome(plain.map, row)
        if expected[0] == "ok":
            expected = ("ok", expected[1][index] and adapt(expected[1][index]))
        got = outcome(compiled, row)
        assert (got[0], got[1][index] if got[0] == "ok" else got[1]) == expected, spelling
