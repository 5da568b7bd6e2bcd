"""SQLite → SQLite keeps a time's, a date's, a flag's, a float's and an integer's own declared
type name.

Found moving a calibre library: every ``TIMESTAMP`` became ``DATETIME``, ``BOOL`` ``BOOLEAN``,
``REAL`` ``FLOAT``, and every ``INTEGER`` but the rowid ``BIGINT``. SQLite does not mind; an
app may: Python's sqlite3 with ``detect_types=PARSE_DECLTYPES`` (Flask's tutorial app,
Flaskr) turns a ``TIMESTAMP`` or ``DATE`` column's text into a datetime by the declared name,
and its template calls ``post["created"].strftime(...)`` on what became a string; an ORM
reflecting the table reads the names. Real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime
from pathlib import Path

from ferry.api import migrate, verify
from ferry.plan import Plan, plan_from_dict

SCHEMA = """
CREATE TABLE post (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  author_id INTEGER,
  views INT,
  stars SMALLINT,
  flags tinyint,
  words MEDIUMINT,
  bytes INT8,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  published DATE,
  score REAL,
  draft BOOL,
  title TEXT NOT NULL
);
INSERT INTO post (created, published, score, draft, title, author_id, views, stars, flags, words,
  bytes)
VALUES ('2024-05-01 10:00:13', '2024-05-02', 2.5, 0, 'Hello', 1, 2, 3, 4, 5, 6);
CREATE TABLE tag (id INTEGER PRIMARY KEY, name TEXT) WITHOUT ROWID;
INSERT INTO tag VALUES (1, 'news');
"""


def _plan(tmp_path: Path, url: str = "sqlite:///new.db") -> Plan:
    with sqlite3.connect(tmp_path / "flaskr.sqlite") as conn:
        conn.executescript(SCHEMA)
    conn.close()
    return plan_from_dict(
        {
            "version": 1,
            "name": "flaskr",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "flaskr.sqlite"}],
            "tables": [
                {"name": "post", "source": "app.post"},
                {"name": "tag", "source": "app.tag"},
            ],
        },
        base_dir=tmp_path,
    )


def test_the_declared_names_are_the_sources(tmp_path: Path) -> None:
    asyncio.run(migrate(_plan(tmp_path), write_reports=False))

    with sqlite3.connect(tmp_path / "new.db") as conn:
        declared = {r[1]: r[2] for r in conn.execute("PRAGMA table_info(post)")}
    conn.close()
    assert [declared[c] for c in ("created", "published", "score", "draft")] == [
        "TIMESTAMP",
        "DATE",
        "REAL",
        "BOOL",
    ]


def test_an_app_reading_by_declared_type_gets_datetimes(tmp_path: Path) -> None:
    asyncio.run(migrate(_plan(tmp_path), write_reports=False))

    conn = sqlite3.connect(tmp_path / "new.db", detect_types=sqlite3.PARSE_DECLTYPES)
    created, published = conn.execute("SELECT created, published FROM post").fetchone()
    conn.close()
    assert created == datetime(2024, 5, 1, 10, 0, 13) and published == date(2024, 5, 2)


def test_a_second_run_updates_a_changed_row(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    asyncio.run(migrate(plan, write_reports=False))
    with sqlite3.connect(tmp_path / "flaskr.sqlite") as conn:
        conn.execute("UPDATE post SET score = 3.5, created = '2024-06-01 08:00:00'")
    conn.close()

    result = asyncio.run(migrate(plan, write_reports=False))

    post = result.table("post")
    assert (post.updated, post.unchanged) == (1, 0)
    with sqlite3.connect(tmp_path / "new.db") as conn:
        row = conn.execute("SELECT score, created FROM post").fetchone()
    conn.close()
    assert row == (3.5, "2024-06-01 08:00:00")


def _declared(path: Path, table: str) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        declared = {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({table})")}
    conn.close()
    return declared


def test_the_integer_names_are_the_sources(tmp_path: Path) -> None:
    asyncio.run(migrate(_plan(tmp_path), write_reports=False))

    declared = _declared(tmp_path / "new.db", "post")
    names = ("id", "author_id", "views", "stars", "flags", "words", "bytes")
    assert [declared[c] for c in names] == [
        "INTEGER",
        "INTEGER",
        "INT",
        "SMALLINT",
        "tinyint",
        "MEDIUMINT",
        "INT8",
    ]


def test_the_integer_primary_key_stays_the_rowid_numbered_by_sqlite(tmp_path: Path) -> None:
    asyncio.run(migrate(_plan(tmp_path), write_reports=False))

    with sqlite3.connect(tmp_path / "new.db") as conn:
        conn.execute("INSERT INTO post (title) VALUES ('Second')")
        ids = conn.execute("SELECT id, title FROM post ORDER BY id").fetchall()
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'post'").fetchone()[0]
    conn.close()
    assert ids == [(1, "Hello"), (2, "Second")]
    assert '"id" INTEGER PRIMARY KEY AUTOINCREMENT' in sql


def test_a_key_that_is_not_the_sources_rowid_does_not_become_one(tmp_path: Path) -> None:
    # WITHOUT ROWID: tag.id INTEGER PRIMARY KEY is an ordinary column, which a row must give;
    # written INTEGER in a rowid table it would number a row that gives none
    asyncio.run(migrate(_plan(tmp_path), write_reports=False))

    assert _declared(tmp_path / "new.db", "tag")["id"] == "BIGINT"
    with sqlite3.connect(tmp_path / "new.db") as conn:
        try:
            conn.execute("INSERT INTO tag (name) VALUES ('sport')")
            refused = False
        except sqlite3.IntegrityError:
            refused = True
    conn.close()
    assert refused


def test_verify_passes_on_the_kept_integer_names(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    asyncio.run(migrate(plan, write_reports=False))

    assert asyncio.run(verify(plan, write_reports=False)).verdict == "PASS"
