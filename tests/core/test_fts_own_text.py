"""A full-text index that keeps its own copy of its text (fts5 without ``content=``) comes
into a SQLite target with its rows, and the triggers that feed it come along (found moving a
Wagtail site's SQLite file into a new SQLite file: its database search backend keeps
``wagtailsearch_indexentry_fts`` so; left out, the moved site failed every page delete with
``no such table: wagtailsearch_indexentry_fts`` and its searches found nothing)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from draftkit import draft, ferry

SEARCH = """
CREATE TABLE "entry" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "object_id" varchar(50) NOT NULL, "title" text NOT NULL, "body" text NULL);
CREATE VIRTUAL TABLE entry_fts USING fts5(body, title);
CREATE TRIGGER insert_entry_fts AFTER INSERT ON entry
  BEGIN INSERT INTO entry_fts(title, body, rowid) VALUES (NEW.title, NEW.body, NEW.id); END;
CREATE TRIGGER delete_entry_fts AFTER DELETE ON entry
  BEGIN DELETE FROM entry_fts WHERE rowid=OLD.id; END;
INSERT INTO entry (object_id, title, body) VALUES ('3', 'Harbour', 'the ferry story'),
  ('4', 'Timetable', 'boats at noon');
DELETE FROM entry WHERE id = 1;
INSERT INTO entry (object_id, title, body) VALUES ('3', 'Harbour', 'the ferry story');
"""


def _moved(tmp_path: Path) -> Path:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, SEARCH, f"sqlite:///{target}")
    result = ferry("migrate", "--no-backup", plan)
    assert result.exit_code == 0, result.output
    return target


def _search(target: Path, word: str) -> list[tuple[int]]:
    with sqlite3.connect(target) as conn:
        found = conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?", (word,))
        rows = found.fetchall()
    conn.close()
    return rows


def test_an_index_with_its_own_text_comes_with_its_rows_and_rowids(tmp_path: Path) -> None:
    assert _search(_moved(tmp_path), "ferry") == [(3,)]


def test_its_triggers_keep_it_current_after_the_move(tmp_path: Path) -> None:
    target = _moved(tmp_path)
    with sqlite3.connect(target) as conn:
        conn.execute("INSERT INTO entry (object_id, title, body) VALUES ('5', 'New', 'ferry')")
        conn.execute("DELETE FROM entry WHERE id = 3")
    conn.close()
    assert _search(target, "ferry") == [(4,)]


def test_the_report_says_how_many_rows_it_copied(tmp_path: Path) -> None:
    plan = draft(tmp_path, SEARCH, f"sqlite:///{tmp_path / 'out.db'}")
    result = ferry("migrate", "--no-backup", "--json", plan)
    found = [o for o in json.loads(result.output)["schema_objects"] if o["name"] == "entry_fts"]
    assert (found[0]["status"], found[0]["detail"]) == (
        "carried",
        "a SQLite full-text index (fts5) that keeps its own copy of its text: its 2 rows copied "
        "with their rowids",
    )


def test_a_contentless_index_is_named_not_carried(tmp_path: Path) -> None:
    schema = """CREATE TABLE entry (id INTEGER PRIMARY KEY, body TEXT);
    CREATE VIRTUAL TABLE entry_fts USING fts5(body, content='');
    INSERT INTO entry_fts (rowid, body) VALUES (1, 'ferry');"""
    check = " ".join(ferry("check", draft(tmp_path, schema, "sqlite:///out.db")).output.split())
    assert "warn virtual table entry_fts: not carried" in check


def test_a_rerun_copies_no_row_twice(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, SEARCH, f"sqlite:///{target}")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    assert _search(target, "ferry") == [(3,)]
