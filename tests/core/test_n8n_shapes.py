"""Shapes an n8n database (TypeORM) showed on its way from SQLite into the schema n8n makes on
PostgreSQL itself: TypeORM's ``migrations`` table, named per database, and documents kept as
``TEXT`` in SQLite that are ``json`` columns on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

# n8n's SQLite DDL (its migrations' own spelling), cut down to what the tests need
SQLITE_APP = (
    'CREATE TABLE "migrations" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"timestamp" bigint NOT NULL, "name" varchar NOT NULL);'
    "INSERT INTO migrations (timestamp, name) VALUES "
    "(1588102412422, 'InitialMigration1588102412422');"
    'CREATE TABLE "workflow_entity" ("id" varchar(36) PRIMARY KEY NOT NULL, '
    '"name" varchar(128) NOT NULL, "active" boolean NOT NULL, "nodes" text NOT NULL, '
    '"connections" text NOT NULL, "settings" text);'
    "INSERT INTO workflow_entity VALUES ('wf1', 'Manual set', 0, "
    '\'[{"name": "Start", "type": "n8n-nodes-base.manualTrigger"}]\', \'{}\', NULL);'
)
# the same tables as n8n's PostgreSQL migrations make them
PG_APP = (
    'CREATE TABLE "migrations" ("id" SERIAL PRIMARY KEY, "timestamp" bigint NOT NULL, '
    '"name" varchar NOT NULL);'
    "INSERT INTO migrations (timestamp, name) VALUES "
    "(1587669153312, 'InitialMigration1587669153312');"
    'CREATE TABLE "workflow_entity" ("id" varchar(36) PRIMARY KEY, '
    '"name" varchar(128) NOT NULL, "active" boolean NOT NULL, "nodes" json NOT NULL, '
    '"connections" json NOT NULL, "settings" json)'
)


def test_the_apps_own_typeorm_migrations_in_the_target_are_kept_alone(
    tmp_path: Path, pg_url: str
) -> None:
    # merged by id, SQLite's migration names replaced PostgreSQL's, and n8n ran its
    # PostgreSQL migrations again on start (column "workflowId" does not exist)
    pg_exec(pg_url, PG_APP)
    plan = draft(tmp_path, SQLITE_APP, pg_url)
    assert "left out app.migrations: TypeORM's revision" in plan.read_text()
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert "no [[tables]] entry reads" not in result.output
    assert pg_rows(pg_url, "SELECT name FROM migrations") == [("InitialMigration1587669153312",)]


def test_json_text_goes_into_the_targets_json_column_as_the_document(
    tmp_path: Path, pg_url: str
) -> None:
    # stored as one JSON string, n8n read a string where it wrote an array of nodes
    # (nodes.find is not a function) while verify passed
    pg_exec(pg_url, PG_APP)
    plan = draft(tmp_path, SQLITE_APP, pg_url)
    assert "json in the target and text in the source" in plan.read_text()
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    found = pg_rows(
        pg_url,
        "SELECT json_typeof(nodes), nodes -> 0 ->> 'name', json_typeof(connections), settings "
        "FROM workflow_entity",
    )
    assert found == [("array", "Start", "object", None)]
    assert ferry("verify", plan).exit_code == 0


def test_typeorms_migrations_table_keeps_the_apps_spelling_of_names(
    tmp_path: Path, pg_url: str
) -> None:
    # TypeORM quotes every name ("workflowId"): folded to workflowid, n8n's SQL failed
    plan = draft(
        tmp_path,
        SQLITE_APP + 'CREATE TABLE "execution_entity" ("id" integer PRIMARY KEY, '
        '"workflowId" varchar(36) REFERENCES "workflow_entity" ("id") ON DELETE CASCADE);'
        "INSERT INTO execution_entity VALUES (1, 'wf1');",
        pg_url,
    )
    assert "app holds migrations: the table TypeORM keeps" in plan.read_text()
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, 'SELECT "workflowId" FROM execution_entity') == [("wf1",)]


def test_sqlites_strftime_now_default_is_the_current_timestamp_on_postgres(
    tmp_path: Path, pg_url: str
) -> None:
    # TypeORM's SQLite default for n8n's createdAt was named not carried: a row the app
    # inserts without createdAt was refused by NOT NULL
    plan = draft(
        tmp_path,
        'CREATE TABLE "tag_entity" ("id" varchar(36) PRIMARY KEY NOT NULL, '
        '"name" varchar(24) NOT NULL, "createdAt" datetime(3) NOT NULL '
        "DEFAULT (STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')));"
        "INSERT INTO tag_entity VALUES ('t1', 'demo', '2020-01-02 03:04:05.678');",
        pg_url,
    )
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert "STRFTIME" not in result.output
    pg_exec(pg_url, "INSERT INTO tag_entity (id, name) VALUES ('t2', 'ops')")
    assert pg_rows(
        pg_url, "SELECT count(*) FROM tag_entity WHERE createdat > now() - interval '1 hour'"
    ) == [(1,)]


def _answered(plan: Path, question: str, answer: str) -> None:
    text = plan.read_text()
    start = text.index(f'id = "{question}"')
    at = text.index('answer = ""', start)
    plan.write_text(text[:at] + f'answer = "{answer}"' + text[at + len('answer = ""') :])


def test_a_settings_files_encryption_key_is_asked_about_and_left_out_by_default(
    tmp_path: Path, pg_url: str
) -> None:
    # n8n's config {"encryptionKey": …} went into a table beside the credentials it decrypts
    plan = draft(tmp_path, SQLITE_APP, pg_url)
    (tmp_path / "app" / "config").write_text('{\n\t"encryptionKey": "0Z9/qmSq46N4B"\n}')
    result = ferry("init", tmp_path / "app", "--target", pg_url, "-o", plan, "--force")
    assert "config holds encryptionKey" in result.output
    _answered(plan, "config.secret", "leave")
    moved = ferry("migrate", plan)
    assert moved.exit_code == 0, moved.output
    assert pg_rows(pg_url, "SELECT to_regclass('config') IS NULL") == [(True,)]


def test_an_encryption_key_answered_carry_goes_into_its_table(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, SQLITE_APP, pg_url)
    (tmp_path / "app" / "config").write_text('{"encryptionKey": "0Z9/qmSq46N4B"}')
    ferry("init", tmp_path / "app", "--target", pg_url, "-o", plan, "--force")
    _answered(plan, "config.secret", "carry")
    moved = ferry("migrate", plan)
    assert moved.exit_code == 0, moved.output
    assert pg_rows(pg_url, "SELECT key, value FROM config") == [("encryptionKey", "0Z9/qmSq46N4B")]
