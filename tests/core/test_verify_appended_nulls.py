"""Verify compares a table loaded with ``mode = "append"`` (no key: each row as a whole) with
a NULL in some column as a row like any other. Before, the NULL read as an empty key: every
such row was counted "rejected by the last run" (a Synapse homeserver's ``presence_stream``,
whose ``status_msg`` is NULL until a user sets one), and a row missing from the target
passed unseen. Real SQLite, real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import psycopg

from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.scan.folder import scan_folder
from ferry.verify.run import verify


def appended(folder: Path, url: str) -> Plan:
    """A keyless table with a NULL in one column, drafted as appended and migrated."""
    with sqlite3.connect(folder / "homeserver.db") as conn:
        conn.executescript(
            "CREATE TABLE presence_stream (stream_id BIGINT, user_id TEXT, status_msg TEXT);"
            "INSERT INTO presence_stream VALUES (2, '@bob:localhost', NULL),"
            " (3, '@alice:localhost', NULL);"
        )
    conn.close()
    plan = scan_folder(folder / "homeserver.db", url).plan
    assert [t.mode for t in plan.tables] == ["append"]
    assert asyncio.run(migrate(plan, write_reports=False)).status == "completed"
    return plan


def test_appended_rows_with_a_null_match_and_none_is_called_rejected(
    tmp_path: Path, pg_url: str
) -> None:
    result = asyncio.run(verify(appended(tmp_path, pg_url)))
    table = result.tables[0]
    assert (table.matched, table.rejected, table.extra, result.verdict) == (2, 0, 0, "PASS")


def test_an_appended_row_with_a_null_missing_from_the_target_fails(
    tmp_path: Path, pg_url: str
) -> None:
    plan = appended(tmp_path, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM presence_stream WHERE stream_id = 3")
    result = asyncio.run(verify(plan))
    assert (result.tables[0].missing, result.verdict) == (1, "FAIL")
