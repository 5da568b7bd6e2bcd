"""A PostgreSQL target's schema (``[target] pg_schema``) and what a server offers the Connect
page (ferry.shape.pgserver): its databases, a database's schemas, a new database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pgkit import pg_exec, pg_rows
from sqlalchemy.engine import make_url

from ferry.check import check_plan
from ferry.cli.command import cli
from ferry.errors import PlanError, TargetError
from ferry.migrate import migrate
from ferry.plan import TargetSpec, load_plan
from ferry.shape.pgserver import create_database, list_databases, list_schemas
from ferry.verify.run import verify

pytestmark = pytest.mark.pg


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_plan(folder: Path, url: str, pg_schema: str | None) -> Path:
    (folder / "items.jsonl").write_text(
        '{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n', encoding="utf-8"
    )
    line = f'pg_schema = "{pg_schema}"' if pg_schema else ""
    path = folder / "ferry.toml"
    path.write_text(
        f"""name = "items"

[target]
url = "{url}"
{line}

[[sources]]
name = "items"
kind = "jsonl"
path = "items.jsonl"

[[tables]]
name = "items"
source = "items"
key = ["id"]
""",
        encoding="utf-8",
    )
    return path


def tables_in(url: str, schema: str) -> list[str]:
    return [
        r[0]
        for r in pg_rows(
            url,
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = '{schema}' ORDER BY table_name",
        )
    ]


# -- pg_schema -------------------------------------------------------------------------------


async def test_migrate_creates_the_schema_and_its_tables_there(tmp_path: Path, pg_url: str) -> None:
    plan = load_plan(write_plan(tmp_path, pg_url, "sales"))
    result = await migrate(plan)
    assert result.status == "completed"
    assert tables_in(pg_url, "sales") == ["items"]
    assert tables_in(pg_url, "public") == []
    assert pg_rows(pg_url, "SELECT count(*) FROM ferry.runs") == [(1,)]  # journal in ferry


async def test_verify_reads_the_schema(tmp_path: Path, pg_url: str) -> None:
    plan = load_plan(write_plan(tmp_path, pg_url, "sales"))
    await migrate(plan)
    pg_exec(pg_url, "CREATE TABLE public.items (id bigint PRIMARY KEY, name text)")
    result = await verify(plan)
    assert result.verdict == "PASS", result.to_dict()
    assert "sales" in result.target


async def test_a_preview_leaves_no_schema_behind(tmp_path: Path, pg_url: str) -> None:
    plan = load_plan(write_plan(tmp_path, pg_url, "sales"))
    result = await migrate(plan, preview=True)
    assert result.tables[0].inserted == 2
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sales'") == [(0,)]


async def test_rows_merge_into_an_existing_schemas_table(tmp_path: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "CREATE SCHEMA sales",
        "CREATE TABLE sales.items (id bigint PRIMARY KEY, name text, extra text)",
        "INSERT INTO sales.items VALUES (1, 'old', 'kept')",
    )
    result = await migrate(load_plan(write_plan(tmp_path, pg_url, "sales")))
    assert (result.tables[0].inserted, result.tables[0].updated) == (1, 1)
    assert pg_rows(pg_url, "SELECT id, name, extra FROM sales.items ORDER BY id") == [
        (1, "a", "kept"),
        (2, "b", None),
    ]


async def test_check_says_a_missing_schema_is_created_by_the_run(
    tmp_path: Path, pg_url: str
) -> None:
    report = await check_plan(load_plan(write_plan(tmp_path, pg_url, "sales")))
    assert report.ok, [i for i in report.items if not i.ok]
    assert any(
        i.ok and "schema sales" in i.detail and "creates it" in i.detail for i in report.items
    )
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_namespace WHERE nspname = 'sales'") == [(0,)]


def test_cli_target_profile_with_a_schema_migrates_and_verifies(
    tmp_path: Path, pg_url: str
) -> None:
    plan_file = write_plan(tmp_path, "sqlite:///app.db", None)
    assert ferry("profiles", "add", "staging", pg_url, "--pg-schema", "stage").exit_code == 0
    migrated = ferry("migrate", plan_file, "-q", "--target", "staging")
    assert migrated.exit_code == 0, migrated.output
    assert tables_in(pg_url, "stage") == ["items"]
    assert ferry("verify", plan_file, "--target", "staging").exit_code == 0
    assert not (tmp_path / "app.db").exists()


@pytest.mark.parametrize("name", ["ferry", "pg_temp", "information_schema", "two words", ""])
def test_a_schema_name_ferry_cannot_use_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="pg_schema"):
        TargetSpec(url="postgresql://u@h/db", pg_schema=name)


def test_pg_schema_on_a_sqlite_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="pg_schema"):
        load_plan(write_plan(tmp_path, "sqlite:///app.db", "sales"))


# -- the server's databases and schemas ---------------------------------------------------------


@pytest.fixture
def new_db_name(pg_server_url: str) -> Iterator[str]:
    name = f"connect21 New-{uuid.uuid4().hex[:6]}"
    yield name
    pg_exec(pg_server_url, f'DROP DATABASE IF EXISTS "{name}"')


def test_databases_are_listed_without_templates(pg_url: str) -> None:
    names = list_databases(TargetSpec(url=pg_url))
    assert pg_url.rsplit("/", 1)[1] in names
    assert "template0" not in names and "template1" not in names


def test_databases_are_listed_when_the_urls_database_does_not_exist(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/connect21_missing"
    assert pg_url.rsplit("/", 1)[1] in list_databases(TargetSpec(url=missing))


def test_schemas_exclude_the_system_and_ferrys_own(pg_url: str) -> None:
    pg_exec(pg_url, "CREATE SCHEMA sales", "CREATE SCHEMA ferry")
    assert list_schemas(TargetSpec(url=pg_url)) == ["public", "sales"]


def test_a_database_is_created_with_its_name_quoted(pg_url: str, new_db_name: str) -> None:
    spec = TargetSpec(url=pg_url)
    create_database(spec, new_db_name)
    assert new_db_name in list_databases(spec)


def test_creating_an_existing_database_says_so(pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    with pytest.raises(TargetError, match="already exists"):
        create_database(TargetSpec(url=pg_url), name)


def test_a_user_without_createdb_is_told_so(pg_url: str, new_db_name: str) -> None:
    role = f"connect21_{uuid.uuid4().hex[:6]}"
    pg_exec(pg_url, f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        limited = make_url(pg_url).set(username=role).render_as_string(hide_password=False)
        with pytest.raises(TargetError, match="may not create databases") as caught:
            create_database(TargetSpec(url=limited), new_db_name)
        assert "CREATEDB" in caught.value.hint
    finally:
        pg_exec(pg_url, f"DROP ROLE {role}")


async def test_a_user_who_may_not_create_the_schema_is_told_so(tmp_path: Path, pg_url: str) -> None:
    role = f"connect21_{uuid.uuid4().hex[:6]}"
    db = pg_url.rsplit("/", 1)[1]
    pg_exec(pg_url, f"CREATE ROLE {role} LOGIN", f'REVOKE CREATE ON DATABASE "{db}" FROM PUBLIC')
    try:
        limited = make_url(pg_url).set(username=role).render_as_string(hide_password=False)
        with pytest.raises(TargetError, match="may not create it") as caught:
            await migrate(load_plan(write_plan(tmp_path, limited, "sales")))
        assert "CREATE SCHEMA sales" in caught.value.hint
    finally:
        pg_exec(pg_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_rollback_restores_the_tables_in_the_schema(tmp_path: Path, pg_url: str) -> None:
    plan_file = write_plan(tmp_path, pg_url, "sales")
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    (tmp_path / "items.jsonl").write_text('{"id": 1, "name": "changed"}\n', encoding="utf-8")
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    assert pg_rows(pg_url, "SELECT name FROM sales.items WHERE id = 1") == [("changed",)]
    rolled = ferry("rollback", plan_file, "--yes")
    assert rolled.exit_code == 0, rolled.output
    assert pg_rows(pg_url, "SELECT id, name FROM sales.items ORDER BY id") == [(1, "a"), (2, "b")]
