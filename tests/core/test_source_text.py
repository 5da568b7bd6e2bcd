"""TextSource: a file, folder or glob of one-value files, one row per file."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import SourceTable, open_source
from ferry.sources.text import TextSource

HEARTBEAT = r"heartbeat_(?P<key>.+)\.txt"
MTIME = datetime(2025, 11, 13, 8, 15, 2, tzinfo=UTC)


def write(folder: Path, name: str, content: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))
    return path


def source(base: Path, path: str, **spec: Any) -> TextSource:
    reader = open_source(SourceSpec(name="heartbeat", kind="text", path=path, **spec), base)
    assert isinstance(reader, TextSource)
    return reader


def rows(reader: TextSource) -> list[Any]:
    return [row for b in reader.batches(100) for row in b.rows]


def error_of(reader: TextSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        list(reader.batches(100))
    return caught.value


def test_glob_with_key_pattern_gives_one_row_per_file(tmp_path: Path) -> None:
    write(tmp_path, "heartbeat_polling.txt", "1763021702\n")
    write(tmp_path, "heartbeat_manual.txt", "  2025-11-13T08:15:02Z \n")

    reader = source(tmp_path, "heartbeat_*.txt", key_pattern=HEARTBEAT)

    assert rows(reader) == [
        {
            "key": "manual",
            "value": "2025-11-13T08:15:02Z",
            "file": "heartbeat_manual.txt",
            "modified_at": MTIME,
        },
        {
            "key": "polling",
            "value": "1763021702",
            "file": "heartbeat_polling.txt",
            "modified_at": MTIME,
        },
    ]


def test_modified_at_is_aware_utc(tmp_path: Path) -> None:
    write(tmp_path, "last_run.txt", "x")

    moment = rows(source(tmp_path, "last_run.txt"))[0]["modified_at"]

    assert moment.tzinfo is UTC


def test_without_key_pattern_the_key_is_the_stem(tmp_path: Path) -> None:
    write(tmp_path, "last_run.txt", "2025-01-01")

    assert rows(source(tmp_path, "last_run.txt"))[0]["key"] == "last_run"


def test_files_the_pattern_does_not_match_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "state/heartbeat_a.txt", "1")
    write(tmp_path, "state/notes.txt", "2")

    reader = source(tmp_path, "state", key_pattern=HEARTBEAT)

    assert [r["key"] for r in rows(reader)] == ["a"]
    assert reader.files() == [tmp_path / "state" / "heartbeat_a.txt"]


def test_folder_reads_its_visible_files(tmp_path: Path) -> None:
    write(tmp_path, "state/a.txt", "1")
    write(tmp_path, "state/b.txt", "2")
    write(tmp_path, "state/.DS_Store", "junk")
    write(tmp_path, "state/sub/c.txt", "3")

    assert [r["key"] for r in rows(source(tmp_path, "state"))] == ["a", "b"]


def test_no_matching_files_is_refused_naming_the_glob(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, "heartbeat_*.txt"))

    assert error.message == f"no files match {tmp_path / 'heartbeat_*.txt'}"
    assert "relative to the plan's folder" in error.hint


def test_missing_single_file_is_refused(tmp_path: Path) -> None:
    error = error_of(source(tmp_path, "gone.txt"))

    assert error.message == f"no files match {tmp_path / 'gone.txt'}"


def test_undecodable_file_is_refused_naming_it(tmp_path: Path) -> None:
    write(tmp_path, "bad.txt", b"caf\xe9")

    error = error_of(source(tmp_path, "*.txt"))

    assert error.message == f"{tmp_path / 'bad.txt'}: not utf-8 text (byte 3 cannot be decoded)"


def test_encoding_from_the_spec_is_used(tmp_path: Path) -> None:
    write(tmp_path, "city.txt", "Zürich".encode("latin-1"))

    assert rows(source(tmp_path, "city.txt", encoding="latin-1"))[0]["value"] == "Zürich"


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", b"\xef\xbb\xbf42")

    assert rows(source(tmp_path, "a.txt"))[0]["value"] == "42"


def test_two_files_giving_one_key_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "1")
    write(tmp_path, "a.log", "2")

    error = error_of(source(tmp_path, "a.*"))

    assert error.message == f"{tmp_path / 'a.log'} and {tmp_path / 'a.txt'} both give the key 'a'"


def test_invalid_key_pattern_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        source(tmp_path, "*.txt", key_pattern="(?P<key>")

    assert "is not a valid regular expression" in caught.value.message


def test_key_pattern_without_a_key_group_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        source(tmp_path, "*.txt", key_pattern=r"heartbeat_(.+)\.txt")

    assert caught.value.message == (
        r"source 'heartbeat': key_pattern 'heartbeat_(.+)\\.txt' has no 'key' group"
    )


def test_describe_types_the_values_and_counts_the_files(tmp_path: Path) -> None:
    write(tmp_path, "heartbeat_a.txt", "2025-11-13T08:15:02Z")
    write(tmp_path, "heartbeat_b.txt", "2025-11-14T08:15:02Z")

    tables = source(tmp_path, "heartbeat_*.txt", key_pattern=HEARTBEAT).describe()

    assert tables == [
        SourceTable(
            "heartbeat",
            {"key": "text", "value": "timestamp", "file": "text", "modified_at": "timestamp"},
            ("key",),
            None,
            2,
            "heartbeat_*.txt",
        )
    ]


def test_batches_hold_at_most_batch_size_rows(tmp_path: Path) -> None:
    for name in "abc":
        write(tmp_path, f"{name}.txt", name)

    assert [len(b.rows) for b in source(tmp_path, "*.txt").batches(2)] == [2, 1]


def test_absolute_glob_is_read(tmp_path: Path) -> None:
    write(tmp_path, "data/a.txt", "1")

    reader = source(tmp_path / "elsewhere", str(tmp_path / "data" / "*.txt"))

    assert reader.files() == [tmp_path / "data" / "a.txt"]


def test_glob_in_a_folder_whose_name_has_brackets(tmp_path: Path) -> None:
    base = tmp_path / "plans [v2]"
    write(base, "a.txt", "1")

    assert source(base, "*.txt").files() == [base / "a.txt"]
