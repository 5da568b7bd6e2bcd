"""SQLite → SQLite keeps a time's, a date's, a flag's and a float's own declared type name.

Found moving a calibre library: every ``TIMESTAMP`` became ``DATETIME``, ``BOOL`` ``BOOLEAN``,
``REAL`` ``FLOAT``. SQLite does not mind; an app may: Python's sqlite3 with
``detect_types=PARSE_DECLTYPES`` (Flask's tutorial app, Flaskr) turns a ``TIMESTAMP`` or
``DATE`` column's text into a datetime by the declared name, and its template calls
``post["created"].strftime(...)`` on what became a string. Real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime
from pathlib import Path

from ferry.api import migrate
from ferry.plan import Plan, plan_from_dict

SCHEMA = """
CREATE TABLE post (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  published DATE,
  score REAL,
  draft BOOL,
  title TEXT NOT NULL
);
INSERT INTO post (created, published, score, draft, title)
VALUES ('2024-05-01 10:00:13', '2024-05-02', 2.5, 0, 'Hello');
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
            "tables": [{"name": "post", "source": "app.post"}],
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

    assert [(t.updated, t.unchanged) for t in result.tables] == [(1, 0)]
    with sqlite3.connect(tmp_path / "new.db") as conn:
        row = conn.execute("SELECT score, created FROM post").fetchone()
    conn.close()
    assert row == (3.5, "2024-06-01 08:00:00")
