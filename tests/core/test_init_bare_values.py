"""``ferry init`` reads a file with no extension that holds one value (``VERSION`` holding
``1.4.2``, ``last_run`` holding a time) as a one-value source, as a ``*.txt`` one: before, only
``*.txt`` files were, and such a file was skipped as "not a kind of file Ferry reads". A
binary, several lines, a line of prose or a process id file stays skipped, with its reason.
Real files, the real CLI."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from draftkit import ferry


def _drafted(tmp_path: Path, files: dict[str, bytes]) -> tuple[dict[str, Any], str]:
    """The draft of a folder holding ``files`` and a settings file, and its header."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "settings.json").write_text('{"theme": "dark"}', encoding="utf-8")
    for name, content in files.items():
        (folder / name).write_bytes(content)
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "-o", plan)
    assert result.exit_code == 0, result.output
    text = plan.read_text(encoding="utf-8")
    return tomllib.loads(text), " ".join(text.split("\n\n", 1)[0].split())


def test_a_version_file_is_drafted_as_a_one_value_source(tmp_path: Path) -> None:
    drafted, _ = _drafted(tmp_path, {"VERSION": b"1.4.2\n"})
    assert {"name": "version", "kind": "text", "path": "app/VERSION"} in drafted["sources"]
    assert [t["name"] for t in drafted["tables"] if t["source"] == "version"] == ["version"]


def test_a_time_with_a_space_is_one_value(tmp_path: Path) -> None:
    drafted, _ = _drafted(tmp_path, {"last_run": b"2024-05-01 10:00:00\n"})
    assert {"name": "last_run", "kind": "text", "path": "app/last_run"} in drafted["sources"]


def test_a_binary_file_without_extension_is_not_read(tmp_path: Path) -> None:
    drafted, header = _drafted(tmp_path, {"blob": b"\x00\x01\x02\xff"})
    assert [s["name"] for s in drafted["sources"]] == ["settings"]
    assert "skipped blob: not a kind of file Ferry reads" in header


def test_a_file_of_several_lines_without_extension_is_not_read(tmp_path: Path) -> None:
    drafted, header = _drafted(tmp_path, {"LICENSE": b"MIT License\n\nCopyright 2024\n"})
    assert [s["name"] for s in drafted["sources"]] == ["settings"]
    assert "skipped LICENSE: not a kind of file Ferry reads" in header


def test_a_line_of_prose_is_not_one_value(tmp_path: Path) -> None:
    # a Trac environment's VERSION: Trac's banner, not the app's state
    drafted, header = _drafted(tmp_path, {"VERSION": b"Trac Environment Version 1\n"})
    assert [s["name"] for s in drafted["sources"]] == ["settings"]
    assert "skipped VERSION: one line of text, not one value" in header


def test_a_process_id_file_is_runtime_state(tmp_path: Path) -> None:
    drafted, header = _drafted(tmp_path, {"pid": b"4242\n"})
    assert [s["name"] for s in drafted["sources"]] == ["settings"]
    assert "skipped pid: a process id or lock file: runtime state" in header
