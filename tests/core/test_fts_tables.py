"""A SQLite full-text index (a virtual table and the shadow tables its module keeps) is not
app data: ``ferry init`` leaves it out of the draft and says so, a SQLite target gets it made
again and rebuilt from its content table, a PostgreSQL target names it as not carried (found
drafting a sqlite-utils database with ``enable_fts``: the draft copied the index's five
tables, its binary pages included, into PostgreSQL as tables of data)."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

from draftkit import draft, ferry

BLOG = """
CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
INSERT INTO posts VALUES (1, 'Ferry über alles', 'moving state'), (2, 'Other', 'nothing');
CREATE VIRTUAL TABLE posts_fts USING fts5 (title, body, content="posts", content_rowid="id");
INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');
"""


def test_init_leaves_the_index_and_its_shadow_tables_out(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, BLOG, pg_url, file="blog.db")
    assert [t["name"] for t in tomllib.loads(plan.read_text())["tables"]] == ["posts"]
    header = plan.read_text().split("version =")[0]
    assert "left out blog.posts_fts: a SQLite full-text index (fts5 over posts)" in header
    for shadow in ("config", "data", "docsize", "idx"):
        assert f"left out blog.posts_fts_{shadow}: where SQLite keeps the index" in header


def test_a_postgres_target_names_the_index_as_not_carried(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, BLOG, pg_url, file="blog.db")
    check = ferry("check", plan)
    assert check.exit_code == 0, check.output
    assert (
        "warn virtual table posts_fts: not carried: a SQLite full-text index (fts5 over posts); "
        "PostgreSQL's full-text search is to_tsvector with a GIN index"
    ) in " ".join(check.output.split())


def test_a_sqlite_target_gets_the_index_rebuilt_from_its_table(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, BLOG, f"sqlite:///{target}", file="blog.db")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        found = conn.execute("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'über'").fetchall()
    conn.close()
    assert found == [(1,)]


def test_an_index_holding_its_own_text_is_copied_into_a_sqlite_target(tmp_path: Path) -> None:
    # no table to rebuild it from: its rows come from the source file (test_fts_own_text.py)
    own = BLOG.replace(', content="posts", content_rowid="id"', "").replace(
        "INSERT INTO posts_fts (posts_fts) VALUES ('rebuild');",
        "INSERT INTO posts_fts (title, body) SELECT title, body FROM posts;",
    )
    target = tmp_path / "out.db"
    plan = draft(tmp_path, own, f"sqlite:///{target}", file="blog.db")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        found = conn.execute("SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'über'").fetchall()
    conn.close()
    assert found == [(1,)]
