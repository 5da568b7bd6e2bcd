"""The C-speed pass over a JSON array laid out one record per line (ferry.load.linescan):
it finds exactly the records a JSON parser finds, whatever the block boundaries, and refuses
a file that is not one record per line.

Real files; the block size is made small so that lines and brackets fall across blocks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferry.load import linescan
from ferry.load.linescan import (
    NotLines,
    line_print,
    record_line_blocks,
    record_text,
    signed_prints,
)

RECORDS = [{"id": i, "name": f"name {i}", "tags": [i, {"k": "}"}]} for i in range(1, 41)]
LINES = [json.dumps(r) for r in RECORDS]

LAYOUTS = {
    "trailing commas": "[\n" + ",\n".join(LINES) + "\n]\n",
    "leading commas": "[\n" + "\n,".join(LINES) + "\n]",
    "brackets on record lines": "[" + ",\n".join(LINES) + "]",
    "CRLF": "[\r\n" + ",\r\n".join(LINES) + "\r\n]\r\n",
    "blank lines and spaces": "\n [ \n\n" + " ,\n\n".join(f"  {x}" for x in LINES) + "\n\n ]\n\n",
    "comma apart from the brace": "[\n" + "\n, ".join(LINES) + "\n]\n",
    "a byte-order mark": "\ufeff[\n" + ",\n".join(LINES) + "\n]\n",
}


def scanned(path: Path) -> list[bytes]:
    return [line for block in record_line_blocks(path) for line in block]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("block", [64, 1000, 1 << 20])
def test_record_lines_are_the_records_json_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str, block: int
) -> None:
    monkeypatch.setattr(linescan, "BLOCK_BYTES", block)
    path = tmp_path / "rec.json"
    path.write_bytes(LAYOUTS[layout].encode("utf-8"))
    lines = scanned(path)
    assert [json.loads(record_text(line)) for line in lines] == json.loads(
        path.read_text("utf-8-sig")
    )


NOT_LINES = {
    "two records without a comma": "[\n" + "\n".join(LINES) + "\n]\n",
    "two commas between records": "[\n" + ",\n,".join(LINES) + "\n]\n",
    "a comma after the last record": "[\n" + ",\n".join(LINES) + ",\n]\n",
    "a record over several lines": "[\n"
    + ",\n".join(LINES[:30])
    + ",\n"
    + json.dumps(RECORDS[30], indent=1)
    + "\n]\n",
    "text after the array": "[\n" + ",\n".join(LINES) + "\n]\n{}\n",
    "no closing bracket": "[\n" + ",\n".join(LINES) + "\n",
    "not an array": "\n".join(LINES) + "\n",
    "a comma alone on a line": "[\n" + "\n,\n".join(LINES) + "\n]\n",
    # edges as records have them, but a leading comma or a trailing one not by a brace
    "a record split after a leading comma": "[\n"
    + "\n,".join(LINES)
    + '\n,{"id": 99, "x": {"a": 1}\n, "b": 2}\n]\n',
    "a record split after a trailing comma": "[\n"
    + ",\n".join(LINES)
    + ',\n{"id": 99, "x": 1,\n{"y": 2}}\n]\n',
}


@pytest.mark.parametrize("layout", sorted(NOT_LINES))
@pytest.mark.parametrize("block", [64, 1 << 20])
def test_a_file_not_one_record_per_line_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str, block: int
) -> None:
    monkeypatch.setattr(linescan, "BLOCK_BYTES", block)
    path = tmp_path / "rec.json"
    path.write_text(NOT_LINES[layout])
    with pytest.raises(NotLines):
        scanned(path)


def test_an_edit_of_one_byte_changes_the_line_print() -> None:
    line = b',{"id": 7, "size": 11}'
    assert line_print(line) == line_print(bytes(line))
    assert line_print(line) != line_print(line.replace(b"11", b"12"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=30))
def test_the_prints_of_a_block_are_each_line_print(lines: list[bytes]) -> None:
    assert list(signed_prints(lines)) == [line_print(line) for line in lines]
