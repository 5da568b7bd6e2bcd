"""Table names ``ferry init`` drafts for a database source (issue 17 item 6): a table keeps
its own name, foreign key or not; only a nested JSON list's child table is named after its
parent source; a name taken twice is made unique with a note saying so."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from ferry.scan.folder import scan_folder


def test_tables_with_a_foreign_key_keep_their_own_names(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    db.executescript(
        "CREATE TABLE Genre (GenreId INTEGER PRIMARY KEY, Name TEXT);"
        "CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, GenreId INTEGER REFERENCES Genre);"
    )
    db.close()
    plan = scan_folder(tmp_path, "sqlite:///target.db").plan
    assert [(t.name, t.source) for t in plan.tables] == [
        ("genre", "app.Genre"),
        ("track", "app.Track"),
    ]


def test_nested_json_children_keep_the_parent_prefix(tmp_path: Path) -> None:
    (tmp_path / "jobs.json").write_text(json.dumps([{"id": 1, "steps": [{"n": 1}]}]))
    plan = scan_folder(tmp_path, "sqlite:///target.db").plan
    assert [t.name for t in plan.tables] == ["jobs", "jobs_steps"]


def test_a_name_taken_twice_is_made_unique_with_a_note(tmp_path: Path) -> None:
    for name in ("a.db", "b.db"):
        db = sqlite3.connect(tmp_path / name)
        db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
        db.close()
    plan = scan_folder(tmp_path, "sqlite:///target.db").plan
    # a second database's table is named after it (a Chromium profile's fourteen meta tables)
    assert [(t.name, t.source) for t in plan.tables] == [("item", "a.item"), ("b_item", "b.item")]
    assert plan.tables[1].notes == [
        "named b_item, not item: another table of the plan is already called item"
    ]
