"""SQLite's table options, ``STRICT`` and ``WITHOUT ROWID``, are named when a SQLite target's
table goes without them (found moving a ``STRICT`` settings table SQLite → SQLite: the
copy stored a value of any type without a word)."""

from __future__ import annotations

from pathlib import Path

from draftkit import draft, ferry

APP = """
CREATE TABLE settings (k TEXT PRIMARY KEY, v INTEGER) STRICT;
CREATE TABLE tags (name TEXT PRIMARY KEY, color TEXT) WITHOUT ROWID;
INSERT INTO settings VALUES ('n', 3);
INSERT INTO tags VALUES ('red', '#f00');
"""


def _check(tmp_path: Path) -> str:
    plan = draft(tmp_path, APP, f"sqlite:///{tmp_path / 'out.db'}")
    return " ".join(ferry("check", plan).output.split())


def test_strict_is_named(tmp_path: Path) -> None:
    assert "warn table settings: not carried to the target: STRICT: created with" in (
        _check(tmp_path)
    )


def test_without_rowid_is_named(tmp_path: Path) -> None:
    assert "warn table tags: not carried to the target: WITHOUT ROWID: created as a rowid" in (
        _check(tmp_path)
    )
