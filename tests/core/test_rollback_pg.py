"""Rollback of a PostgreSQL target (ferry.rollback with ferry.backup.pgdump), on a real server.

Every test gets a fresh empty database from the ``pg_url`` fixture (tests/conftest.py) holding
``jobs`` and ``steps`` (a serial id, a foreign key, timestamptz, jsonb, bytea, NULLs, empty
strings, commas, quotes and newlines), and the file sources of tests/core/backupkit.py.

What rollback does the same for a SQLite target is in
tests/core/contract/test_rollback_contract.py, run against both.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from backupkit import (
    backup,
    ferry,
    flip_byte,
    load,
    manifest,
    pg_plan,
    rewrite_manifest,
)
from pgkit import pg_exec, pg_rows, pg_tables

import ferry.backup.pgdump as pgdump
from ferry.backup.create import BackupError
from ferry.errors import Cancelled, TargetError
from ferry.events import CancelToken, Event, StepStarted
from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.rollback import RollbackResult, rollback

pytestmark = pytest.mark.pg

PLAN_TABLES = (
    '\n[[tables]]\nname = "steps"\nsource = "jobs"\n\n[[tables]]\nname = "later"\nsource = "jobs"\n'
)

SCHEMA = [
    "CREATE TABLE jobs (id bigint PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE steps (id serial PRIMARY KEY, job_id bigint REFERENCES jobs (id), "
    "step text, at timestamptz, meta jsonb, data bytea)",
    "INSERT INTO jobs VALUES (1, 'probe'), (2, 'mux')",
    "INSERT INTO steps (job_id, step, at, meta, data) VALUES "
    "(1, 'a,b \"quoted\"', '2026-11-21 07:00:00+00', '{\"k\": [1, 2]}', '\\x00ff'), "
    "(1, E'two\\nlines', NULL, 'null', NULL), "
    "(2, '', '2026-01-01 00:00:00+00', NULL, '')",
]

CHANGES = [
    "INSERT INTO jobs VALUES (7, 'new')",
    "UPDATE jobs SET name = 'renamed' WHERE id = 1",
    "DELETE FROM steps WHERE job_id = 2",
    "DELETE FROM jobs WHERE id = 2",
    "INSERT INTO steps (job_id, step) VALUES (7, 'x'), (7, 'y')",
    "ALTER TABLE jobs ADD COLUMN added text DEFAULT 'd'",
    "CREATE TABLE later (id int PRIMARY KEY)",
    "INSERT INTO later VALUES (1)",
]


def roll(plan: Plan, **kwargs: Any) -> RollbackResult:
    return asyncio.run(rollback(plan, **kwargs))


def snapshot(url: str) -> dict[str, Any]:
    """Tables, columns and every row (as text, ordered) of the database."""
    state: dict[str, Any] = {}
    for table in pg_tables(url):
        columns = [r[0] for r in pg_rows(
            url, f"SELECT column_name FROM information_schema.columns "
            f"WHERE table_name = '{table}' ORDER BY ordinal_position")]  # fmt: skip
        rows = [r[0] for r in pg_rows(url, f"SELECT t::text FROM {table} t ORDER BY 1")]
        state[table] = (columns, rows)
    return state


def need_pg_dump(url: str) -> None:
    program = shutil.which("pg_dump")
    major = pgdump.pg_dump_major(program) if program else None
    server = int(pg_rows(url, "SHOW server_version_num")[0][0]) // 10000
    if major is None or major < server:
        pytest.skip("no pg_dump as new as the server on PATH")


@pytest.fixture
def app(tmp_path: Path, pg_url: str) -> Path:
    pg_exec(pg_url, *SCHEMA)
    return pg_plan(tmp_path, pg_url, extra=PLAN_TABLES)


# -- the target comes back -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pg_dump", "copy"])
def test_rollback_brings_rows_columns_and_tables_back(app: Path, pg_url: str, method: str) -> None:
    if method == "pg_dump":
        need_pg_dump(pg_url)
    plan = load(app)
    before = snapshot(pg_url)
    backup(plan, pg_method=method)
    pg_exec(pg_url, *CHANGES)

    result = roll(plan)

    assert snapshot(pg_url) == before
    assert result.restored == [
        "tables jobs, steps: emptied by one TRUNCATE",
        "table jobs: 2 rows put back",
        "table steps: 3 rows put back",
        "table later: dropped (it did not exist at backup time)",
        "table jobs: column added dropped (added since)",
    ]
    assert [line.split(",")[0] for line in result.proof] == [
        "jobs: 2 rows",
        "steps: 3 rows",
        "later: absent (as backed up)",
    ]


@pytest.mark.parametrize("method", ["pg_dump", "copy"])
def test_odd_names_identity_and_generated_columns_come_back(
    tmp_path: Path, pg_url: str, method: str
) -> None:
    if method == "pg_dump":
        need_pg_dump(pg_url)
    pg_exec(
        pg_url,
        'CREATE TABLE "Odd ""Name"", x" (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, '
        '"Col ,""1""" text, n int, twice int GENERATED ALWAYS AS (n * 2) STORED)',
        'INSERT INTO "Odd ""Name"", x" ("Col ,""1""", n) VALUES (\'é\', 1), (NULL, 2)',
    )
    plan = load(
        pg_plan(tmp_path, pg_url, extra=PLAN_TABLES.replace('"later"', "'Odd \"Name\", x'"))
    )
    before = snapshot_of(pg_url, '"Odd ""Name"", x"')
    backup(plan, pg_method=method)
    pg_exec(pg_url, 'DELETE FROM "Odd ""Name"", x" WHERE n = 1',
            'INSERT INTO "Odd ""Name"", x" (n) VALUES (5)')  # fmt: skip

    roll(plan)

    assert snapshot_of(pg_url, '"Odd ""Name"", x"') == before
    assert before == ["(1,é,1,2)", "(2,,2,4)"]


def snapshot_of(url: str, table: str) -> list[str]:
    return [r[0] for r in pg_rows(url, f"SELECT t::text FROM {table} t ORDER BY 1")]


def test_rollback_sets_the_sequences_back(app: Path, pg_url: str) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, "INSERT INTO steps (step) SELECT 'more' FROM generate_series(1, 10)")

    roll(plan)

    assert pg_rows(pg_url, "SELECT nextval('steps_id_seq')") == [(4,)]


def test_rollback_undoes_a_real_migration_into_an_empty_database(
    tmp_path: Path, pg_url: str
) -> None:
    plan = load(pg_plan(tmp_path, pg_url))
    backup(plan)
    asyncio.run(migrate(plan))
    assert pg_rows(pg_url, "SELECT id, name FROM jobs ORDER BY id") == [
        (1, "probe"),
        (3, "publish"),
    ]

    result = roll(plan)

    assert pg_tables(pg_url) == []
    assert result.proof == [
        "jobs: absent (as backed up)",
        "ferry.runs: absent (as backed up)",
        "ferry.rejects: absent (as backed up)",
    ]


def test_functions_created_since_the_backup_are_dropped_older_ones_kept(
    app: Path, pg_url: str
) -> None:
    pg_exec(pg_url, "CREATE FUNCTION old_one() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    plan = load(app)
    backup(plan)
    pg_exec(
        pg_url,
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
        "'BEGIN NEW.step = NEW.step; RETURN NEW; END'",
        "CREATE TRIGGER trg_touch BEFORE UPDATE ON steps FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE FUNCTION helper(n int) RETURNS int LANGUAGE sql AS 'SELECT n'",
    )

    result = roll(plan)

    names = pg_rows(
        pg_url, "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    )
    # touch() stays: a table the backup had still uses it through a trigger.
    assert sorted(n for (n,) in names) == ["old_one", "touch"]
    assert "function helper(integer): dropped (it did not exist at backup time)" in result.restored


def test_user_triggers_do_not_rewrite_restored_rows_and_stay_on(app: Path, pg_url: str) -> None:
    plan = load(app)
    before = snapshot(pg_url)
    backup(plan, pg_method="copy")
    pg_exec(
        pg_url,
        "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$",
        "CREATE TRIGGER shout BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION shout()",
        "DELETE FROM steps",
    )

    roll(plan)

    assert snapshot(pg_url) == before
    assert pg_rows(pg_url, "SELECT tgenabled FROM pg_trigger WHERE tgname = 'shout'") == [("O",)]


# -- refused or undone: nothing changes ------------------------------------------------------


def test_an_unreachable_target_is_reported_and_nothing_changes(app: Path, tmp_path: Path) -> None:
    plan = load(app)
    backup(plan)
    (tmp_path / "jobs.json").write_text("[]\n", encoding="utf-8")
    down = json.loads(json.dumps(manifest(next((tmp_path / "ferry-backups").iterdir()))))
    plan.target.url = "postgresql://postgres@127.0.0.1:1/" + plan.target.url.rsplit("/", 1)[1]
    # the backup must name the same target to get that far
    down["target"]["location"] = f"postgres@127.0.0.1:1/{plan.target.url.rsplit('/', 1)[1]}"
    rewrite_manifest(next((tmp_path / "ferry-backups").iterdir()), down)

    with pytest.raises(TargetError) as caught:
        roll(plan, restore_sources=True)

    assert caught.value.message == (
        f"cannot connect to PostgreSQL at {down['target']['location']} (connection refused)"
    )
    assert (tmp_path / "jobs.json").read_text(encoding="utf-8") == "[]\n"


def test_a_tampered_dump_is_refused_and_nothing_changes(app: Path, pg_url: str) -> None:
    plan = load(app)
    made = backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)
    changed = snapshot(pg_url)
    flip_byte(made.path / "target/000-jobs.csv")

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message == (
        f"backup {made.path} is refused for rollback: target/000-jobs.csv: SHA-256 differs "
        "from the manifest (the file was changed after the backup)"
    )
    assert snapshot(pg_url) == changed


def test_a_restore_that_does_not_match_the_checksum_is_undone(app: Path, pg_url: str) -> None:
    plan = load(app)
    made = backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)
    changed = snapshot(pg_url)
    data = manifest(made.path)
    jobs = next(i for i in data["items"] if i.get("table") == "jobs")
    jobs["checksum"] = "12345"  # the manifest itself is not hashed
    rewrite_manifest(made.path, data)

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message.startswith("rollback not proven for table jobs: 2 rows, checksum ")
    assert caught.value.message.endswith("the backup has 2 rows, checksum 12345")
    assert snapshot(pg_url) == changed


def test_a_table_outside_the_plan_cascading_from_a_restored_one_is_refused(
    app: Path, pg_url: str
) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(
        pg_url,
        "CREATE TABLE audit (job_id bigint REFERENCES jobs (id) ON DELETE CASCADE)",
        "INSERT INTO audit VALUES (1)",
    )

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message == (
        "table audit (not in the backup) refers to a restored table through foreign key "
        "audit_job_id_fkey; restoring would change or block it"
    )
    assert pg_rows(pg_url, "SELECT * FROM audit") == [(1,)]


def test_a_table_dropped_since_the_backup_is_refused(app: Path, pg_url: str) -> None:
    plan = load(app)
    made = backup(plan, pg_method="copy")
    pg_exec(pg_url, "DROP TABLE steps")

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message.startswith(
        "table steps existed at backup time but is gone from postgres@"
    )
    assert "target/001-steps.csv" in caught.value.hint
    assert made.id in [p.name for p in made.path.parent.iterdir()]
    assert pg_rows(pg_url, "SELECT count(*) FROM jobs") == [(2,)]


def test_a_cancel_during_the_restore_undoes_it(app: Path, pg_url: str) -> None:
    plan = load(app)
    backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)
    changed = snapshot(pg_url)
    cancel = CancelToken()

    def emit(event: Event) -> None:
        if isinstance(event, StepStarted) and event.detail == "table steps":
            cancel.cancel()

    with pytest.raises(Cancelled) as caught:
        roll(plan, emit=emit, cancel=cancel)

    assert caught.value.message == "Cancelled: the rollback was undone; the target is unchanged."
    assert snapshot(pg_url) == changed


# -- the command -----------------------------------------------------------------------------


def test_ferry_rollback_prints_what_was_restored_and_the_proof(app: Path, pg_url: str) -> None:
    plan = load(app)
    made = backup(plan, pg_method="copy")
    pg_exec(pg_url, *CHANGES)

    result = ferry("rollback", app, "--yes")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Rolled back postgres@127.0.0.1:")
    assert lines[0].endswith(f" to backup {made.id}")
    assert "  restored: table jobs: 2 rows put back" in lines
    assert "  restored: table later: dropped (it did not exist at backup time)" in lines
    assert [line.split(",")[0] for line in lines if line.startswith("  proof: ")] == [
        "  proof: jobs: 2 rows",
        "  proof: steps: 3 rows",
        "  proof: later: absent (as backed up)",
    ]
