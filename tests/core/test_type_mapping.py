"""Column types across databases (issue 17, item 4): SQLite declared types into PostgreSQL
and SQLite, PostgreSQL types into SQLite, collations, and the type choices ``ferry init``
writes and notes (docs/database-moves.md, "Types").

Real SQLite source files and the real PostgreSQL server.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from draftkit import draft, ferry
from fakesource import run, sqlite_exec, sqlite_rows
from pgkit import pg_exec, pg_rows

from ferry.plan import Plan, plan_from_dict
from ferry.scan.folder import scan_folder


def sqlite_plan(folder: Path, url: str, script: str, table: str = "t") -> Plan:
    sqlite_exec(folder / "app.db", script)
    return plan_from_dict(
        {
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [{"name": table, "source": f"app.{table}"}],
        },
        folder,
    )


def translated(plan: Plan) -> list[str]:
    return [o.line() for o in run(plan).schema_objects if o.status != "carried"]


# -- SQLite -> PostgreSQL ------------------------------------------------------------------


@pytest.mark.pg
def test_sqlite_types_are_named_as_translated_into_postgres(tmp_path: Path, pg_url: str) -> None:
    plan = sqlite_plan(
        tmp_path,
        pg_url,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, done BOOLEAN, at DATETIME, "
        "price NUMERIC(10,2), art BLOB, name VARCHAR(40));"
        "INSERT INTO t VALUES (1, 1, '2024-01-02 03:04:05', '1.50', x'00ff', 'a');",
    )

    assert translated(plan) == [
        "column type t.id: translated (INTEGER → bigint)",
        "column type t.done: translated (BOOLEAN 0/1 → boolean)",
        "column type t.at: translated (DATETIME → timestamptz)",
        "column type t.art: translated (BLOB → bytea)",
        "column type t.name: translated (VARCHAR(40) → text)",
    ]
    assert pg_rows(pg_url, "SELECT done, price::text, art FROM t") == [(True, "1.50", b"\x00\xff")]


@pytest.mark.pg
def test_a_declared_time_column_keeps_its_times_of_day(tmp_path: Path, pg_url: str) -> None:
    plan = sqlite_plan(
        tmp_path,
        pg_url,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, opens TIME);"
        "INSERT INTO t VALUES (1, '08:30:00'), (2, '17:00');",
    )

    result = run(plan)

    assert result.rejected_total == 0
    assert pg_rows(pg_url, "SELECT opens FROM t ORDER BY id") == [("08:30:00",), ("17:00",)]


@pytest.mark.pg
def test_nocase_becomes_citext_where_the_target_has_the_extension(
    tmp_path: Path, pg_url: str
) -> None:
    pg_exec(pg_url, "CREATE EXTENSION citext")
    plan = sqlite_plan(
        tmp_path,
        pg_url,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE);"
        "INSERT INTO t VALUES (1, 'Ada@Example.org');",
    )

    lines = translated(plan)

    assert "collation t.email: translated (COLLATE NOCASE → citext)" in lines
    assert pg_rows(pg_url, "SELECT id FROM t WHERE email = 'ada@example.org'") == [(1,)]


@pytest.mark.pg
def test_nocase_without_citext_is_named_as_not_carried(tmp_path: Path, pg_url: str) -> None:
    plan = sqlite_plan(
        tmp_path,
        pg_url,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE);"
        "INSERT INTO t VALUES (1, 'Ada@Example.org');",
    )

    lines = translated(plan)

    assert lines[-1] == (
        "collation t.email: not carried (COLLATE NOCASE: the column compares "
        "case-sensitively in PostgreSQL; run CREATE EXTENSION citext in the target database "
        "first to get a citext column)"
    )


# -- SQLite -> SQLite ----------------------------------------------------------------------


def test_nocase_stays_on_a_sqlite_target(tmp_path: Path) -> None:
    plan = sqlite_plan(
        tmp_path,
        "sqlite:///target.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE);"
        "INSERT INTO t VALUES (1, 'Ada@Example.org');",
    )
    run(plan)

    assert sqlite_rows(
        tmp_path / "target.db", "SELECT id FROM t WHERE email = 'ada@example.org'"
    ) == [(1,)]


# -- PostgreSQL -> SQLite ------------------------------------------------------------------


@pytest.mark.pg
def test_postgres_types_sqlite_lacks_become_text_and_are_named(tmp_path: Path, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id int PRIMARY KEY, ref uuid, tags text[], host inet, "
            "at timestamptz, doc jsonb);"
            "INSERT INTO t VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
            "'{a,b}', '10.0.0.1', '2024-01-02 03:04:05+00', '{\"k\": 1}')"
        )
    plan = plan_from_dict(
        {
            "target": {"url": "sqlite:///target.db"},
            "sources": [{"name": "db", "kind": "postgres", "url": pg_url}],
            "tables": [{"name": "t", "source": "db.t"}],
        },
        tmp_path,
    )

    assert translated(plan) == [
        "column type t.id: translated (integer → BIGINT)",
        "column type t.ref: translated (uuid → TEXT (kept as its text; SQLite does not check "
        "it as uuid))",
        "column type t.tags: translated (text[] → JSON)",
        "column type t.host: translated (inet → TEXT (kept as its text; SQLite does not check "
        "it as inet))",
        "column type t.at: translated (timestamp with time zone → DATETIME)",
        "column type t.doc: translated (jsonb → JSON)",
    ]
    assert sqlite_rows(tmp_path / "target.db", "SELECT ref, tags, host FROM t") == [
        ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", '["a","b"]', "10.0.0.1")
    ]


# -- what `ferry init` writes ----------------------------------------------------------------


def init_plan(folder: Path, script: str) -> Plan:
    (folder / "app").mkdir()
    sqlite_exec(folder / "app" / "app.db", script)
    return scan_folder(folder / "app", "sqlite:///target.db", plan_dir=folder).plan


def test_init_keeps_a_boolean_column_holding_2_as_integer_with_a_note(tmp_path: Path) -> None:
    plan = init_plan(
        tmp_path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN);"
        "INSERT INTO t VALUES (1, 0), (2, 1), (3, 2);",
    )

    (table,) = plan.tables
    assert table.types["flag"] == "integer"
    assert table.notes == [
        "column 'flag' is declared BOOLEAN but 1 values are not 0/1 (first: id=3: 2): kept "
        'as integer, not boolean (types.flag = "integer")'
    ]


def test_init_keeps_a_boolean_column_of_0_and_1_boolean(tmp_path: Path) -> None:
    plan = init_plan(
        tmp_path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, flag BOOLEAN, n INTEGER);"
        "INSERT INTO t VALUES (1, 0, 0), (2, 1, 1);",
    )

    (table,) = plan.tables
    assert (table.types["flag"], table.types["n"], table.notes) == ("boolean", "integer", [])


def test_init_keeps_a_boolean_column_of_t_and_f_boolean(tmp_path: Path) -> None:
    """Rails before 6 wrote 't'/'f' in SQLite's boolean columns: drafted as text, the app's
    booleans became the strings 't' and 'f' in PostgreSQL."""
    plan = init_plan(
        tmp_path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, admin boolean DEFAULT 'f');"
        "INSERT INTO t VALUES (1, 't'), (2, 'f'), (3, 'TRUE');",
    )

    (table,) = plan.tables
    assert (table.types["admin"], table.notes) == ("boolean", [])


def test_init_notes_a_text_column_holding_only_json_without_choosing_json(
    tmp_path: Path,
) -> None:
    plan = init_plan(
        tmp_path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, meta TEXT);"
        """INSERT INTO t VALUES (1, '{"a": 1}'), (2, '[1, 2]'), (3, NULL);""",
    )

    (table,) = plan.tables
    assert table.types["meta"] == "text"
    assert table.notes == [
        "column 'meta' holds only JSON objects or arrays (2 values): add types.meta = "
        '"json" and columns.meta = {from = "meta", parse_json = true} to store the documents '
        "as jsonb (PostgreSQL) or JSON (without parse_json each text is stored as one JSON "
        "string); it stays text because jsonb does not keep the text exactly (key order, "
        "spaces, duplicate keys)"
    ]


def test_t_and_f_become_postgres_booleans(tmp_path: Path, pg_url: str) -> None:
    plan = draft(
        tmp_path,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, admin boolean DEFAULT 'f');"
        "INSERT INTO users VALUES (1, 't'), (2, 'f');",
        pg_url,
    )
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    assert pg_rows(pg_url, "SELECT id, admin FROM users ORDER BY id") == [(1, True), (2, False)]
    assert ferry("verify", plan).exit_code == 0
