"""Long values Ferry writes into PostgreSQL are stored with lz4 (ferry.targets.pgcompression),
for the run's transaction (and a rollback's) only: the tables keep the server's default for the
app's writes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pgkit import pg_exec, pg_rows

from ferry.backup.create import create_backup
from ferry.migrate import migrate
from ferry.plan import plan_from_dict
from ferry.rollback import rollback

pytestmark = pytest.mark.pg

LONG = "a long value, compressible " * 200  # over TOAST's 2 kB threshold


def _plan(folder: Path, url: str, **target: Any) -> Any:
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    with db:
        db.executemany("INSERT INTO notes VALUES (?, ?)", [(i, f"{i} {LONG}") for i in range(5)])
    db.close()
    return plan_from_dict(
        {
            "name": "lz4",
            "target": {"url": url, **target},
            "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
            "tables": [{"name": "notes", "source": "app.notes", "key": ["id"]}],
        },
        folder,
    )


def _methods(url: str) -> set[str | None]:
    return {r[0] for r in pg_rows(url, "SELECT pg_column_compression(body) FROM notes")}


def _lz4_offered(url: str) -> bool:
    rows = pg_rows(
        url,
        "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' "
        "AND 'lz4' = ANY(enumvals)",
    )
    return bool(rows)


def test_a_first_load_stores_long_values_with_lz4(tmp_path: Path, pg_url: str) -> None:
    if not _lz4_offered(pg_url):
        pytest.fail("the test server has no lz4: the CI's PostgreSQL is built with it")
    asyncio.run(migrate(_plan(tmp_path, pg_url), write_reports=False))
    assert _methods(pg_url) == {"lz4"}


def test_the_table_keeps_the_server_default_for_the_apps_writes(
    tmp_path: Path, pg_url: str
) -> None:
    asyncio.run(migrate(_plan(tmp_path, pg_url), write_reports=False))
    pg_exec(pg_url, f"INSERT INTO notes VALUES (99, 'app {LONG}')")
    app = pg_rows(pg_url, "SELECT pg_column_compression(body) FROM notes WHERE id = 99")
    default = pg_rows(pg_url, "SHOW default_toast_compression")
    assert app == default


def test_compression_server_keeps_the_servers_default(tmp_path: Path, pg_url: str) -> None:
    asyncio.run(migrate(_plan(tmp_path, pg_url, compression="server"), write_reports=False))
    assert _methods(pg_url) == {pg_rows(pg_url, "SHOW default_toast_compression")[0][0]}


def test_a_table_loaded_apart_stores_long_values_with_lz4(tmp_path: Path, pg_url: str) -> None:
    plan = _plan(tmp_path, pg_url)
    plan.options.load_apart = True
    result = asyncio.run(migrate(plan, write_reports=False))
    decision = result.tables[0].decision
    assert decision is not None and decision.mode == "parallel", decision
    assert _methods(pg_url) == {"lz4"}


def _migrate_backup_and_lose_rows(plan: Any, url: str) -> None:
    """A first run, a backup of its target, then the app deletes every row."""
    asyncio.run(migrate(plan, write_reports=False))
    asyncio.run(create_backup(plan))
    pg_exec(url, "DELETE FROM notes")


def test_a_rollback_puts_long_values_back_with_lz4(tmp_path: Path, pg_url: str) -> None:
    plan = _plan(tmp_path, pg_url)
    _migrate_backup_and_lose_rows(plan, pg_url)

    asyncio.run(rollback(plan))

    assert pg_rows(pg_url, "SELECT count(*) FROM notes") == [(5,)]
    assert _methods(pg_url) == {"lz4"}


def test_a_rollback_with_compression_server_keeps_the_servers_default(
    tmp_path: Path, pg_url: str
) -> None:
    plan = _plan(tmp_path, pg_url, compression="server")
    _migrate_backup_and_lose_rows(plan, pg_url)

    asyncio.run(rollback(plan))

    assert pg_rows(pg_url, "SELECT count(*) FROM notes") == [(5,)]
    assert _methods(pg_url) == {pg_rows(pg_url, "SHOW default_toast_compression")[0][0]}
