"""`ferry init postgresql://host/db` drafts a plan from a PostgreSQL database as it does from a
SQLite file: one postgres source, its tables with their keys, keyless tables keyed by their
data or appended, the schema to read when several hold tables, no password in the URL. The
draft runs as written. Real PostgreSQL server, real SQLite targets."""

from __future__ import annotations

import json
import sqlite3
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

import pgcluster
from ferry.cli.command import cli
from ferry.scan.workspace import default_workspace

APP = """
CREATE TABLE author (id serial PRIMARY KEY, name text NOT NULL UNIQUE,
                     born date DEFAULT current_date);
CREATE TABLE book (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL,
                   author_id int NOT NULL REFERENCES author (id) ON DELETE CASCADE,
                   price numeric(8, 2) DEFAULT 0);
CREATE TABLE review (book_id int REFERENCES book (id) ON DELETE CASCADE, stars int, body text);
CREATE TABLE tag (code text NOT NULL, label text);
CREATE VIEW cheap AS SELECT * FROM book WHERE price < 10;
INSERT INTO author (name) VALUES ('Ann'), ('Bob');
INSERT INTO book (title, author_id, price) VALUES ('A', 1, 5), ('B', 2, 15), ('C', 1, 7);
INSERT INTO review VALUES (1, 5, 'good'), (1, 5, 'good'), (2, 3, NULL);
INSERT INTO tag VALUES ('r', 'Rock'), ('j', 'Jazz');
"""


@pytest.fixture
def app_db(pg_server_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own holding the app's tables."""
    name = f"ferry_pgsrc_{uuid.uuid4().hex[:8]}"
    url = pgcluster.create_database(pg_server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(APP)  # type: ignore[arg-type]
    try:
        yield url
    finally:
        pgcluster.drop_database(pg_server_url, name)


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def drafted(plan: Path) -> dict[str, Any]:
    return tomllib.loads(plan.read_text())


def table(plan: Path, name: str) -> dict[str, Any]:
    return next(t for t in drafted(plan)["tables"] if t["name"] == name)


def test_init_drafts_one_postgres_source_with_the_database_tables(
    tmp_path: Path, app_db: str
) -> None:
    plan = tmp_path / "ferry.toml"
    result = ferry("init", app_db, "-o", plan)
    assert result.exit_code == 0, result.output
    found = drafted(plan)
    database = app_db.rsplit("/", 1)[1]
    assert found["sources"] == [{"name": database, "kind": "postgres", "url": app_db}]
    assert found["name"] == database
    assert [(t["name"], t["source"], t.get("key")) for t in found["tables"]] == [
        ("author", f"{database}.author", ["id"]),
        ("book", f"{database}.book", ["id"]),
        ("review", f"{database}.review", None),
        ("tag", f"{database}.tag", ["code"]),
    ]


def test_the_draft_of_a_postgres_database_runs_and_the_app_inserts_without_ids(
    tmp_path: Path, app_db: str
) -> None:
    plan = tmp_path / "ferry.toml"
    target = tmp_path / "out.db"
    assert ferry("init", app_db, "--target", f"sqlite:///{target}", "-o", plan).exit_code == 0
    result = ferry("migrate", plan, "-q")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        author = conn.execute("INSERT INTO author (name) VALUES ('Cy') RETURNING id").fetchone()
        book = conn.execute(
            "INSERT INTO book (title, author_id) VALUES ('D', 3) RETURNING id, price"
        ).fetchone()
        conn.execute("DELETE FROM author WHERE id = 1")
        titles = conn.execute("SELECT title FROM book ORDER BY id").fetchall()
    conn.close()
    assert (author, book) == ((3,), (4, 0))
    assert titles == [("B",), ("D",)]


def test_init_of_a_postgres_database_writes_the_plan_into_a_new_workspace(app_db: str) -> None:
    # no -o: the plan goes into the database's own workspace, made once the draft is good
    result = ferry("init", app_db, "--json")

    assert result.exit_code == 0, result.output
    plan = Path(json.loads(result.stdout)["plan"])
    assert plan.parent == default_workspace(app_db)
    assert drafted(plan)["sources"][0]["kind"] == "postgres"


def test_a_keyless_postgres_table_is_drafted_append_with_its_identical_rows_named(
    tmp_path: Path, app_db: str
) -> None:
    plan = tmp_path / "ferry.toml"
    assert ferry("init", app_db, "-o", plan).exit_code == 0
    review = table(plan, "review")
    assert review["mode"] == "append"
    assert review["notes"][1] == (
        "1 rows are identical in every column to another row (loaded as they are; "
        "first: book_id=1, stars=5, body='good')"
    )


def test_a_keyless_postgres_table_gets_the_key_its_data_offers(tmp_path: Path, app_db: str) -> None:
    plan = tmp_path / "ferry.toml"
    assert ferry("init", app_db, "-o", plan).exit_code == 0
    assert table(plan, "tag")["notes"] == [
        "tag has no primary key: key = ['code'] (NOT NULL, 2 distinct values in 2 rows)"
    ]


def test_init_names_the_views_of_a_postgres_source_it_does_not_carry(
    tmp_path: Path, app_db: str
) -> None:
    plan = tmp_path / "ferry.toml"
    result = ferry("init", app_db, "-o", plan)
    assert result.exit_code == 0, result.output
    assert (
        "# note: views not carried: cheap (a PostgreSQL source's views are not created in "
        "the target: recreate them there after the move if the app reads them)"
    ) in plan.read_text()


def test_init_refuses_a_postgres_url_with_a_password(tmp_path: Path, app_db: str) -> None:
    secret = app_db.replace("://", "://postgres:s3cret@", 1).replace("postgres@", "", 1)
    plan = tmp_path / "ferry.toml"
    result = ferry("init", secret, "-o", plan)
    assert result.exit_code == 2
    assert "the source URL holds a password" in result.output
    assert "FERRY_SOURCE_PASSWORD" in result.output
    assert "s3cret" not in result.output
    assert not plan.exists()


def other_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA audit; CREATE TABLE audit.entry (id int PRIMARY KEY, what text)"
        )
        conn.execute("INSERT INTO audit.entry VALUES (1, 'login')")
        # Ferry's journal schema is never offered as the app's
        conn.execute("CREATE SCHEMA ferry; CREATE TABLE ferry.ferry_runs (run_id text)")


def test_init_names_the_other_schemas_that_hold_tables(tmp_path: Path, app_db: str) -> None:
    other_schema(app_db)
    plan = tmp_path / "ferry.toml"
    result = ferry("init", app_db, "-o", plan)
    assert result.exit_code == 0, result.output
    remark = (
        "read schema public; other schemas hold tables too: audit (1 table) "
        "(ferry init URL --source-schema audit drafts one of those)"
    )
    assert f"# note: {remark}" in plan.read_text()
    assert remark in " ".join(result.output.split())


def test_init_with_a_source_schema_drafts_that_schema_and_the_plan_reads_it(
    tmp_path: Path, app_db: str
) -> None:
    other_schema(app_db)
    plan = tmp_path / "ferry.toml"
    result = ferry("init", app_db, "--source-schema", "audit", "-o", plan)
    assert result.exit_code == 0, result.output
    found = drafted(plan)
    assert found["sources"][0]["url"] == f"{app_db}?options=-csearch_path%3Daudit"
    assert [t["name"] for t in found["tables"]] == ["entry"]
    result = ferry("migrate", plan, "-q")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        rows = conn.execute("SELECT id, what FROM entry").fetchall()
    conn.close()
    assert rows == [(1, "login")]


def test_init_of_a_database_without_tables_on_its_search_path_names_the_schemas(
    tmp_path: Path, pg_url: str
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop; CREATE TABLE shop.item (id int PRIMARY KEY)")
    plan = tmp_path / "ferry.toml"
    result = ferry("init", pg_url, "-o", plan)
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "has no tables on its search path; schemas with tables: shop (1 table)" in text
    assert "ferry init URL --source-schema shop" in text
    assert not plan.exists()


def test_a_source_schema_for_a_folder_is_refused(tmp_path: Path) -> None:
    result = ferry("init", tmp_path, "--source-schema", "audit", "-o", tmp_path / "ferry.toml")
    assert result.exit_code == 2
    assert "--source-schema is for a PostgreSQL database" in result.output
