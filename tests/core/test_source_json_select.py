"""JSON sources with ``select`` and ``unwrap``: one kind of record out of a mixed array, its
nested object's fields lifted into the row (real files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import open_source

MIXED: list[dict[str, Any]] = [
    {"model": "app.tag", "pk": 7, "fields": {"label": "red"}},
    {"model": "app.note", "pk": 1, "fields": {"text": "hi", "tag": 7}},
    {"model": "app.tag", "pk": 8, "fields": {"label": "blue"}},
    {"model": "app.note", "pk": 2, "fields": {"text": "yo", "tag": None}},
]


def _rows(tmp_path: Path, records: list[Any], kind: str = "json", **options: Any) -> list[Any]:
    name = "data.jsonl" if kind == "jsonl" else "data.json"
    text = "\n".join(map(json.dumps, records)) if kind == "jsonl" else json.dumps(records)
    (tmp_path / name).write_text(text, encoding="utf-8")
    spec = SourceSpec(name="notes", kind=kind, path=name, **options)  # type: ignore[arg-type]
    reader = open_source(spec, tmp_path)
    try:
        return [row for batch in reader.batches(1) for row in batch.rows]
    finally:
        reader.close()


PICK = {"select": {"model": "app.note"}, "unwrap": "fields", "key_column": "pk"}


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_select_keeps_its_kind_and_unwrap_lifts_the_fields(tmp_path: Path, kind: str) -> None:
    rows = _rows(tmp_path, MIXED, kind, **PICK)

    assert rows == [{"pk": 1, "text": "hi", "tag": 7}, {"pk": 2, "text": "yo", "tag": None}]


def test_a_sample_counts_the_selected_records(tmp_path: Path) -> None:
    records = [{"model": "app.tag", "pk": n, "fields": {"label": "x"}} for n in range(150)]
    (tmp_path / "data.json").write_text(json.dumps([*records, *MIXED]), encoding="utf-8")
    spec = SourceSpec(name="notes", kind="json", path="data.json", **PICK)
    reader = open_source(spec, tmp_path)
    try:
        [table] = reader.describe()
    finally:
        reader.close()

    assert table.columns == {"pk": "integer", "text": "text", "tag": "integer"}


def test_a_field_clash_names_the_file_record_and_field(tmp_path: Path) -> None:
    records = [*MIXED, {"model": "app.note", "pk": 3, "fields": {"pk": 4, "text": "x"}}]

    with pytest.raises(SourceError) as raised:
        _rows(tmp_path, records, **PICK)

    assert raised.value.message == (
        f"{tmp_path / 'data.json'}: $[4]: field 'pk' of 'fields' clashes with the record's own 'pk'"
    )


def test_select_on_a_settings_map_is_refused_by_the_plan() -> None:
    with pytest.raises(ValidationError, match="read an array of records, not shape 'kv'"):
        SourceSpec(name="s", kind="json", path="s.json", shape="kv", select={"model": "a.b"})


def test_a_selecting_source_is_not_read_line_by_line(tmp_path: Path) -> None:
    # the line paths (delta by line, worker processes) assume one row per record line
    text = "[\n" + ",\n".join(map(json.dumps, MIXED)) + "\n]\n"
    (tmp_path / "data.json").write_text(text, encoding="utf-8")
    plain = open_source(SourceSpec(name="all", kind="json", path="data.json"), tmp_path)
    picking = open_source(SourceSpec(name="notes", kind="json", path="data.json", **PICK), tmp_path)

    assert (plain.line_records(), picking.line_records()) == (True, False)  # type: ignore[attr-defined]
