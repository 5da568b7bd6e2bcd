"""A SQLite full-text index whose name the PostgreSQL target holds as a table of its own (a
Synapse homeserver keeps ``event_search`` as an fts4 index in SQLite and as a ``tsvector``
table on PostgreSQL, made by its first start there) is named as not carried with that table
left without the moved rows: the app's search finds none of them until it is filled. Before,
the line said to create a GIN index, as if the target had nothing. Real SQLite, real
PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg

from ferry.migrate import migrate
from ferry.scan.folder import scan_folder


def test_the_apps_own_search_table_is_named_left_without_the_rows(
    tmp_path: Path, pg_url: str
) -> None:
    with sqlite3.connect(tmp_path / "homeserver.db") as conn:
        conn.executescript(
            "CREATE TABLE events (event_id TEXT PRIMARY KEY, body TEXT);"
            "INSERT INTO events VALUES ('$a', 'hello');"
            "CREATE VIRTUAL TABLE event_search USING fts4 (event_id, room_id, key, value);"
            "INSERT INTO event_search VALUES ('$a', '!r', 'content.body', 'hello');"
        )
    conn.close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE events (event_id text PRIMARY KEY, body text);"
            "CREATE TABLE event_search (event_id text, vector tsvector)"
        )
    plan = scan_folder(tmp_path / "homeserver.db", pg_url).plan
    result = asyncio.run(migrate(plan, write_reports=False))
    (line,) = [o.detail for o in result.schema_objects if o.name == "event_search"]
    assert "the target has a table event_search of its own" in line
    assert "its search finds none of them" in line
