"""JSON with comments and trailing commas (VS Code's settings.json, JSONC). Found drafting an
app's state folder: ``ferry init`` left such a file "not read: not valid JSON at line 2" and
nothing of it was migrated. Now it is drafted ``comments = true`` and read as the JSON it means.
Real files, the real CLI, SQLite targets."""

from __future__ import annotations

import asyncio
import sqlite3
import tomllib
from pathlib import Path

import pytest
from draftkit import ferry
from pydantic import ValidationError

from ferry.errors import SourceError
from ferry.migrate import migrate
from ferry.plan import SourceSpec, plan_from_dict

SETTINGS = """{
  // editor settings
  "theme": "dark",
  "fontSize": 14, /* px */
  "recent": ["a.txt", "b.txt",],
}
"""


def _folder(tmp_path: Path, text: str = SETTINGS) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "settings.json").write_text(text, encoding="utf-8")
    return folder


def _rows(db: Path) -> list[tuple[str, object]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, value FROM settings ORDER BY key").fetchall()
    conn.close()
    return rows


def test_init_drafts_a_commented_file_with_comments(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    assert ferry("init", _folder(tmp_path), "-o", plan).exit_code == 0

    (source,) = tomllib.loads(plan.read_text(encoding="utf-8"))["sources"]

    assert source["comments"] is True and source["path"].endswith("settings.json")


def test_its_values_are_migrated(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    assert ferry("init", _folder(tmp_path), "-o", plan).exit_code == 0

    assert ferry("migrate", plan).exit_code == 0

    assert _rows(tmp_path / "ferry.db") == [
        ("fontSize", 14),
        ("recent", '["a.txt","b.txt"]'),
        ("theme", '"dark"'),
    ]


def test_a_change_to_the_file_is_carried_by_the_next_run(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "-o", plan).exit_code == 0
    assert ferry("migrate", plan).exit_code == 0
    (folder / "settings.json").write_text(SETTINGS.replace("14", "16"), encoding="utf-8")

    assert ferry("migrate", plan).exit_code == 0

    assert ("fontSize", 16) in _rows(tmp_path / "ferry.db")


def _run(tmp_path: Path, text: str) -> None:
    _folder(tmp_path, text)
    plan = plan_from_dict(
        {
            "name": "s",
            "target": {"url": f"sqlite:///{tmp_path / 'out.db'}"},
            "sources": [
                {"name": "settings", "kind": "json", "path": "app/settings.json", "comments": True}
            ],
            "tables": [{"name": "settings", "source": "settings", "key": ["key"]}],
        },
        tmp_path,
    )
    asyncio.run(migrate(plan, write_reports=False))


def test_a_nan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="NaN is not a number a database column holds"):
        _run(tmp_path, '{"a": NaN, // c\n}')


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match='Duplicate key "a"'):
        _run(tmp_path, '{"a": 1, // c\n "a": 2}')


def test_a_broken_file_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not JSON even with comments allowed: line 3"):
        _run(tmp_path, '{\n "a": 1 // c\n "b": 2}')


def test_comments_are_for_json_sources_only() -> None:
    with pytest.raises(ValidationError, match="'comments' is for json sources"):
        SourceSpec(name="e", kind="env", path=".env", comments=True)


def test_a_commented_file_found_by_its_content_is_drafted_too(tmp_path: Path) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    # JupyterLab keeps its user settings so: JSON5 with comments, no .json name
    (folder / "themes.jupyterlab-settings").write_text(SETTINGS, encoding="utf-8")
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "-o", plan).exit_code == 0

    (source,) = tomllib.loads(plan.read_text(encoding="utf-8"))["sources"]

    assert source["comments"] is True and source["path"].endswith("themes.jupyterlab-settings")
