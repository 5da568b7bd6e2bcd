"""How a PostgreSQL rollback empties the tables it restores (ferry.backup.pgrestore), on a real
server: one TRUNCATE of them all, or row by row (DELETE) for a table that a table outside the
restore refers to, and what that leaves of the outside table.

Every test gets a fresh database (``pg_url``) holding ``jobs`` and ``steps``, whose foreign
key to ``jobs`` cascades on delete; the plan restores both.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backupkit import backup, load, pg_plan
from pgkit import pg_exec, pg_rows, pg_tables

from ferry.errors import TargetError
from ferry.plan import Plan
from ferry.rollback import RollbackResult, rollback

pytestmark = pytest.mark.pg

SCHEMA = [
    "CREATE TABLE jobs (id bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE steps (id bigint PRIMARY KEY, "
    "job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, step text)",
    "INSERT INTO jobs SELECT i, 'job ' || i FROM generate_series(1, 50) i",
    "INSERT INTO steps SELECT i, 1 + i % 50, 'step ' || i FROM generate_series(1, 500) i",
]

CHANGES = [
    "DELETE FROM jobs WHERE id <= 10",  # cascades to their steps
    "UPDATE steps SET step = 'changed' WHERE id % 7 = 0",
    "INSERT INTO jobs VALUES (51, 'new')",
    "INSERT INTO steps VALUES (501, 51, 'new')",
]


def roll(plan: Plan) -> RollbackResult:
    return asyncio.run(rollback(plan))


def rows(url: str) -> dict[str, list[str]]:
    """Every row (as text, ordered) of every table but Ferry's own."""
    return {
        table: [r[0] for r in pg_rows(url, f"SELECT t::text FROM {table} t ORDER BY 1")]
        for table in sorted(pg_tables(url))
    }


@pytest.fixture
def app(tmp_path: Path, pg_url: str) -> Path:
    pg_exec(pg_url, *SCHEMA)
    return pg_plan(tmp_path, pg_url, extra='\n[[tables]]\nname = "steps"\nsource = "jobs"\n')


def test_a_parent_and_its_cascading_child_come_back_exactly(app: Path, pg_url: str) -> None:
    plan = load(app)
    before = rows(pg_url)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)

    roll(plan)

    assert rows(pg_url) == before


def test_the_restored_tables_are_emptied_by_one_truncate(app: Path, pg_url: str) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)

    result = roll(plan)

    assert result.restored[0] == "tables jobs, steps: emptied by one TRUNCATE"


def test_a_table_outside_the_restore_referring_to_one_keeps_its_rows(
    app: Path, pg_url: str
) -> None:
    plan = load(app)
    before = rows(pg_url)
    backup(plan, pg_method="copy")
    pg_exec(
        pg_url,
        *CHANGES,
        "CREATE TABLE notes (id int PRIMARY KEY, job_id bigint REFERENCES jobs (id))",
        "INSERT INTO notes VALUES (1, NULL), (2, NULL)",
    )

    roll(plan)

    assert rows(pg_url) == {**before, "notes": ["(1,)", "(2,)"]}


def test_a_table_referred_to_from_outside_is_emptied_row_by_row_and_says_why(
    app: Path, pg_url: str
) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, "CREATE TABLE notes (job_id bigint REFERENCES jobs (id))")

    result = roll(plan)

    assert result.restored[:2] == [
        "table steps: emptied by one TRUNCATE",
        "table jobs: emptied row by row (DELETE), not by TRUNCATE: table notes, not restored, "
        "refers to it (foreign key notes_job_id_fkey)",
    ]


def test_a_table_referring_to_one_emptied_row_by_row_is_too(app: Path, pg_url: str) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, "CREATE TABLE notes (step_id bigint REFERENCES steps (id))")

    result = roll(plan)

    assert result.restored[:2] == [
        "table steps: emptied row by row (DELETE), not by TRUNCATE: table notes, not "
        "restored, refers to it (foreign key notes_step_id_fkey)",
        "table jobs: emptied row by row (DELETE), not by TRUNCATE: table steps, emptied row "
        "by row, refers to it",
    ]


def test_outside_rows_referring_to_restored_ones_through_a_deferred_key_are_kept(
    app: Path, pg_url: str
) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(
        pg_url,
        "CREATE TABLE notes (job_id bigint REFERENCES jobs (id) DEFERRABLE INITIALLY DEFERRED)",
        "INSERT INTO notes VALUES (20), (30)",
    )

    roll(plan)

    assert pg_rows(pg_url, "SELECT job_id FROM notes ORDER BY 1") == [(20,), (30,)]


def test_outside_rows_referring_to_restored_ones_make_the_rollback_refuse(
    app: Path, pg_url: str
) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(
        pg_url,
        *CHANGES,
        "CREATE TABLE notes (job_id bigint REFERENCES jobs (id))",
        "INSERT INTO notes VALUES (20)",
    )
    changed = rows(pg_url)

    with pytest.raises(TargetError) as caught:
        roll(plan)

    assert "clearing the tables to restore failed" in caught.value.message
    assert 'violates foreign key constraint "notes_job_id_fkey"' in caught.value.message
    assert rows(pg_url) == changed


def _through_a_rollback(app: Path, pg_url: str, query: str) -> tuple[Any, Any]:
    """What ``query`` reads before a backup, and after the tables were changed and rolled
    back to it."""
    plan = load(app)
    before = pg_rows(pg_url, query)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)
    roll(plan)
    return before, pg_rows(pg_url, query)


# -- the foreign key between restored tables, dropped while the rows go in ------------------

KEYS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
    "obj_description(oid, 'pg_constraint') FROM pg_constraint WHERE contype = 'f' ORDER BY 2"
)


def test_the_foreign_key_between_restored_tables_comes_back_as_it_was(
    app: Path, pg_url: str
) -> None:
    pg_exec(
        pg_url,
        "ALTER TABLE steps DROP CONSTRAINT steps_job_id_fkey",
        "ALTER TABLE steps ADD CONSTRAINT steps_job_id_fkey FOREIGN KEY (job_id) "
        "REFERENCES jobs (id) ON DELETE CASCADE DEFERRABLE",
        "COMMENT ON CONSTRAINT steps_job_id_fkey ON steps IS 'a step''s job'",
    )
    before, after = _through_a_rollback(app, pg_url, KEYS)

    assert after == before


def test_restored_rows_that_break_the_foreign_key_are_refused(app: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "ALTER TABLE steps DROP CONSTRAINT steps_job_id_fkey",
        "INSERT INTO steps VALUES (501, 999, 'orphan')",
    )
    plan = load(app)
    backup(plan, pg_method="copy")  # it holds a step whose job is missing
    pg_exec(
        pg_url,
        "DELETE FROM steps WHERE id = 501",
        "ALTER TABLE steps ADD FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE",
    )
    before = rows(pg_url)

    with pytest.raises(TargetError) as caught:
        roll(plan)

    assert 'violates foreign key constraint "steps_job_id_fkey"' in caught.value.message
    assert rows(pg_url) == before


# -- the secondary indexes of restored tables, built again once the rows are in -------------

INDEXES = (
    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisclustered, "
    "obj_description(i.indexrelid, 'pg_class') FROM pg_index i "
    "WHERE i.indrelid IN ('jobs'::regclass, 'steps'::regclass) ORDER BY 1"
)


def test_the_indexes_of_restored_tables_come_back_as_they_were(app: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "CREATE UNIQUE INDEX jobs_name ON jobs (name)",
        "CREATE INDEX steps_lower ON steps (lower(step)) WHERE step IS NOT NULL",
        "CREATE INDEX steps_job_step ON steps (job_id, step DESC) WITH (fillfactor = 70)",
        "COMMENT ON INDEX steps_job_step IS 'a step''s job'",
        "CREATE INDEX steps_step ON steps (step)",
        "CLUSTER steps USING steps_step",
    )
    before, after = _through_a_rollback(app, pg_url, INDEXES)

    assert after == before


def test_restored_rows_that_break_a_unique_index_are_refused(app: Path, pg_url: str) -> None:
    pg_exec(pg_url, "UPDATE jobs SET name = 'same' WHERE id IN (20, 30)")
    plan = load(app)
    backup(plan, pg_method="copy")  # it holds two jobs of the same name
    pg_exec(
        pg_url,
        "UPDATE jobs SET name = 'other' WHERE id = 30",
        "CREATE UNIQUE INDEX jobs_name ON jobs (name)",
    )
    before = rows(pg_url)

    with pytest.raises(TargetError) as caught:
        roll(plan)

    assert 'could not create unique index "jobs_name"' in caught.value.message
    assert rows(pg_url) == before


# -- a user who does not own the tables -------------------------------------------------------


@pytest.fixture
def tenant(pg_url: str) -> Iterator[str]:
    """The URL of ``pg_url`` for a new role that may read, write and truncate ``jobs`` and
    ``steps`` but does not own them."""
    role = f"ferry_tenant_{uuid.uuid4().hex[:8]}"
    database = pg_url.rsplit("/", 1)[1]
    pg_exec(
        pg_url,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT CREATE ON DATABASE {database} TO {role}",
        f"GRANT SELECT, INSERT, DELETE, TRUNCATE ON jobs, steps TO {role}",
    )
    try:
        yield pg_url.replace("://postgres@", f"://{role}@")
    finally:
        pg_exec(pg_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_a_user_who_does_not_own_the_tables_rolls_them_back_keys_in_place(
    app: Path, pg_url: str, tenant: str
) -> None:
    app.write_text(app.read_text(encoding="utf-8").replace(pg_url, tenant), encoding="utf-8")
    plan = load(app)
    before = rows(pg_url)
    keys = pg_rows(pg_url, KEYS)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)

    result = roll(plan)

    assert result.restored[0] == "tables jobs, steps: emptied by one TRUNCATE"
    assert rows(pg_url) == before
    assert pg_rows(pg_url, KEYS) == keys


def test_without_the_truncate_privilege_the_tables_are_emptied_row_by_row(
    app: Path, pg_url: str, tenant: str
) -> None:
    role = tenant.split("://", 1)[1].split("@", 1)[0]
    pg_exec(pg_url, f"REVOKE TRUNCATE ON jobs, steps FROM {role}")
    app.write_text(app.read_text(encoding="utf-8").replace(pg_url, tenant), encoding="utf-8")
    plan = load(app)
    before = rows(pg_url)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)

    result = roll(plan)

    assert rows(pg_url) == before
    assert result.restored[:2] == [
        "table steps: emptied row by row (DELETE), not by TRUNCATE: Ferry's user lacks the "
        "TRUNCATE privilege on it",
        "table jobs: emptied row by row (DELETE), not by TRUNCATE: Ferry's user lacks the "
        "TRUNCATE privilege on it",
    ]
