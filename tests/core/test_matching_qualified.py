"""Fields that are one word of a longer column name (ferry.scan.matching.match_fields)."""

from __future__ import annotations

from ferry.scan.matching import FieldMatch, match_fields


def test_a_field_meets_the_one_column_its_name_qualifies() -> None:
    found = match_fields(
        ["step_name", "error", "details"], ["step_name", "error_message", "step_metadata"]
    )
    assert found == {
        "step_name": FieldMatch("step_name", "same name"),
        "error": FieldMatch("error_message", "qualified name"),
        "details": FieldMatch("step_metadata", "qualified name"),
    }


def test_two_qualified_columns_or_a_json_or_id_column_match_nothing() -> None:
    assert match_fields(["error", "analysis", "user"], [
        "error_message", "error_code", "analysis_json", "user_id",
    ]) == {}  # fmt: skip
