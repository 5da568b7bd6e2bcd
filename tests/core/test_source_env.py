"""EnvSource: .env files parsed the way python-dotenv parses them, one row per setting."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import SourceTable, open_source
from ferry.sources import env as env_module
from ferry.sources.env import EnvSource


def source(tmp_path: Path, content: bytes, **spec: Any) -> EnvSource:
    (tmp_path / ".env").write_bytes(content)
    reader = open_source(SourceSpec(name="env", kind="env", path=".env", **spec), tmp_path)
    assert isinstance(reader, EnvSource)
    return reader


def rows(reader: EnvSource) -> list[Any]:
    return [row for b in reader.batches(100) for row in b.rows]


def error_of(reader: EnvSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        list(reader.batches(100))
    return caught.value


def test_each_setting_is_one_row(tmp_path: Path) -> None:
    reader = source(tmp_path, b"API_HOST=localhost\nAPI_PORT=8080\n")

    assert rows(reader) == [
        {"key": "API_HOST", "value": "localhost"},
        {"key": "API_PORT", "value": "8080"},
    ]


def test_comments_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    reader = source(tmp_path, b"# settings\n\nA=1  # inline comment\n")

    assert rows(reader) == [{"key": "A", "value": "1"}]


def test_export_prefix_is_dropped(tmp_path: Path) -> None:
    reader = source(tmp_path, b"export A=1\n")

    assert rows(reader) == [{"key": "A", "value": "1"}]


def test_quoted_values_keep_hashes_and_spaces(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=\"x # not a comment\"\nB='  spaced  '\n")

    assert rows(reader) == [
        {"key": "A", "value": "x # not a comment"},
        {"key": "B", "value": "  spaced  "},
    ]


def test_double_quotes_read_escapes_and_span_lines(tmp_path: Path) -> None:
    reader = source(tmp_path, b'A="line1\\nline2"\nB="multi\nline"\n')

    assert rows(reader) == [
        {"key": "A", "value": "line1\nline2"},
        {"key": "B", "value": "multi\nline"},
    ]


def test_empty_value_is_an_empty_string(tmp_path: Path) -> None:
    reader = source(tmp_path, b'A=\nB=""\n')

    assert rows(reader) == [{"key": "A", "value": ""}, {"key": "B", "value": ""}]


def test_name_without_equals_has_no_value(tmp_path: Path) -> None:
    reader = source(tmp_path, b"FLAG\n")

    assert rows(reader) == [{"key": "FLAG", "value": None}]


def test_references_are_not_expanded(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=1\nB=${A}/x\n")

    assert rows(reader)[1] == {"key": "B", "value": "${A}/x"}


def test_crlf_line_ends_are_read(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=1\r\nB=2\r\n")

    assert rows(reader) == [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}]


def test_repeated_name_keeps_the_last_value_in_its_first_place(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=1\nB=2\nA=3\n")

    assert rows(reader) == [{"key": "A", "value": "3"}, {"key": "B", "value": "2"}]


def test_bad_line_is_refused_with_its_number(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b"A=1\nB='unclosed\nC=3\n"))

    assert error.message == (
        f'{tmp_path / ".env"}: line 2 is not a KEY=value setting: "B=\'unclosed"'
    )
    assert error.hint


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    reader = source(tmp_path, b"\xef\xbb\xbfA=1\n")

    assert rows(reader) == [{"key": "A", "value": "1"}]


def test_encoding_from_the_spec_is_used(tmp_path: Path) -> None:
    reader = source(tmp_path, "CITY=Zürich\n".encode("cp1252"), encoding="cp1252")

    assert rows(reader) == [{"key": "CITY", "value": "Zürich"}]


def test_undecodable_bytes_are_refused_with_the_offset(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b"A=1\nCITY=Z\xfcrich\n"))

    assert error.message == f"{tmp_path / '.env'}: not utf-8 text (byte 10 cannot be decoded)"
    assert "encoding" in error.hint


def test_unknown_encoding_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, b"A=1\n", encoding="klingon"))

    assert error.message.endswith(".env: unknown encoding 'klingon'")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    reader = open_source(SourceSpec(name="env", kind="env", path="none.env"), tmp_path)

    with pytest.raises(SourceError) as caught:
        reader.describe()

    assert caught.value.message == f"{tmp_path / 'none.env'}: file not found"


def test_key_column_renames_the_key(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=1\n", key_column="name")

    assert rows(reader) == [{"name": "A", "value": "1"}]
    assert reader.describe()[0].key == ("name",)


def test_describe_gives_one_text_table_with_its_count(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=1\nB=2\n")

    assert reader.describe() == [
        SourceTable("env", {"key": "text", "value": "text"}, ("key",), None, 2, ".env")
    ]


def test_batches_hold_at_most_batch_size_rows(tmp_path: Path) -> None:
    reader = source(tmp_path, b"A=1\nB=2\nC=3\n")

    assert [len(b.rows) for b in reader.batches(2)] == [2, 1]


def test_files_is_the_env_file(tmp_path: Path) -> None:
    assert source(tmp_path, b"").files() == [tmp_path / ".env"]


def test_the_file_is_read_through_dotenvs_public_api_only() -> None:
    # dotenv_values, not dotenv.parser (an internal module): imports name `dotenv` alone.
    tree = ast.parse(Path(env_module.__file__ or "").read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert sorted(m for m in imported if m.startswith("dotenv")) == ["dotenv"]


def test_a_bad_line_is_refused_even_where_dotenvs_warnings_are_silenced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dotenv_logger = logging.getLogger("dotenv.main")
    dotenv_logger.setLevel(logging.CRITICAL)
    try:
        error = error_of(source(tmp_path, b"A=1\nB='unclosed\n"))
        assert dotenv_logger.level == logging.CRITICAL  # the app's setting is given back
    finally:
        dotenv_logger.setLevel(logging.NOTSET)
    assert error.message.endswith(': line 2 is not a KEY=value setting: "B=\'unclosed"')
    assert capsys.readouterr().err == ""  # dotenv's own warning is not printed
