"""The triggers that keep a full-text index current come along into a SQLite target and fire
on a sync's writes too (found moving a sqlite-utils blog made with
``enable_fts(..., create_triggers=True)`` into a SQLite file: the index was rebuilt once, then
a sync's new and changed posts were missing from every search); the app's other triggers come
along set aside while Ferry writes (:mod:`ferry.shape.apptriggers`); a PostgreSQL target
names them not carried."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from draftkit import draft, ferry

BLOG = """
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY, post_id INTEGER, what TEXT);
INSERT INTO posts VALUES (1, 'Ferry über alles', 'moving state'), (2, 'Other', 'nothing');
CREATE VIRTUAL TABLE [posts_fts] USING FTS5 ([title], [body], content=[posts]);
INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
CREATE TRIGGER [posts_ai] AFTER INSERT ON [posts] BEGIN
  INSERT INTO [posts_fts] (rowid, [title], [body]) VALUES (new.rowid, new.[title], new.[body]);
END;
CREATE TRIGGER [posts_ad] AFTER DELETE ON [posts] BEGIN
  INSERT INTO [posts_fts] ([posts_fts], rowid, [title], [body])
    VALUES('delete', old.rowid, old.[title], old.[body]);
END;
CREATE TRIGGER [posts_au] AFTER UPDATE ON [posts] BEGIN
  INSERT INTO [posts_fts] ([posts_fts], rowid, [title], [body])
    VALUES('delete', old.rowid, old.[title], old.[body]);
  INSERT INTO [posts_fts] (rowid, [title], [body]) VALUES (new.rowid, new.[title], new.[body]);
END;
CREATE TRIGGER posts_audit AFTER UPDATE ON posts BEGIN
  INSERT INTO audit (post_id, what) VALUES (new.id, 'updated');
END;
"""


def _matches(target: Path, query: str) -> list[int]:
    with sqlite3.connect(target) as conn:
        conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")
        found = conn.execute(
            "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? ORDER BY rowid", (query,)
        ).fetchall()
    conn.close()
    return [row[0] for row in found]


def _write_source(tmp_path: Path, sql: str) -> None:
    with sqlite3.connect(tmp_path / "app" / "blog.db") as conn:
        conn.executescript(sql)
    conn.close()


def test_a_sync_keeps_the_index_current(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, BLOG, f"sqlite:///{target}", file="blog.db")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    _write_source(
        tmp_path,
        "INSERT INTO posts VALUES (3, 'New', 'zebra stripes');"
        "UPDATE posts SET body = 'giraffe' WHERE id = 2;",
    )
    result = ferry("migrate", "--no-backup", plan)
    assert result.exit_code == 0, result.output
    assert _matches(target, "zebra OR giraffe OR nothing") == [2, 3]


def test_the_apps_own_inserts_reach_the_index(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, BLOG, f"sqlite:///{target}", file="blog.db")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    with sqlite3.connect(target) as conn:
        conn.execute("INSERT INTO posts (title, body) VALUES ('After', 'the switch')")
    conn.close()
    assert _matches(target, "switch OR über") == [1, 3]


def test_a_trigger_writing_to_a_table_is_carried_and_set_aside(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, BLOG, f"sqlite:///{target}", file="blog.db")
    result = ferry("migrate", "--no-backup", "--json", plan)
    assert result.exit_code == 0, result.output
    (audit,) = [
        o for o in json.loads(result.output)["schema_objects"] if o["name"] == "posts_audit"
    ]
    assert (audit["status"], audit["detail"]) == (
        "carried",
        "created after the rows are in; set aside while Ferry writes",
    )
    with sqlite3.connect(target) as conn:
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert sorted(row[0] for row in triggers) == [
            "posts_ad",
            "posts_ai",
            "posts_au",
            "posts_audit",
        ]
    conn.close()


def test_a_rerun_names_the_index_and_triggers_as_in_the_target(tmp_path: Path) -> None:
    plan = draft(tmp_path, BLOG, f"sqlite:///{tmp_path / 'out.db'}", file="blog.db")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    rerun = ferry("migrate", "--no-backup", "--json", plan)
    assert rerun.exit_code == 0, rerun.output
    found = {
        (o["name"], o["status"], o["detail"])
        for o in json.loads(rerun.output)["schema_objects"]
        if o["name"] != "posts_audit" and o["name"].startswith("posts_")
    }
    assert found == {
        (name, "carried", "in the target already")
        for name in ("posts_fts", "posts_ai", "posts_ad", "posts_au")
    }


def test_a_postgres_target_names_the_index_triggers_not_carried(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, BLOG, pg_url, file="blog.db")
    check = " ".join(ferry("check", plan).output.split())
    assert (
        "warn trigger posts_ai: not carried: it keeps the full-text index posts_fts current from "
        "the rows of posts, and PostgreSQL does not get that index" in check
    )
