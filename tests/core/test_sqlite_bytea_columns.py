"""A SQLite column declared ``BYTEA`` (PostgreSQL's name for bytes: a Synapse homeserver
declares ``user_filters.filter_json BYTEA`` and ``server_keys_json.key_json bytea`` in both
databases, and writes blobs there) reads as bytes. Before, ``BYTEA`` fell to SQLite's
"anything else" and read as text: into PostgreSQL the created column was ``text`` (a blob
there fails), and into Synapse's own ``bytea`` column ``ferry check`` warned that the source
"holds text". Real SQLite, real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg

from ferry.check import check_plan
from ferry.migrate import migrate
from ferry.scan.folder import scan_folder

FILTER = b'{"room":{"timeline":{"limit":10}}}'


def homeserver(folder: Path) -> Path:
    """Synapse's ``user_filters`` shape holding one filter as a blob."""
    path = folder / "homeserver.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE user_filters (user_id TEXT NOT NULL, filter_id BIGINT NOT NULL,"
            " filter_json BYTEA NOT NULL, UNIQUE (user_id, filter_id))"
        )
        conn.execute("INSERT INTO user_filters VALUES ('alice', 0, ?)", (FILTER,))
    conn.close()
    return path


def test_a_bytea_column_is_created_bytea_holding_the_bytes(tmp_path: Path, pg_url: str) -> None:
    plan = scan_folder(homeserver(tmp_path), pg_url).plan
    assert plan.tables[0].types["filter_json"] == "bytes"
    assert asyncio.run(migrate(plan, write_reports=False)).status == "completed"
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT data_type, (SELECT filter_json FROM user_filters) FROM"
            " information_schema.columns WHERE column_name = 'filter_json'"
        ).fetchone()
    assert row == ("bytea", FILTER)


def test_into_the_apps_own_bytea_column_check_does_not_call_it_text(
    tmp_path: Path, pg_url: str
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE user_filters (user_id text NOT NULL, filter_id bigint NOT NULL,"
            " filter_json bytea NOT NULL, UNIQUE (user_id, filter_id))"
        )
    plan = scan_folder(homeserver(tmp_path), pg_url).plan
    report = asyncio.run(check_plan(plan))
    assert [i.detail for i in report.items if "filter_json" in i.detail] == []
