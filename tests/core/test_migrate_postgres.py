"""Migrating into a PostgreSQL target (ferry.migrate with ferry.targets.postgres).

Every test gets a fresh empty database from the ``pg_url`` fixture (tests/conftest.py).
Sources are in-memory fakes (tests/core/fakesource.py). What a SQLite target does the same
way is in tests/core/contract/test_migrate_contract.py, run against both.
"""

from __future__ import annotations

import json
import socket
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fakesource import TYPED_ROWS, FakeTable, counts, install, make_plan, run
from pgkit import pg_exec, pg_rows, pg_tables

from ferry.errors import (
    ConflictError,
    FerryError,
    RejectedRowsError,
    TargetError,
)
from ferry.load.journal import journal_tables
from ferry.plan import Plan
from ferry.sources.base import ParentLink
from ferry.targets.postgres import explain_connect_error

#: Ferry's journal in this test's target (ferry.load.journal)
RUNS = journal_tables("postgresql")[0]

pytestmark = pytest.mark.pg

SECRET = "Sup3r-S3cret-P4ss"


# -- helpers ------------------------------------------------------------------------------


def pg_columns(url: str, table: str) -> list[tuple[str, str, str]]:
    """(name, data type, nullable) of each column, in order."""
    rows = pg_rows(
        url,
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        f"WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position",
    )
    return [(r[0], r[1], r[2]) for r in rows]


def pg_content(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except Ferry's journal, sorted (for before/after checks)."""
    result = {}
    for name in pg_tables(url):
        if name != RUNS:
            quoted = '"' + name.replace('"', '""') + '"'
            result[name] = sorted(pg_rows(url, f"SELECT * FROM {quoted}"), key=repr)
    return result


def plan_for(url: str, tmp_path: Path, source: str = "src", **table: Any) -> Plan:
    name = table.pop("name", "t")
    return make_plan(url, [{"name": name, "source": source, **table}], tmp_path)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def full_text(exc: BaseException) -> str:
    """Everything a user or a log could see of an error."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    if isinstance(exc, FerryError):
        parts += [exc.message, exc.hint, exc.details]
    return "\n".join(parts)


# -- a table Ferry creates ----------------------------------------------------------------


def test_created_table_has_the_inferred_types(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    result = run(plan_for(pg_url, tmp_path))
    assert pg_columns(pg_url, "t") == [
        ("id", "bigint", "NO"),
        ("big", "bigint", "YES"),
        ("neg", "bigint", "YES"),
        ("f", "double precision", "YES"),
        ("flag", "boolean", "YES"),
        ("ts", "timestamp with time zone", "YES"),
        ("meta", "jsonb", "YES"),
        ("blob", "bytea", "YES"),
        ("nothing", "text", "YES"),
        ("name", "text", "YES"),
    ]
    assert result.table("t").counts() == counts(read=4, inserted=4)


def test_created_table_holds_the_cast_values(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    run(plan_for(pg_url, tmp_path))
    assert pg_rows(pg_url, "SELECT * FROM t ORDER BY id") == [
        (
            1,
            9223372036854775807,
            -9223372036854775808,
            1.5,
            True,
            datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
            {"a": [1, "é"]},
            b"\x00\xff",
            None,
            "Ada",
        ),
        (
            2,
            1099511627776,
            -1,
            2.0,
            False,
            datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            [1, 2],
            b"",
            None,
            None,
        ),
        (
            3,
            0,
            0,
            -0.25,
            None,
            datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC),
            "just text",
            None,
            None,
            "Ünïcode ✓",
        ),
        (
            4,
            None,
            None,
            None,
            True,
            datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC),
            None,
            b"x",
            None,
            "",
        ),
    ]


def test_epoch_and_boolean_words(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    rows = [
        {"id": 1, "at": 1714557600, "active": 0},
        {"id": 2, "at": 1714557600123, "active": 1},
        {"id": 3, "at": "1714557600", "active": "yes"},
        {"id": 4, "at": None, "active": "false"},
    ]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    run(plan_for(pg_url, tmp_path, types={"at": "timestamp", "active": "boolean"}))
    assert pg_rows(pg_url, "SELECT at, active FROM t ORDER BY id") == [
        (datetime(2024, 5, 1, 10, 0, tzinfo=UTC), False),
        (datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC), True),
        (datetime(2024, 5, 1, 10, 0, tzinfo=UTC), True),
        (None, False),
    ]


def test_nested_child_table_gets_a_foreign_key(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    install(
        monkeypatch,
        {
            "jobs": FakeTable([{"id": "a"}], key=("id",)),
            "jobs.steps": FakeTable(
                [{"jobs_id": "a", "position": 0}, {"jobs_id": "zz", "position": 0}],
                key=("jobs_id", "position"),
                parent=ParentLink("jobs", ("jobs_id",), ("id",)),
            ),
        },
    )
    plan = make_plan(
        pg_url,
        [{"name": "steps", "source": "jobs.steps"}, {"name": "jobs", "source": "jobs"}],
        tmp_path,
    )
    result = run(plan)
    assert pg_rows(pg_url, "SELECT * FROM steps") == [("a", 0)]
    assert [(r.key, r.reason) for r in result.rejects] == [
        (
            "jobs_id='zz', position=0",
            'insert or update on table "steps" violates foreign key constraint '
            '"steps_jobs_id_fkey"',
        )
    ]


# -- an existing app schema ---------------------------------------------------------------

APP_SCHEMA = """
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key text NOT NULL UNIQUE,
    name varchar(20) NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz
);
"""

LEGACY_USERS = [
    {"login": "ada", "full_name": "Ada", "active": False, "created_at": "2024-01-02T03:04:05Z"},
    {"login": "bob", "full_name": "Bob", "active": True},
]


def users_plan(url: str, tmp_path: Path) -> Plan:
    return plan_for(
        url,
        tmp_path,
        "legacy",
        name="users",
        key=["key"],
        columns={"key": "login", "name": "full_name"},
    )


def test_maps_into_an_existing_table_with_an_identity_id(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, APP_SCHEMA)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    result = run(users_plan(pg_url, tmp_path))
    assert pg_rows(pg_url, "SELECT * FROM users ORDER BY id") == [
        (1, "ada", "Ada", False, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (2, "bob", "Bob", True, None),
    ]
    assert result.ddl == []
    assert result.table("users").counts() == counts(read=2, inserted=2)


def test_update_by_natural_key_keeps_the_serial_id(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE users (id serial PRIMARY KEY, key text NOT NULL UNIQUE, name text NOT NULL);"
        "INSERT INTO users (key, name) VALUES ('zed', 'Zed'), ('ada', 'Old Ada');",
    )
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    result = run(users_plan(pg_url, tmp_path))
    assert pg_rows(pg_url, "SELECT id, key, name FROM users ORDER BY id") == [
        (1, "zed", "Zed"),
        (2, "ada", "Ada"),
        (3, "bob", "Bob"),
    ]
    assert result.table("users").counts() == counts(read=2, inserted=1, updated=1)


def test_value_too_long_for_varchar_is_rejected(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, APP_SCHEMA)
    rows = [*LEGACY_USERS, {"login": "long", "full_name": "x" * 21}]
    install(monkeypatch, {"legacy": FakeTable(rows)})
    result = run(users_plan(pg_url, tmp_path))
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("key='long'", "value too long for type character varying(20)")
    ]
    assert pg_rows(pg_url, "SELECT key FROM users ORDER BY id") == [("ada",), ("bob",)]


def test_number_out_of_range_for_the_column_is_rejected(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, n smallint)")
    install(monkeypatch, {"src": FakeTable([{"id": 1, "n": 5}, {"id": 2, "n": 70000}])})
    result = run(plan_for(pg_url, tmp_path))
    assert [(r.key, r.reason) for r in result.rejects] == [("id=2", "smallint out of range")]
    assert pg_rows(pg_url, "SELECT * FROM t") == [(1, 5)]


# -- schema.sql ---------------------------------------------------------------------------

SCHEMA_SQL = """
-- The app's own schema.
CREATE TABLE users (key text PRIMARY KEY, name text, added_by_schema_sql text);
CREATE TABLE audit (id serial PRIMARY KEY, sku text, note text);
CREATE TABLE items (sku text PRIMARY KEY, qty integer NOT NULL CHECK (qty >= 0));
CREATE FUNCTION items_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- semicolons inside the body must not split the statement
    INSERT INTO audit (sku, note) VALUES (NEW.sku, 'added; by trigger');
    RETURN NEW;
END;
$$;
CREATE TRIGGER items_audit AFTER INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION items_audit();
"""


def test_schema_sql_with_a_dollar_quoted_function_creates_missing_tables(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "schema.sql").write_text(SCHEMA_SQL, encoding="utf-8")
    pg_exec(pg_url, "CREATE TABLE users (key text PRIMARY KEY, name text)")
    install(
        monkeypatch,
        {
            "users": FakeTable([{"key": "ada", "name": "Ada"}], key=("key",)),
            "items": FakeTable(
                [{"sku": "A1", "qty": 3}, {"sku": "B2", "qty": -1}, {"sku": "C3", "qty": 0}],
                key=("sku",),
            ),
        },
    )
    plan = make_plan(
        pg_url,
        [{"name": "users", "source": "users"}, {"name": "items", "source": "items"}],
        tmp_path,
        target={"schema": "schema.sql"},
    )
    result = run(plan)
    assert [c[0] for c in pg_columns(pg_url, "users")] == ["key", "name"]
    assert pg_columns(pg_url, "items") == [("sku", "text", "NO"), ("qty", "integer", "NO")]
    assert [s.split("(")[0].split("\n")[0].strip() for s in result.ddl] == [
        "CREATE TABLE audit",
        "CREATE TABLE items",
        "CREATE FUNCTION items_audit",
        "CREATE TRIGGER items_audit AFTER INSERT ON items",
    ]
    assert pg_rows(pg_url, "SELECT sku, note FROM audit ORDER BY id") == [
        ("A1", "added; by trigger"),
        ("C3", "added; by trigger"),
    ]
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("sku='B2'", 'new row for relation "items" violates check constraint "items_qty_check"')
    ]


def test_schema_sql_is_not_applied_when_no_table_is_missing(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "schema.sql").write_text(SCHEMA_SQL, encoding="utf-8")
    pg_exec(pg_url, "CREATE TABLE users (key text PRIMARY KEY, name text)")
    install(monkeypatch, {"users": FakeTable([{"key": "ada", "name": "Ada"}], key=("key",))})
    plan = make_plan(
        pg_url, [{"name": "users", "source": "users"}], tmp_path, target={"schema": "schema.sql"}
    )
    result = run(plan)
    assert result.ddl == []
    assert pg_tables(pg_url) == ["users"]  # Ferry's journal is in its own schema


def test_schema_sql_error_leaves_the_database_unchanged(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE items (sku text PRIMARY KEY);\nCREATE TABLEX oops (x int);\n",
        encoding="utf-8",
    )
    install(monkeypatch, {"items": FakeTable([{"sku": "A1"}], key=("sku",))})
    plan = make_plan(
        pg_url, [{"name": "items", "source": "items"}], tmp_path, target={"schema": "schema.sql"}
    )
    with pytest.raises(TargetError) as caught:
        run(plan)
    assert caught.value.message == (
        f'{tmp_path / "schema.sql"}: statement 2 failed: syntax error at or near "TABLEX"'
    )
    assert pg_tables(pg_url) == []


# -- idempotence --------------------------------------------------------------------------


def test_json_column_of_type_json_compares_by_value(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE t (id int PRIMARY KEY, meta json);"
        """INSERT INTO t VALUES (1, '{ "a" : [1, 2] }');""",
    )
    install(monkeypatch, {"src": FakeTable([{"id": 1, "meta": {"a": [1, 2]}}])})
    result = run(plan_for(pg_url, tmp_path))
    assert result.table("t").counts() == counts(read=1, unchanged=1)


# -- conflict rules -----------------------------------------------------------------------

NOTES_SCHEMA = """
CREATE TABLE notes (id text PRIMARY KEY, body text, updated_at timestamptz);
INSERT INTO notes VALUES ('a', 'target a', '2024-06-01 00:00:00+00'),
                         ('b', 'target b', '2024-01-01 00:00:00+00'),
                         ('z', 'target z', '2024-01-01 00:00:00+00');
"""

NOTES_SOURCE = [
    {"id": "a", "body": "source a", "updated_at": "2024-03-01T02:00:00+02:00"},
    {"id": "b", "body": "source b", "updated_at": "2024-03-01T00:00:00Z"},
    {"id": "c", "body": "source c", "updated_at": "2024-03-01T00:00:00Z"},
]


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> str:
    pg_exec(pg_url, NOTES_SCHEMA)
    install(monkeypatch, {"notes": FakeTable(NOTES_SOURCE)})
    return pg_url


def bodies(url: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in pg_rows(url, "SELECT id, body FROM notes ORDER BY id")]


def notes_plan(url: str, tmp_path: Path, **table: Any) -> Plan:
    return plan_for(url, tmp_path, "notes", name="notes", **table)


# -- rejected rows ------------------------------------------------------------------------

CONSTRAINED_SCHEMA = """
CREATE TABLE parents (id text PRIMARY KEY);
INSERT INTO parents VALUES ('p1');
CREATE TABLE items (
    sku text PRIMARY KEY,
    title text NOT NULL,
    qty integer CHECK (qty >= 0),
    parent text REFERENCES parents (id)
);
"""

CONSTRAINED_ROWS = [
    {"sku": "ok", "title": "Fine", "qty": 1, "parent": "p1"},
    {"sku": "neg", "title": "Negative", "qty": -1, "parent": "p1"},
    {"sku": "untitled", "title": None, "qty": 1, "parent": "p1"},
    {"sku": "orphan", "title": "Orphan", "qty": 1, "parent": "p9"},
    {"sku": "badqty", "title": "Bad", "qty": "many", "parent": None},
    {"sku": "ok2", "title": "Also fine", "qty": 0, "parent": None},
]


def test_rejects_keep_the_database_reason_and_the_rest_loads(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, CONSTRAINED_SCHEMA)
    install(monkeypatch, {"items": FakeTable(CONSTRAINED_ROWS)})
    result = run(plan_for(pg_url, tmp_path, "items", name="items"))
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("sku='badqty'", "column 'qty': 'many' is not a whole number"),
        ("sku='neg'", 'new row for relation "items" violates check constraint "items_qty_check"'),
        (
            "sku='untitled'",
            'null value in column "title" of relation "items" violates not-null constraint',
        ),
        (
            "sku='orphan'",
            'insert or update on table "items" violates foreign key constraint "items_parent_fkey"',
        ),
    ]
    assert pg_rows(pg_url, "SELECT sku FROM items ORDER BY sku") == [("ok",), ("ok2",)]
    assert result.table("items").counts() == counts(read=6, inserted=2, rejected=4)


def test_on_reject_stop_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, CONSTRAINED_SCHEMA)
    before = pg_content(pg_url)
    install(monkeypatch, {"items": FakeTable([CONSTRAINED_ROWS[0], CONSTRAINED_ROWS[1]])})
    with pytest.raises(RejectedRowsError) as caught:
        run(plan_for(pg_url, tmp_path, "items", name="items", on_reject="stop"))
    assert caught.value.message == (
        "table items: row sku='neg' was rejected: "
        'new row for relation "items" violates check constraint "items_qty_check"'
    )
    assert pg_content(pg_url) == before
    assert pg_tables(pg_url) == ["items", "parents"]


# -- journal and preview ------------------------------------------------------------------


def test_journal_row_per_committed_run_and_none_for_preview(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    install(monkeypatch, {"src": FakeTable([{"id": 1}, {"id": 2}], key=("id",))})
    plan = plan_for(pg_url, tmp_path)
    run(plan, preview=True)
    assert pg_tables(pg_url) == []
    first = run(plan)
    run(plan, preview=True)
    rows = pg_rows(pg_url, f"SELECT run_id, mode, status, plan_hash, tables FROM {RUNS}")
    assert [r[:4] for r in rows] == [(first.run_id, "migrate", "completed", plan.digest())]
    assert json.loads(rows[0][4]) == {"t": counts(read=2, inserted=2)}


# -- cancel -------------------------------------------------------------------------------


# -- awkward names ------------------------------------------------------------------------

EVIL = 'x"); DROP TABLE t; --'


def test_keyword_and_quote_column_names(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    rows = [
        {"id": 1, "order": 10, "select": "a", EVIL: "evil", "User Name": "Ada"},
        {"id": 2, "order": 20, "select": "b", EVIL: None, "User Name": None},
    ]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    plan = plan_for(pg_url, tmp_path, name="group")
    run(plan)
    assert [c[0] for c in pg_columns(pg_url, "group")] == [
        "id",
        "order",
        "select",
        EVIL,
        "User Name",
    ]
    assert pg_rows(pg_url, 'SELECT * FROM "group" ORDER BY id') == [
        (1, 10, "a", "evil", "Ada"),
        (2, 20, "b", None, None),
    ]
    assert run(plan).table("group").counts() == counts(read=2, unchanged=2)


# -- connection problems and secrets ------------------------------------------------------


def test_unreachable_server_is_connection_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = closed_port()
    install(monkeypatch, {"src": FakeTable([{"id": 1}], key=("id",))})
    plan = plan_for(f"postgresql://app@127.0.0.1:{port}/app", tmp_path)
    with pytest.raises(TargetError) as caught:
        run(plan)
    assert caught.value.message == (
        f"cannot connect to PostgreSQL at app@127.0.0.1:{port}/app (connection refused)"
    )
    assert caught.value.hint == "Is the server running and listening on that host and port?"


def test_missing_database(monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path) -> None:
    url = pg_url.rsplit("/", 1)[0] + "/ferry_no_such_db"
    install(monkeypatch, {"src": FakeTable([{"id": 1}], key=("id",))})
    with pytest.raises(TargetError) as caught:
        run(plan_for(url, tmp_path))
    assert caught.value.message.endswith("/ferry_no_such_db: the database does not exist")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            'FATAL:  password authentication failed for user "app"',
            "PostgreSQL at app@db:5432/app refused the password",
        ),
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            "fe_sendauth: no password supplied",
            "PostgreSQL at app@db:5432/app refused the password",
        ),
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            'FATAL:  database "app" does not exist',
            "PostgreSQL at app@db:5432/app: the database does not exist",
        ),
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
            "connections?",
            "cannot connect to PostgreSQL at app@db:5432/app (connection refused)",
        ),
        (
            'connection failed: connection to server at "10.1.2.3", port 5432 failed: '
            "timeout expired",
            "PostgreSQL at app@db:5432/app did not answer in time",
        ),
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
            'FATAL:  role "app" does not exist',
            "cannot connect to PostgreSQL at app@db:5432/app: connection failed: connection to "
            'server at "127.0.0.1", port 5432 failed: FATAL:  role "app" does not exist',
        ),
    ],
)
def test_explain_connect_error(message: str, expected: str) -> None:
    assert explain_connect_error(message, "app@db:5432/app").message == expected


def test_refused_password_hint_names_the_ways_to_give_one() -> None:
    error = explain_connect_error(
        'FATAL:  password authentication failed for user "app"', "app@db:5432/app"
    )
    assert error.hint == (
        "Set FERRY_PASSWORD (or the variable named by password_env), store it with "
        "`ferry password set URL`, or add it to ~/.pgpass."
    )


def test_password_never_appears_in_a_connection_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FERRY_PASSWORD", SECRET)
    install(monkeypatch, {"src": FakeTable([{"id": 1}], key=("id",))})
    plan = plan_for(f"postgresql://app@127.0.0.1:{closed_port()}/app", tmp_path)
    with pytest.raises(TargetError) as caught:
        run(plan)
    assert SECRET not in full_text(caught.value)


def test_password_never_appears_in_an_error_during_the_run(
    monkeypatch: pytest.MonkeyPatch, notes: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("FERRY_PASSWORD", SECRET)  # trust auth: accepted and ignored
    with pytest.raises(ConflictError) as caught:
        run(notes_plan(notes, tmp_path, conflict="error"))
    assert SECRET not in full_text(caught.value)


def test_password_never_appears_in_a_statement_error(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("FERRY_PASSWORD", SECRET)
    (tmp_path / "schema.sql").write_text("CREATE TABLEX oops (x int);\n", encoding="utf-8")
    install(monkeypatch, {"items": FakeTable([{"sku": "A1"}], key=("sku",))})
    plan = make_plan(
        pg_url, [{"name": "items", "source": "items"}], tmp_path, target={"schema": "schema.sql"}
    )
    with pytest.raises(TargetError) as caught:
        run(plan)
    assert SECRET not in full_text(caught.value)


def test_password_never_appears_in_the_run_result(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("FERRY_PASSWORD", SECRET)
    install(monkeypatch, {"src": FakeTable([{"id": 1}], key=("id",))})
    result = run(plan_for(pg_url, tmp_path))
    assert SECRET not in json.dumps(result.to_dict())
    assert result.target.startswith("postgres@127.0.0.1:")


# -- values the column type refuses -------------------------------------------------------


def test_values_a_column_type_refuses_are_rejected_and_the_rest_loads(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(
        pg_url,
        "CREATE TYPE state AS ENUM ('new', 'done');"
        "CREATE TABLE t (id int PRIMARY KEY, s state, u uuid, price numeric(5, 2), note text)",
    )
    rows = [
        {"id": 1, "s": "new", "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "price": 1.5},
        {"id": 2, "s": "bogus"},
        {"id": 3, "u": "not-a-uuid"},
        {"id": 4, "price": 123456},
        {"id": 5, "note": "nul\x00inside"},
        {"id": 6, "s": "done", "note": "fine"},
    ]
    install(monkeypatch, {"src": FakeTable(rows)})
    plan = make_plan(pg_url, [{"name": "t", "source": "src"}], tmp_path, options={"batch_size": 4})
    result = run(plan)
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("id=2", 'invalid input value for enum state: "bogus"'),
        ("id=3", 'invalid input syntax for type uuid: "not-a-uuid"'),
        ("id=4", "numeric field overflow"),
        ("id=5", "PostgreSQL text fields cannot contain NUL (0x00) bytes"),
    ]
    assert result.rejects[0].row == {"id": 2, "s": "bogus", "u": None, "price": None, "note": None}
    assert pg_rows(pg_url, "SELECT id, s::text, price::text, note FROM t ORDER BY id") == [
        (1, "new", "1.50", None),
        (6, "done", None, "fine"),
    ]
    assert result.table("t").counts() == counts(read=6, inserted=2, rejected=4)
    assert run(plan).table("t").counts() == counts(read=6, unchanged=2, rejected=4)


def test_refused_value_with_on_reject_stop_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, "CREATE TABLE t (id int PRIMARY KEY, u uuid)")
    install(monkeypatch, {"src": FakeTable([{"id": 1, "u": None}, {"id": 2, "u": "x"}])})
    with pytest.raises(RejectedRowsError) as caught:
        run(plan_for(pg_url, tmp_path, on_reject="stop"))
    assert caught.value.message == (
        'table t: row id=2 was rejected: invalid input syntax for type uuid: "x"'
    )
    assert pg_content(pg_url) == {"t": []}


# -- time zones ---------------------------------------------------------------------------


def test_aware_timestamps_go_into_a_timestamp_column_as_utc(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    pg_exec(pg_url, "CREATE TABLE t (id int PRIMARY KEY, ts timestamp, tz timestamptz)")
    rows = [
        {"id": 1, "ts": "2024-05-01T12:00:00+02:00", "tz": "2024-05-01T12:00:00+02:00"},
        {"id": 2, "ts": "2024-05-01 12:00:00", "tz": "2024-05-01 12:00:00"},
    ]
    install(monkeypatch, {"src": FakeTable(rows)})
    run(plan_for(pg_url, tmp_path))
    assert pg_rows(pg_url, "SELECT ts, tz FROM t ORDER BY id") == [
        (datetime(2024, 5, 1, 10, 0), datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        (datetime(2024, 5, 1, 12, 0), datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
    ]


def test_naive_source_timestamps_are_in_the_plan_time_zone(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    install(monkeypatch, {"src": FakeTable([{"id": 1, "ts": "2024-05-01 12:00:00"}], key=("id",))})
    plan = make_plan(
        pg_url, [{"name": "t", "source": "src"}], tmp_path, options={"timezone": "Europe/Berlin"}
    )
    run(plan)
    assert pg_rows(pg_url, "SELECT ts FROM t") == [(datetime(2024, 5, 1, 10, 0, tzinfo=UTC),)]
    assert run(plan).table("t").counts() == counts(read=1, unchanged=1)


# -- names PostgreSQL cannot hold ---------------------------------------------------------


def test_a_name_longer_than_63_bytes_is_shortened_deterministically(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    long_name = "a_very_long_field_name_" + "x" * 41
    install(monkeypatch, {"src": FakeTable([{"id": 1, long_name: 1}], key=("id",))})
    run(plan_for(pg_url, tmp_path))
    # Its first 54 bytes and 8 hex digits of its SHA-256: PostgreSQL's 63 bytes.
    short = "a_very_long_field_name_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx_5aeca909"
    assert [c[0] for c in pg_columns(pg_url, "t")] == ["id", short]
    assert pg_rows(pg_url, f"SELECT {short} FROM t") == [(1,)]


def test_schema_sql_skips_objects_that_already_exist(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "schema.sql").write_text(SCHEMA_SQL, encoding="utf-8")
    # Everything but `users` exists already: function and trigger included.
    users = "CREATE TABLE users (key text PRIMARY KEY, name text, added_by_schema_sql text);"
    pg_exec(pg_url, SCHEMA_SQL.replace(users, ""))
    install(monkeypatch, {"users": FakeTable([{"key": "ada", "name": "Ada"}], key=("key",))})
    plan = make_plan(
        pg_url, [{"name": "users", "source": "users"}], tmp_path, target={"schema": "schema.sql"}
    )
    result = run(plan)
    assert [s.split("(")[0].splitlines()[-1] for s in result.ddl] == ["CREATE TABLE users "]
    assert pg_tables(pg_url) == ["audit", "items", "users"]
    assert [c[0] for c in pg_columns(pg_url, "users")] == ["key", "name", "added_by_schema_sql"]


def test_schema_sql_with_a_percent_sign_is_applied_as_written(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE tags (key text PRIMARY KEY, CHECK (key NOT LIKE '%!%'));", encoding="utf-8"
    )
    rows = [{"key": "ok"}, {"key": "no!"}]
    install(monkeypatch, {"tags": FakeTable(rows, key=("key",))})
    plan = make_plan(
        pg_url, [{"name": "tags", "source": "tags"}], tmp_path, target={"schema": "schema.sql"}
    )
    result = run(plan)
    assert pg_rows(pg_url, "SELECT key FROM tags") == [("ok",)]
    assert [r.key for r in result.rejects] == ["key='no!'"]
