"""JsonLinesSource: one object per line, nested lists as child tables, bad lines by number."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import ParentLink, SourceTable, open_source
from ferry.sources.json import JsonLinesSource


def source(tmp_path: Path, content: bytes, **spec: Any) -> JsonLinesSource:
    (tmp_path / "events.jsonl").write_bytes(content)
    reader = open_source(
        SourceSpec(name="events", kind="jsonl", path="events.jsonl", **spec), tmp_path
    )
    assert isinstance(reader, JsonLinesSource)
    return reader


def rows(reader: JsonLinesSource, table: str = "events") -> list[Any]:
    return [row for b in reader.batches(100) if b.table == table for row in b.rows]


def error_of(reader: JsonLinesSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        list(reader.batches(100))
    return caught.value


def test_each_line_is_one_row(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"id": 1, "msg": "a"}\n{"id": 2, "msg": "b"}\n')

    assert rows(reader) == [{"id": 1, "msg": "a"}, {"id": 2, "msg": "b"}]


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    reader = source(tmp_path, b'\n{"id": 1}\n   \n\n{"id": 2}\n\n')

    assert rows(reader) == [{"id": 1}, {"id": 2}]


def test_crlf_line_ends_are_read(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"id": 1}\r\n{"id": 2}\r\n')

    assert rows(reader) == [{"id": 1}, {"id": 2}]


def test_last_line_without_newline_is_read(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"id": 1}\n{"id": 2}')

    assert rows(reader) == [{"id": 1}, {"id": 2}]


def test_records_without_id_are_numbered_from_zero(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"msg": "a"}\n\n{"msg": "b"}\n')

    assert rows(reader) == [{"position": 0, "msg": "a"}, {"position": 1, "msg": "b"}]
    assert reader.describe()[0].key == ("position",)


def test_list_of_objects_becomes_a_child_table(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"id": "e1", "tags": [{"t": "x"}, {"t": "y"}]}\n')

    assert rows(reader) == [{"id": "e1"}]
    assert rows(reader, "events.tags") == [
        {"events_id": "e1", "position": 0, "t": "x"},
        {"events_id": "e1", "position": 1, "t": "y"},
    ]


def test_describe_lists_columns_and_child_tables(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"id": 1, "ts": "2025-01-01T00:00:00Z", "tags": [{"t": "x"}]}\n')

    assert reader.describe() == [
        SourceTable(
            "events", {"id": "integer", "ts": "timestamp"}, ("id",), None, None, "events.jsonl"
        ),
        SourceTable(
            "events.tags",
            {"events_id": "integer", "position": "integer", "t": "text"},
            ("events_id", "position"),
            ParentLink("events", ("events_id",), ("id",)),
            None,
            "events.jsonl",
        ),
    ]


def test_flatten_applies_to_lines_too(tmp_path: Path) -> None:
    reader = source(tmp_path, b'{"id": 1, "meta": {"a": 2}}\n', nested_objects="flatten")

    assert rows(reader) == [{"id": 1, "meta_a": 2}]


def test_scan_counts_every_line(tmp_path: Path) -> None:
    content = b"".join(b'{"id": %d}\n' % i for i in range(250))

    tables = source(tmp_path, content).scan(batch_size=100)

    assert [(t.name, t.row_estimate) for t in tables] == [("events", 250)]


def test_empty_file_has_no_rows(tmp_path: Path) -> None:
    reader = source(tmp_path, b"")

    assert rows(reader) == []
    assert reader.describe() == [SourceTable("events", {}, (), None, None, "events.jsonl")]


def test_utf8_bom_on_the_first_line_is_accepted(tmp_path: Path) -> None:
    reader = source(tmp_path, b'\xef\xbb\xbf{"id": 1}\n')

    assert rows(reader) == [{"id": 1}]


def test_bad_line_is_refused_with_its_number_and_column(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"id": 1}\n\n{"id": 2,}\n'))

    assert error.message == (
        f"{tmp_path / 'events.jsonl'}: line 3, column 10: not valid JSON "
        "(Expecting property name enclosed in double quotes)"
    )
    assert error.hint


def test_line_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"id": 1}\n[1, 2]\n'))

    assert error.message.endswith("events.jsonl: line 2 is an array, not an object")


def test_duplicate_key_is_refused_with_the_line(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"id": 1}\n{"id": 2, "id": 3}\n'))

    assert error.message.endswith("events.jsonl: line 2: duplicate key 'id'")


def test_nan_is_refused_with_line_and_column(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"id": 1}\n{"v": NaN}\n'))

    assert error.message.endswith("events.jsonl: NaN at line 2, column 7 is not valid JSON")
    assert "null" in error.hint


def test_non_utf8_line_is_refused_with_the_byte_offset(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"id": 1}\n{"v": "\xff"}\n'))

    assert error.message.endswith("line 2: not UTF-8 text (byte 17 cannot be decoded)")


def test_deeply_nested_line_is_a_source_error(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b'{"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"))

    assert error.message.endswith("line 1: nested deeper than 512 levels")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    reader = open_source(SourceSpec(name="e", kind="jsonl", path="gone.jsonl"), tmp_path)

    with pytest.raises(SourceError) as caught:
        reader.describe()

    assert caught.value.message == f"{tmp_path / 'gone.jsonl'}: file not found"


def test_files_is_the_jsonl_file(tmp_path: Path) -> None:
    assert source(tmp_path, b"").files() == [tmp_path / "events.jsonl"]
