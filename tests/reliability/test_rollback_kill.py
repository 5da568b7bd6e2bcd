"""``ferry rollback`` of a PostgreSQL target killed (SIGKILL) while the server runs one of its
statements: the rows being copied back into the truncated tables, an index being built again,
a foreign key being added back, the proof's checksums. The rollback is one transaction, so the
server rolls it back: the target is exactly as it was before the rollback, and a second
rollback then restores it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from backupkit import backup, load, pg_plan
from faultkit import FerryProcess, ferry_run, pg_exec, pg_query, wait_for_backend

pytestmark = [pytest.mark.slow, pytest.mark.pg]

SCHEMA = [
    "CREATE TABLE jobs (id bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE steps (id bigint PRIMARY KEY, "
    "job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, step text)",
    "CREATE INDEX steps_job ON steps (job_id)",
    "INSERT INTO jobs SELECT i, 'job ' || i FROM generate_series(1, 20000) i",
    "INSERT INTO steps SELECT i, 1 + i % 20000, repeat('s', 40) || i "
    "FROM generate_series(1, 300000) i",
]

CHANGES = [
    "DELETE FROM jobs WHERE id % 3 = 0",
    "UPDATE steps SET step = 'changed' WHERE id % 5 = 0",
    "INSERT INTO jobs VALUES (20001, 'new')",
]

DIGEST = "SELECT count(*), coalesce(sum(hashtext(t::text)), 0) FROM {} t"


def digests(url: str) -> dict[str, tuple[object, ...]]:
    return {table: pg_query(url, DIGEST.format(table))[0] for table in ("jobs", "steps")}


@pytest.mark.parametrize(
    "statement",
    [
        "COPY %steps%",
        "CREATE INDEX steps_job %",
        "ALTER TABLE % ADD CONSTRAINT %",
        "SELECT count(*), coalesce(sum(%",
    ],
    ids=["mid-copy", "index-built-again", "key-added-back", "proof"],
)
def test_sigkill_during_a_pg_rollback_leaves_the_target_as_before_it(
    statement: str, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, *SCHEMA)
    plan_file = pg_plan(tmp_path, pg_url, extra='\n[[tables]]\nname = "steps"\nsource = "jobs"\n')
    backed_up = digests(pg_url)
    backup(load(plan_file), pg_method="copy")
    pg_exec(pg_url, *CHANGES)
    changed = digests(pg_url)
    database = pg_url.rsplit("/", 1)[1]
    proc = FerryProcess(["rollback", str(plan_file), "--yes"], cwd=tmp_path)

    seen = wait_for_backend(pg_server_url, database, statement, lambda: proc.proc.poll() is None)
    assert seen, f"the rollback ended before the server ran {statement!r}:\n{proc.stderr}"
    assert proc.signal(signal.SIGKILL)
    proc.wait()

    pg_query(pg_server_url, f"SELECT pg_terminate_backend({seen[0]})")  # not waiting on it
    assert digests(pg_url) == changed
    again = ferry_run("rollback", plan_file, "--yes", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert digests(pg_url) == backed_up
