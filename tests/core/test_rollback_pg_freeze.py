"""A PostgreSQL rollback writes the rows of the tables it emptied by ``TRUNCATE`` frozen
(``COPY … FREEZE``, ferry.backup.pgrestore): their pages are all-visible as soon as the
restore commits, as a first run leaves a table it created. A table emptied row by row cannot
take ``FREEZE`` and gets its rows as before (test_rollback_pg_clear covers those paths).

``relallvisible`` is what the index builds after the copy record in ``pg_class``: every page
when the rows went in frozen, none when they did not (no vacuum ran).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from backupkit import backup, load, pg_plan
from pgkit import pg_exec, pg_rows

from ferry.rollback import rollback

pytestmark = pytest.mark.pg

SCHEMA = [
    "CREATE TABLE jobs (id bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE steps (id bigint PRIMARY KEY, "
    "job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, step text)",
    "CREATE INDEX jobs_name ON jobs (name)",
    "CREATE INDEX steps_step ON steps (step)",
    "INSERT INTO jobs SELECT i, 'job ' || i FROM generate_series(1, 200) i",
    "INSERT INTO steps SELECT i, 1 + i % 200, 'step ' || i FROM generate_series(1, 5000) i",
]


def _all_visible(url: str) -> dict[str, bool]:
    return {
        str(name): pages > 0 and visible == pages
        for name, pages, visible in pg_rows(
            url,
            "SELECT relname, relpages, relallvisible FROM pg_class "
            "WHERE relname IN ('jobs', 'steps') ORDER BY relname",
        )
    }


@pytest.mark.parametrize("method", ["copy", "pg_dump"])
def test_truncated_tables_come_back_frozen(tmp_path: Path, pg_url: str, method: str) -> None:
    pg_exec(pg_url, *SCHEMA)
    plan = load(pg_plan(tmp_path, pg_url, extra='\n[[tables]]\nname = "steps"\nsource = "jobs"\n'))
    backup(plan, pg_method=method)
    pg_exec(pg_url, "DELETE FROM jobs WHERE id <= 10", "UPDATE steps SET step = 'x'")

    result = asyncio.run(rollback(plan))

    assert result.restored[0] == "tables jobs, steps: emptied by one TRUNCATE"
    assert pg_rows(pg_url, "SELECT count(*) FROM steps WHERE step = 'x'") == [(0,)]
    assert _all_visible(pg_url) == {"jobs": True, "steps": True}
