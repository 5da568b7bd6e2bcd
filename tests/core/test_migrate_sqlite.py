"""Migrating into a SQLite target (ferry.migrate with ferry.targets.sqlite).

Sources are in-memory fakes (tests/core/fakesource.py), so these tests exercise the engine
only: schema creation, mapping, the staged merge, conflict rules, rejects, preview, cancel,
the journal and the errors a bad target gives. What a PostgreSQL target does the same way is
in tests/core/contract/test_migrate_contract.py, run against both.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakesource import (
    TYPED_ROWS,
    FakeTable,
    counts,
    install,
    make_plan,
    run,
    sha256,
    sqlite_exec,
    sqlite_rows,
)

import ferry.targets.sqlite
from ferry.errors import (
    Cancelled,
    FerryError,
    PlanError,
    RejectedRowsError,
    SourceError,
    TargetError,
)
from ferry.events import (
    CancelToken,
    Event,
    RowRejected,
    RunWarning,
    StepStarted,
    TableFinished,
    TableProgress,
)
from ferry.load.journal import journal_tables
from ferry.migrate import Reject
from ferry.plan import Plan, plan_from_dict
from ferry.sources.base import Batch, ParentLink
from ferry.values.logical import INT64_MAX, INT64_MIN

#: Ferry's journal in this test's target (ferry.load.journal)
RUNS, REJECTS = journal_tables("sqlite")

ALL_SAME = {"inserted": 0, "updated": 0, "conflicts": 0, "rejected": 0, "deleted": 0}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "app.db"


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def columns_of(path: Path, table: str) -> list[tuple[str, str, int, int]]:
    """(name, declared type, notnull, pk position) of each column."""
    rows = sqlite_rows(
        path, f"SELECT name, type, \"notnull\", pk FROM pragma_table_info('{table}')"
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def content(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table except Ferry's journal, sorted (for before/after checks)."""
    names = [
        r[0]
        for r in sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if r[0] != RUNS
    ]
    quoted = {n: '"' + n.replace('"', '""') + '"' for n in names}
    return {n: sorted(sqlite_rows(path, f"SELECT * FROM {quoted[n]}"), key=repr) for n in names}


def simple_plan(db: Path, **table: Any) -> Plan:
    return make_plan(url(db), [{"name": "t", "source": "src", **table}], db.parent)


# -- a table Ferry creates from the data --------------------------------------------------


def test_created_table_has_the_inferred_types(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    result = run(simple_plan(db))
    assert columns_of(db, "t") == [
        ("id", "BIGINT", 1, 1),
        ("big", "BIGINT", 0, 0),
        ("neg", "BIGINT", 0, 0),
        ("f", "FLOAT", 0, 0),
        ("flag", "BOOLEAN", 0, 0),
        ("ts", "DATETIME", 0, 0),
        ("meta", "JSON", 0, 0),
        ("blob", "BLOB", 0, 0),
        ("nothing", "TEXT", 0, 0),
        ("name", "TEXT", 0, 0),
    ]
    assert result.table("t").created is True
    assert result.table("t").counts() == counts(read=4, inserted=4)


def test_created_table_holds_the_cast_values(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    run(simple_plan(db))
    assert sqlite_rows(db, "SELECT * FROM t ORDER BY id") == [
        (
            1,
            9223372036854775807,
            -9223372036854775808,
            1.5,
            1,
            "2024-05-01 10:00:00.000000",
            '{"a":[1,"é"]}',
            b"\x00\xff",
            None,
            "Ada",
        ),
        (2, 1099511627776, -1, 2.0, 0, "2024-05-01 12:00:00.000000", "[1,2]", b"", None, None),
        (
            3,
            0,
            0,
            -0.25,
            None,
            "2024-05-01 10:00:00.123456",
            '"just text"',
            None,
            None,
            "Ünïcode ✓",
        ),
        (4, None, None, None, 1, "2024-05-01 10:00:00.500000", None, b"x", None, ""),
    ]


def test_created_table_stores_exact_64_bit_integers(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    rows = [{"id": INT64_MAX, "v": INT64_MIN}, {"id": INT64_MAX - 1, "v": 2**53 + 1}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    run(simple_plan(db))
    assert sqlite_rows(db, "SELECT id, v, typeof(v) FROM t ORDER BY id") == [
        (9223372036854775806, 9007199254740993, "integer"),
        (9223372036854775807, -9223372036854775808, "integer"),
    ]


def test_epoch_seconds_and_milliseconds_become_timestamps(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    rows = [{"id": 1, "at": 1714557600}, {"id": 2, "at": 1714557600123}, {"id": 3, "at": "0"}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    run(simple_plan(db, types={"at": "timestamp"}))
    assert columns_of(db, "t")[1] == ("at", "DATETIME", 0, 0)
    assert sqlite_rows(db, "SELECT at FROM t ORDER BY id") == [
        ("2024-05-01 10:00:00.000000",),
        ("2024-05-01 10:00:00.123000",),
        ("1970-01-01 00:00:00.000000",),
    ]


def test_booleans_from_zero_one_and_words(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    values = [0, 1, "true", "false", "yes", "off", True, None]
    rows = [{"id": i, "active": v} for i, v in enumerate(values)]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    run(simple_plan(db, types={"active": "boolean"}))
    assert columns_of(db, "t")[1] == ("active", "BOOLEAN", 0, 0)
    assert sqlite_rows(db, "SELECT active FROM t ORDER BY id") == [
        (0,),
        (1,),
        (1,),
        (0,),
        (1,),
        (0,),
        (1,),
        (None,),
    ]


def test_column_of_only_nulls_is_text(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable([{"id": 1, "x": None}], key=("id",))})
    run(simple_plan(db))
    assert columns_of(db, "t") == [("id", "BIGINT", 1, 1), ("x", "TEXT", 0, 0)]
    assert sqlite_rows(db, "SELECT x FROM t") == [(None,)]


def test_column_specs_shape_a_created_table(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    rows = [{"id": "a", "raw": '{"tags": ["x", "y"]}', "name": "  Ada "}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    plan = simple_plan(
        db,
        map_all=False,
        columns={
            "id": "id",
            "tags": {"from": "raw", "json_path": "$.tags"},
            "first_tag": {"from": "raw", "json_path": "$.tags[0]", "cast": "text"},
            "name": {"from": "name", "ops": ["trim", "upper"]},
            "origin": {"const": "legacy"},
            "has_name": {"from": "name", "is_not_null": True},
        },
    )
    run(plan)
    assert [c[:2] for c in columns_of(db, "t")] == [
        ("id", "TEXT"),
        ("tags", "JSON"),
        ("first_tag", "TEXT"),
        ("name", "TEXT"),
        ("origin", "TEXT"),
        ("has_name", "BOOLEAN"),
    ]
    assert sqlite_rows(db, "SELECT * FROM t") == [("a", '["x","y"]', "x", "ADA", "legacy", 1)]


def test_nested_child_table_gets_a_foreign_key(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(
        monkeypatch,
        {
            "jobs": FakeTable([{"id": "a", "title": "A"}], key=("id",)),
            "jobs.steps": FakeTable(
                [
                    {"jobs_id": "a", "position": 0, "step": "s1"},
                    {"jobs_id": "zz", "position": 0, "step": "orphan"},
                ],
                key=("jobs_id", "position"),
                parent=ParentLink("jobs", ("jobs_id",), ("id",)),
            ),
        },
    )
    plan = make_plan(
        url(db),
        [{"name": "steps", "source": "jobs.steps"}, {"name": "jobs", "source": "jobs"}],
        db.parent,
    )
    result = run(plan)
    assert sqlite_rows(db, "SELECT * FROM pragma_foreign_key_list('steps')")[0][2:5] == (
        "jobs",
        "jobs_id",
        "id",
    )
    assert [t.name for t in result.tables] == ["jobs", "steps"]
    assert sqlite_rows(db, "SELECT * FROM steps") == [("a", 0, "s1")]
    assert result.rejects == [
        Reject(
            "steps",
            "jobs_id='zz', position=0",
            "FOREIGN KEY constraint failed",
            {"jobs_id": "zz", "position": 0, "step": "orphan"},
            kind="constraint",
            key_values={"jobs_id": "zz", "position": 0},
        )
    ]


def test_field_first_seen_in_a_later_batch_adds_a_column(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    rows = [{"id": 1}, {"id": 2}, {"id": 3, "late": 7}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",), columns={"id": "integer"})})
    plan = make_plan(
        url(db), [{"name": "t", "source": "src"}], db.parent, options={"batch_size": 2}
    )
    result = run(plan)
    assert result.ddl[-1] == 'ALTER TABLE "t" ADD COLUMN "late" BIGINT'
    assert sqlite_rows(db, "SELECT id, late FROM t ORDER BY id") == [(1, None), (2, None), (3, 7)]


# -- an existing app schema ---------------------------------------------------------------

APP_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME
);
"""

LEGACY_USERS = [
    {"login": "ada", "full_name": "Ada", "active": False, "created_at": "2024-01-02T03:04:05Z"},
    {"login": "bob", "full_name": "Bob", "active": True, "shoe_size": 44},
]


def users_plan(db: Path, **table: Any) -> Plan:
    spec = {
        "name": "users",
        "source": "legacy",
        "key": ["key"],
        "columns": {"key": "login", "name": "full_name"},
        **table,
    }
    return make_plan(url(db), [spec], db.parent)


def test_maps_into_an_existing_table_with_an_autoincrement_id(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, APP_SCHEMA)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    result = run(users_plan(db))
    assert sqlite_rows(db, "SELECT * FROM users ORDER BY id") == [
        (1, "ada", "Ada", 0, "2024-01-02 03:04:05.000000"),
        (2, "bob", "Bob", 1, None),
    ]
    assert result.ddl == []
    assert result.table("users").created is False
    assert result.table("users").counts() == counts(read=2, inserted=2)


def test_existing_table_keeps_its_schema(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    sqlite_exec(db, APP_SCHEMA)
    before = sqlite_rows(db, "SELECT sql FROM sqlite_master WHERE name = 'users'")
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    run(users_plan(db))
    assert sqlite_rows(db, "SELECT sql FROM sqlite_master WHERE name = 'users'") == before


def test_update_by_natural_key_keeps_the_generated_id(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, APP_SCHEMA)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    run(users_plan(db))
    changed = [{**LEGACY_USERS[0], "full_name": "Ada L."}, LEGACY_USERS[1]]
    install(monkeypatch, {"legacy": FakeTable(changed)})
    result = run(users_plan(db))
    assert sqlite_rows(db, "SELECT id, key, name FROM users ORDER BY id") == [
        (1, "ada", "Ada L."),
        (2, "bob", "Bob"),
    ]
    assert result.table("users").counts() == counts(read=2, updated=1, unchanged=1)


def test_unmapped_source_field_is_warned_about(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    sqlite_exec(db, APP_SCHEMA)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    events: list[Event] = []
    result = run(users_plan(db), emit=events.append)
    message = "legacy: field 'shoe_size' has no column in table users; it is not migrated"
    assert result.warnings == [message]
    assert RunWarning(message, "users") in events


def test_generated_primary_key_without_a_plan_key_is_a_plan_error(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, APP_SCHEMA)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    with pytest.raises(PlanError) as caught:
        run(users_plan(db, key=[]))
    assert caught.value.message == (
        "table 'users' needs a key: its primary key id is generated by the database"
    )


def test_not_null_column_without_a_value_is_a_plan_error(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, APP_SCHEMA)
    before = sha256(db)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    with pytest.raises(PlanError) as caught:
        run(users_plan(db, columns={"key": "login"}))
    assert caught.value.message == (
        "table 'users': column 'name' is NOT NULL without a default, and the plan gives it no value"
    )
    assert sha256(db) == before


def test_unknown_source_table_is_a_plan_error(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable([{"id": 1}], key=("id",))})
    plan = make_plan(url(db), [{"name": "t", "source": "src.nope"}], db.parent)
    with pytest.raises(PlanError) as caught:
        run(plan)
    assert caught.value.message == (
        "table 't' reads 'src.nope', which the sources do not provide (they provide: src)"
    )
    assert not db.exists()


def test_plan_without_tables_is_a_plan_error(db: Path) -> None:
    plan = make_plan(url(db), [], db.parent, sources=["src"])
    with pytest.raises(PlanError, match="the plan has no \\[\\[tables\\]\\]"):
        run(plan)


# -- schema.sql ---------------------------------------------------------------------------

SCHEMA_SQL = """
-- The app's own schema.
CREATE TABLE users (key TEXT PRIMARY KEY, name TEXT, added_by_schema_sql TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, sku TEXT, note TEXT);
CREATE TABLE items (
    sku TEXT PRIMARY KEY,
    qty INTEGER NOT NULL CHECK (qty >= 0)
);
CREATE TRIGGER items_audit AFTER INSERT ON items
BEGIN
    INSERT INTO audit (sku, note) VALUES (NEW.sku, 'added; by trigger');
END;
"""


def schema_plan(db: Path) -> Plan:
    return make_plan(
        url(db),
        [{"name": "users", "source": "users"}, {"name": "items", "source": "items"}],
        db.parent,
        target={"schema": "schema.sql"},
    )


def install_schema_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    install(
        monkeypatch,
        {
            "users": FakeTable([{"key": "ada", "name": "Ada"}], key=("key",)),
            "items": FakeTable([{"sku": "A1", "qty": 3}, {"sku": "B2", "qty": 0}], key=("sku",)),
        },
    )


def test_schema_sql_creates_only_missing_tables(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    (db.parent / "schema.sql").write_text(SCHEMA_SQL, encoding="utf-8")
    sqlite_exec(db, "CREATE TABLE users (key TEXT PRIMARY KEY, name TEXT);")
    install_schema_sources(monkeypatch)
    result = run(schema_plan(db))
    assert [c[0] for c in columns_of(db, "users")] == ["key", "name"]
    assert [c[:2] for c in columns_of(db, "items")] == [("sku", "TEXT"), ("qty", "INTEGER")]
    assert [s.split("(")[0].split("\n")[0].strip() for s in result.ddl] == [
        "CREATE TABLE audit",
        "CREATE TABLE items",
        "CREATE TRIGGER items_audit AFTER INSERT ON items",
    ]
    assert sqlite_rows(db, "SELECT sku, note FROM audit ORDER BY id") == [
        ("A1", "added; by trigger"),
        ("B2", "added; by trigger"),
    ]
    assert sqlite_rows(db, "SELECT * FROM users") == [("ada", "Ada")]


def test_schema_sql_constraints_apply(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    (db.parent / "schema.sql").write_text(SCHEMA_SQL, encoding="utf-8")
    install(
        monkeypatch,
        {
            "users": FakeTable([], key=("key",), columns={"key": "text"}),
            "items": FakeTable([{"sku": "A1", "qty": -1}, {"sku": "B2", "qty": 1}], key=("sku",)),
        },
    )
    result = run(schema_plan(db))
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("sku='A1'", "CHECK constraint failed: qty >= 0")
    ]
    assert sqlite_rows(db, "SELECT * FROM items") == [("B2", 1)]


def test_schema_sql_is_not_read_when_no_table_is_missing(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(
        db,
        "CREATE TABLE users (key TEXT PRIMARY KEY, name TEXT);"
        "CREATE TABLE items (sku TEXT PRIMARY KEY, qty INTEGER);",
    )
    install_schema_sources(monkeypatch)
    result = run(schema_plan(db))  # schema.sql does not even exist
    assert result.ddl == []
    assert sqlite_rows(db, "SELECT name FROM sqlite_master WHERE name = 'audit'") == []


def test_schema_sql_missing_file_is_a_plan_error(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install_schema_sources(monkeypatch)
    with pytest.raises(PlanError) as caught:
        run(schema_plan(db))
    assert caught.value.message == f"schema file {db.parent / 'schema.sql'} does not exist"
    assert not db.exists()


def test_schema_sql_error_names_the_statement(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    (db.parent / "schema.sql").write_text(
        "CREATE TABLE users (key TEXT PRIMARY KEY);\nCREATE TABLEX items (sku TEXT);\n",
        encoding="utf-8",
    )
    install_schema_sources(monkeypatch)
    with pytest.raises(TargetError) as caught:
        run(schema_plan(db))
    assert caught.value.message == (
        f'{db.parent / "schema.sql"}: statement 2 failed: near "TABLEX": syntax error'
    )
    assert not db.exists()


# -- idempotence --------------------------------------------------------------------------


def test_second_run_into_an_app_table_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, APP_SCHEMA)
    install(monkeypatch, {"legacy": FakeTable(LEGACY_USERS)})
    run(users_plan(db))
    before = content(db)
    result = run(users_plan(db))
    assert result.table("users").counts() == counts(read=2, unchanged=2)
    assert content(db) == before


def test_json_written_with_other_spacing_is_unchanged(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(
        db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, meta JSON);"
        """INSERT INTO t VALUES (1, '{ "a" : [1, 2] }');""",
    )
    install(monkeypatch, {"src": FakeTable([{"id": 1, "meta": {"a": [1, 2]}}])})
    result = run(simple_plan(db, key=["id"]))
    assert result.table("t").counts() == counts(read=1, unchanged=1)
    assert sqlite_rows(db, "SELECT meta FROM t") == [('{ "a" : [1, 2] }',)]


# -- conflict rules -----------------------------------------------------------------------

NOTES_SCHEMA = """
CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT, updated_at DATETIME);
INSERT INTO notes VALUES ('a', 'target a', '2024-06-01 00:00:00');
INSERT INTO notes VALUES ('b', 'target b', '2024-01-01 00:00:00');
INSERT INTO notes VALUES ('z', 'target z', '2024-01-01 00:00:00');
"""

NOTES_SOURCE = [
    {"id": "a", "body": "source a", "updated_at": "2024-03-01T00:00:00Z"},
    {"id": "b", "body": "source b", "updated_at": "2024-03-01T00:00:00Z"},
    {"id": "c", "body": "source c", "updated_at": "2024-03-01T00:00:00Z"},
]


def notes_plan(db: Path, **table: Any) -> Plan:
    return make_plan(url(db), [{"name": "notes", "source": "notes", **table}], db.parent)


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch, db: Path) -> Path:
    sqlite_exec(db, NOTES_SCHEMA)
    install(monkeypatch, {"notes": FakeTable(NOTES_SOURCE)})
    return db


def bodies(db: Path) -> list[tuple[str, str]]:
    return sqlite_rows(db, "SELECT id, body FROM notes ORDER BY id")


def test_conflict_newer_updates_a_row_whose_target_time_is_null(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(
        db,
        "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT, updated_at DATETIME);"
        "INSERT INTO notes VALUES ('a', 'old', NULL);",
    )
    install(monkeypatch, {"notes": FakeTable(NOTES_SOURCE[:1])})
    result = run(notes_plan(db, conflict="newer", newer_by="updated_at"))
    assert bodies(db) == [("a", "source a")]
    assert result.table("notes").counts() == counts(read=1, updated=1)


def test_conflict_error_allows_new_and_identical_rows(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, NOTES_SCHEMA)
    same = {"id": "z", "body": "target z", "updated_at": "2024-01-01 00:00:00"}
    install(monkeypatch, {"notes": FakeTable([same, NOTES_SOURCE[2]])})
    result = run(notes_plan(db, conflict="error"))
    assert result.table("notes").counts() == counts(read=2, inserted=1, unchanged=1)


# -- delete_missing -----------------------------------------------------------------------


# -- rejected rows ------------------------------------------------------------------------

CAST_ROWS = [{"id": 1, "n": "5"}, {"id": 2, "n": "lots"}, {"id": 3, "n": 7}]


def test_row_failing_a_cast_is_rejected_and_the_rest_loads(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(CAST_ROWS, key=("id",))})
    events: list[Event] = []
    result = run(simple_plan(db, types={"n": "integer"}), emit=events.append)
    assert sqlite_rows(db, "SELECT id, n FROM t ORDER BY id") == [(1, 5), (3, 7)]
    reason = "column 'n': 'lots' is not a whole number"
    assert result.rejects == [
        Reject("t", "id=2", reason, {"id": 2, "n": "lots"}, key_values={"id": 2})
    ]
    assert result.rejected_total == 1
    assert result.table("t").counts() == counts(read=3, inserted=2, rejected=1)
    assert RowRejected("t", "id=2", reason, {"id": 2, "n": "lots"}) in events


CONSTRAINED_SCHEMA = """
CREATE TABLE parents (id TEXT PRIMARY KEY);
INSERT INTO parents VALUES ('p1');
CREATE TABLE items (
    sku TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    qty INTEGER CHECK (qty >= 0),
    parent TEXT REFERENCES parents (id)
);
"""

CONSTRAINED_ROWS = [
    {"sku": "ok", "title": "Fine", "qty": 1, "parent": "p1"},
    {"sku": "neg", "title": "Negative", "qty": -1, "parent": "p1"},
    {"sku": "untitled", "title": None, "qty": 1, "parent": "p1"},
    {"sku": "orphan", "title": "Orphan", "qty": 1, "parent": "p9"},
    {"sku": "ok2", "title": "Also fine", "qty": 0, "parent": None},
]


def items_plan(db: Path, **table: Any) -> Plan:
    return make_plan(url(db), [{"name": "items", "source": "items", **table}], db.parent)


def test_constraint_violations_are_rejected_with_the_database_reason(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, CONSTRAINED_SCHEMA)
    install(monkeypatch, {"items": FakeTable(CONSTRAINED_ROWS)})
    result = run(items_plan(db))
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("sku='neg'", "CHECK constraint failed: qty >= 0"),
        ("sku='untitled'", "NOT NULL constraint failed: items.title"),
        ("sku='orphan'", "FOREIGN KEY constraint failed"),
    ]
    assert result.rejects[0].row == {"sku": "neg", "title": "Negative", "qty": -1, "parent": "p1"}
    assert sqlite_rows(db, "SELECT sku FROM items ORDER BY sku") == [("ok",), ("ok2",)]
    assert result.table("items").counts() == counts(read=5, inserted=2, rejected=3)


def test_update_violating_a_constraint_is_rejected_and_the_row_kept(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, CONSTRAINED_SCHEMA + "INSERT INTO items VALUES ('neg', 'Old', 5, 'p1');")
    install(monkeypatch, {"items": FakeTable(CONSTRAINED_ROWS[:2])})
    result = run(items_plan(db))
    assert sqlite_rows(db, "SELECT * FROM items ORDER BY sku") == [
        ("neg", "Old", 5, "p1"),
        ("ok", "Fine", 1, "p1"),
    ]
    assert result.table("items").counts() == counts(read=2, inserted=1, rejected=1)


def test_on_reject_stop_on_a_cast_failure_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER);")
    before = sha256(db)
    install(monkeypatch, {"src": FakeTable(CAST_ROWS)})
    with pytest.raises(RejectedRowsError) as caught:
        run(simple_plan(db, key=["id"], on_reject="stop"))
    assert caught.value.message == (
        "table t: row id=2 was rejected: column 'n': 'lots' is not a whole number"
    )
    assert sha256(db) == before


def test_on_reject_stop_on_a_constraint_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, CONSTRAINED_SCHEMA)
    before = sha256(db)
    install(monkeypatch, {"items": FakeTable(CONSTRAINED_ROWS)})
    with pytest.raises(RejectedRowsError) as caught:
        run(items_plan(db, on_reject="stop"))
    assert caught.value.message == (
        "table items: row sku='neg' was rejected: CHECK constraint failed: qty >= 0"
    )
    assert sha256(db) == before


def test_on_reject_stop_against_a_new_file_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(CAST_ROWS, key=("id",))})
    with pytest.raises(RejectedRowsError):
        run(simple_plan(db, types={"n": "integer"}, on_reject="stop"))
    # Only the run's report is left: no target, no journal file.
    assert [p.name for p in db.parent.iterdir()] == ["ferry-reports"]


def test_skip_when_null_counts_skipped_rows(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    rows = [{"id": 1, "n": None}, {"id": 2, "n": 2}]
    install(
        monkeypatch,
        {"src": FakeTable(rows, key=("id",), columns={"id": "integer", "n": "integer"})},
    )
    result = run(simple_plan(db, skip_when_null=["n"]))
    assert sqlite_rows(db, "SELECT id, n FROM t") == [(2, 2)]
    assert result.table("t").counts() == counts(read=2, inserted=1, skipped=1)


def test_empty_key_is_rejected(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    rows = [{"id": None, "n": 1}, {"id": 2, "n": 2}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    result = run(simple_plan(db))
    assert [(r.key, r.reason) for r in result.rejects] == [("id=None", "key column 'id' is empty")]
    assert sqlite_rows(db, "SELECT id FROM t") == [(2,)]


# -- duplicates ---------------------------------------------------------------------------


# -- journal ------------------------------------------------------------------------------


def test_each_committed_run_is_journaled(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(CAST_ROWS, key=("id",))})
    plan = simple_plan(db, types={"n": "integer"})
    first = run(plan)
    second = run(plan)
    journal = sqlite_rows(
        db,
        "SELECT run_id, plan_name, plan_hash, mode, status, tables, warnings, rejected "
        f"FROM {RUNS} ORDER BY started_at",
    )
    assert [row[0] for row in journal] == [first.run_id, second.run_id]
    assert journal[0][1:5] == ("migration", plan.digest(), "migrate", "completed")
    assert json.loads(journal[0][5]) == {"t": counts(read=3, inserted=2, rejected=1)}
    assert json.loads(journal[1][5]) == {"t": counts(read=3, unchanged=2, rejected=1)}
    assert journal[0][6:] == (0, 1)


def test_preview_writes_no_journal_row(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(CAST_ROWS, key=("id",))})
    plan = simple_plan(db)
    run(plan)
    run(plan, preview=True)
    assert sqlite_rows(db, f"SELECT count(*), min(mode) FROM {RUNS}") == [(1, "migrate")]


# -- preview ------------------------------------------------------------------------------


def test_preview_leaves_the_target_byte_identical(notes: Path) -> None:
    before = sha256(notes)
    result = run(notes_plan(notes), preview=True)
    assert sha256(notes) == before
    assert result.status == "previewed"
    assert result.mode == "preview"
    # No journal or WAL file is left beside it (the run's report has its own folder).
    assert sorted(p.name for p in notes.parent.iterdir()) == ["app.db", "ferry-reports"]


def test_preview_counts_equal_the_migration(notes: Path) -> None:
    preview = run(notes_plan(notes, conflict="newer", newer_by="updated_at"), preview=True)
    migration = run(notes_plan(notes, conflict="newer", newer_by="updated_at"))
    assert preview.table("notes").counts() == migration.table("notes").counts()
    assert migration.table("notes").counts() == counts(read=3, inserted=1, updated=1, conflicts=1)


def test_preview_against_a_new_file_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    result = run(simple_plan(db), preview=True)
    assert result.table("t").inserted == 4
    assert [p.name for p in db.parent.iterdir()] == ["ferry-reports"]


def test_failed_run_against_a_new_file_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    class Broken(FakeTable):
        pass

    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    import fakesource

    def broken_batches(self: fakesource.FakeSource, batch_size: int) -> Iterator[Batch]:
        yield Batch("src", [dict(TYPED_ROWS[0])])
        raise SourceError("src.json: unexpected end of file")

    monkeypatch.setattr(fakesource.FakeSource, "batches", broken_batches)
    with pytest.raises(SourceError, match="unexpected end of file"):
        run(simple_plan(db))
    # Only the run's report is left: no target, no journal file.
    assert [p.name for p in db.parent.iterdir()] == ["ferry-reports"]


def test_readers_are_closed_after_a_run_and_after_a_failure(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    state = install(monkeypatch, {"src": FakeTable(CAST_ROWS, key=("id",))})
    run(simple_plan(db))
    with pytest.raises(RejectedRowsError):
        run(simple_plan(db.with_name("other.db"), types={"n": "integer"}, on_reject="stop"))
    assert (state.opened, state.closed) == (2, 2)


def test_batch_size_comes_from_the_plan(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    state = install(monkeypatch, {"src": FakeTable(CAST_ROWS, key=("id",))})
    run(make_plan(url(db), [{"name": "t", "source": "src"}], db.parent, options={"batch_size": 2}))
    assert state.batch_sizes == [2]


# -- cancel -------------------------------------------------------------------------------

MANY_ROWS = [{"id": i, "v": f"row {i}"} for i in range(6)]


def cancel_on(kind: type, token: CancelToken, step: str = "") -> Any:
    def emit(event: Event) -> None:
        if isinstance(event, kind) and (not step or getattr(event, "step", "") == step):
            token.cancel()

    return emit


def batched_plan(db: Path) -> Plan:
    return make_plan(
        url(db), [{"name": "t", "source": "src"}], db.parent, options={"batch_size": 2}
    )


def test_cancel_against_a_new_file_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    token = CancelToken()
    with pytest.raises(Cancelled):
        run(batched_plan(db), emit=cancel_on(TableProgress, token), cancel=token)
    # Only the run's report is left: no target, no journal file.
    assert [p.name for p in db.parent.iterdir()] == ["ferry-reports"]


def test_cancel_before_the_start(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run(batched_plan(db), cancel=token)
    assert not db.exists()


# -- awkward names ------------------------------------------------------------------------

EVIL = 'x"); DROP TABLE t; --'
AWKWARD_ROWS = [
    {"id": 1, "order": 10, "select": "a", EVIL: "evil", "white space": True},
    {"id": 2, "order": 20, "select": "b", EVIL: None, "white space": False},
]


def test_keyword_and_quote_column_names_in_a_created_table(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(AWKWARD_ROWS, key=("id",))})
    plan = make_plan(url(db), [{"name": "group", "source": "src"}], db.parent)
    run(plan)
    assert [c[0] for c in columns_of(db, "group")] == [
        "id",
        "order",
        "select",
        EVIL,
        "white space",
    ]
    assert sqlite_rows(db, 'SELECT * FROM "group" ORDER BY id') == [
        (1, 10, "a", "evil", 1),
        (2, 20, "b", None, 0),
    ]
    second = run(plan)
    assert second.table("group").counts() == counts(read=2, unchanged=2)


def test_keyword_and_quote_column_names_in_an_existing_table(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(
        db,
        'CREATE TABLE "select" (id INTEGER PRIMARY KEY, "order" INTEGER, "select" TEXT, '
        '"x""); DROP TABLE t; --" TEXT, "white space" BOOLEAN);'
        "INSERT INTO \"select\" VALUES (1, 1, 'old', 'old', 0);",
    )
    install(monkeypatch, {"src": FakeTable(AWKWARD_ROWS)})
    plan = make_plan(
        url(db),
        [
            {
                "name": "select",
                "source": "src",
                "key": ["id"],
                "conflict": "newer",
                "newer_by": "order",
                "delete_missing": True,
            }
        ],
        db.parent,
    )
    result = run(plan)
    assert sqlite_rows(db, 'SELECT * FROM "select" ORDER BY id') == [
        (1, 10, "a", "evil", 1),
        (2, 20, "b", None, 0),
    ]
    assert result.table("select").counts() == counts(read=2, inserted=1, updated=1)


# -- events -------------------------------------------------------------------------------


def test_events_of_a_run(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(MANY_ROWS[:3], key=("id",))})
    events: list[Event] = []
    plan = make_plan(
        url(db), [{"name": "t", "source": "src"}], db.parent, options={"batch_size": 2}
    )
    run(plan, emit=events.append)
    assert [e.step for e in events if isinstance(e, StepStarted)] == [
        "connect",
        "schema",
        "read",
        "merge",
        "journal",
    ]
    progress = [e for e in events if isinstance(e, TableProgress)]
    assert [(e.table, e.rows_done, e.rows_total) for e in progress] == [("t", 2, 3), ("t", 3, 3)]
    assert all(e.rows_per_second > 0 for e in progress)
    finished = [e for e in events if isinstance(e, TableFinished)]
    assert [(e.table, e.counts) for e in finished] == [("t", counts(read=3, inserted=3))]
    assert events.index(progress[-1]) < events.index(finished[0])


def test_preview_has_no_journal_step(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    events: list[Event] = []
    run(batched_plan(db), emit=events.append, preview=True)
    assert [e.step for e in events if isinstance(e, StepStarted)] == [
        "connect",
        "schema",
        "read",
        "merge",
    ]


def test_run_result_to_dict(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(
        monkeypatch,
        {
            "src": FakeTable(
                [{"id": 1, "b": "x"}, {"id": 2, "b": b"\x01"}],
                key=("id",),
                columns={"id": "integer", "b": "bytes"},
            )
        },
    )
    data = run(simple_plan(db)).to_dict()
    assert data["status"] == "completed"
    assert data["tables"][0]["name"] == "t"
    assert json.loads(json.dumps(data))["target"] == str(db)


# -- a bad target -------------------------------------------------------------------------


def test_target_that_is_a_text_file(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    db.write_text("these are my notes, not a database\n" * 20, encoding="utf-8")
    before = sha256(db)
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    with pytest.raises(TargetError) as caught:
        run(simple_plan(db))
    assert caught.value.message == (
        f"target {db} is not a usable SQLite database (file is not a database)"
    )
    assert sha256(db) == before


def test_locked_target(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    sqlite_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    before = sha256(db)
    monkeypatch.setattr(ferry.targets.sqlite, "BUSY_TIMEOUT_SECONDS", 0.05)
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(TargetError) as caught:
            run(simple_plan(db))
    finally:
        holder.close()
    assert caught.value.message == f"target {db} is locked by another program (opening the target)"
    assert sha256(db) == before


def test_target_folder_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "app.db"
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    with pytest.raises(TargetError) as caught:
        run(simple_plan(target))
    assert caught.value.message == f"the folder of the target {target} does not exist"
    assert not (tmp_path / "nowhere").exists()


def test_target_url_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    plan = make_plan("sqlite://", [{"name": "t", "source": "src"}], tmp_path)
    with pytest.raises(TargetError) as caught:
        run(plan)
    assert caught.value.message == "target URL 'sqlite://' names no file"


def test_target_that_is_a_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "app.db"
    folder.mkdir()
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    with pytest.raises(TargetError) as caught:
        run(simple_plan(folder))
    assert caught.value.message == (
        f"target {folder} cannot be written (unable to open database file)"
    )
    assert folder.is_dir()
    assert list(folder.iterdir()) == []


def test_target_errors_are_ferry_errors() -> None:
    assert issubclass(TargetError, FerryError)
    assert TargetError("x").exit_code == 5


# -- time zones and timestamp spellings ---------------------------------------------------


def test_naive_source_timestamps_are_in_the_plan_time_zone(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    rows = [{"id": 1, "ts": "2024-05-01 12:00:00"}, {"id": 2, "ts": "2024-01-15T12:00:00Z"}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    plan = make_plan(
        url(db), [{"name": "t", "source": "src"}], db.parent, options={"timezone": "Europe/Berlin"}
    )
    run(plan)
    assert sqlite_rows(db, "SELECT ts FROM t ORDER BY id") == [
        ("2024-05-01 10:00:00.000000",),
        ("2024-01-15 12:00:00.000000",),
    ]


def test_app_timestamps_in_another_spelling_are_unchanged(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(
        db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, ts DATETIME);"
        "INSERT INTO t VALUES (1, '2024-05-01T10:00:00Z'), (2, '2024-05-01 12:00:00+02:00'),"
        "(3, '2024-05-01 10:00:00'), (4, '2024-05-01 10:00:00');",
    )
    rows = [
        {"id": 1, "ts": "2024-05-01 10:00:00"},
        {"id": 2, "ts": "2024-05-01T10:00:00.000Z"},
        {"id": 3, "ts": "2024-05-01T10:00:00.000001Z"},
        {"id": 4, "ts": "2024-05-01T11:00:00Z"},
    ]
    install(monkeypatch, {"src": FakeTable(rows)})
    result = run(simple_plan(db, key=["id"]))
    assert result.table("t").counts() == counts(read=4, updated=2, unchanged=2)
    assert sqlite_rows(db, "SELECT ts FROM t ORDER BY id") == [
        ("2024-05-01T10:00:00Z",),
        ("2024-05-01 12:00:00+02:00",),
        ("2024-05-01 10:00:00.000001",),
        # in the most common style of the column's rows (a fraction needs six digits)
        ("2024-05-01 11:00:00",),
    ]


def test_conflict_error_ignores_other_timestamp_spellings(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, NOTES_SCHEMA)
    same = {"id": "a", "body": "target a", "updated_at": "2024-06-01T02:00:00+02:00"}
    install(monkeypatch, {"notes": FakeTable([same])})
    result = run(notes_plan(db, conflict="error"))
    assert result.table("notes").counts() == counts(read=1, unchanged=1)


# -- keys ---------------------------------------------------------------------------------


def test_rowid_key_given_by_the_source_needs_no_plan_key(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(
        db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (7, 'a');"
    )
    install(monkeypatch, {"src": FakeTable([{"id": 7, "v": "b"}, {"id": 8, "v": "c"}])})
    result = run(simple_plan(db))
    assert sqlite_rows(db, "SELECT id, v FROM t ORDER BY id") == [(7, "b"), (8, "c")]
    assert result.table("t").counts() == counts(read=2, inserted=1, updated=1)


def test_rowid_key_not_given_by_the_source_needs_a_plan_key(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    install(monkeypatch, {"src": FakeTable([{"v": "b"}])})
    with pytest.raises(PlanError, match=r"^table 't' needs a key: its primary key id is generated"):
        run(simple_plan(db))


@pytest.mark.parametrize("declared", ["BIGINT", "INT", "integer"])
def test_only_an_exact_integer_primary_key_is_generated(
    monkeypatch: pytest.MonkeyPatch, db: Path, declared: str
) -> None:
    sqlite_exec(db, f"CREATE TABLE t (id {declared} PRIMARY KEY, v TEXT);")
    install(monkeypatch, {"src": FakeTable([{"v": "b"}])})
    plan = simple_plan(db)
    if declared.upper() == "INTEGER":
        with pytest.raises(PlanError, match="needs a key"):
            run(plan)
    else:
        with pytest.raises(PlanError) as caught:
            run(plan)
        assert caught.value.message == "table 't': key column 'id' gets no value from the source"


def test_hook_with_a_bug_leaves_the_target_unchanged(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    (db.parent / "hooks.py").write_text(
        "def fix(row):\n    raise RuntimeError('oops')\n", encoding="utf-8"
    )
    sqlite_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    before = sha256(db)
    install(monkeypatch, {"src": FakeTable(MANY_ROWS)})
    with pytest.raises(PlanError) as caught:
        run(simple_plan(db, key=["id"], hook="hooks.py:fix"))
    assert caught.value.message == "hook hooks.py:fix of table 't' failed: RuntimeError: oops"
    assert sha256(db) == before


def test_hook_rewrites_drops_and_rejects_rows(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    (db.parent / "hooks.py").write_text(
        "def fix(row):\n"
        "    if row['v'] == 'row 1':\n"
        "        return None\n"
        "    if row['v'] == 'row 2':\n"
        "        raise ValueError('row 2 is a test row')\n"
        "    return {**row, 'v': row['v'].upper()}\n",
        encoding="utf-8",
    )
    install(monkeypatch, {"src": FakeTable(MANY_ROWS[:4], key=("id",))})
    result = run(simple_plan(db, hook="hooks.py:fix"))
    assert sqlite_rows(db, "SELECT id, v FROM t ORDER BY id") == [(0, "ROW 0"), (3, "ROW 3")]
    assert [(r.key, r.reason) for r in result.rejects] == [
        ("id=2", "hook hooks.py:fix: row 2 is a test row")
    ]
    assert result.table("t").counts() == counts(read=4, inserted=2, rejected=1, skipped=1)


# -- a target in WAL mode -----------------------------------------------------------------


def test_preview_of_a_wal_target_leaves_it_byte_identical(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    sqlite_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")
    before = sha256(db)
    install(monkeypatch, {"src": FakeTable(MANY_ROWS, key=("id",))})
    result = run(simple_plan(db), preview=True)
    assert result.table("t").inserted == 6
    assert sha256(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["app.db", "ferry-reports"]


# -- a real SQLite source file ------------------------------------------------------------


def test_real_sqlite_source_into_a_new_target(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.db"
    sqlite_exec(
        legacy,
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN,"
        " at DATETIME, price NUMERIC, data BLOB);"
        "INSERT INTO jobs VALUES (1, 'First', 1, '2024-05-01 10:00:00', 1.5, x'00ff'),"
        " (2, 'Second', 0, NULL, 2, NULL);",
    )
    target = tmp_path / "app.db"
    plan = plan_from_dict(
        {
            "target": {"url": "sqlite:///app.db"},
            "sources": [{"name": "legacy", "kind": "sqlite", "path": "legacy.db"}],
            "tables": [{"name": "jobs", "source": "legacy.jobs"}],
        },
        tmp_path,
    )
    first = run(plan)
    assert [c[:2] for c in columns_of(target, "jobs")] == [
        ("id", "INTEGER"),  # the source's rowid key stays a rowid alias
        ("title", "TEXT"),
        ("done", "BOOLEAN"),
        ("at", "DATETIME"),
        ("price", "NUMERIC"),  # a NUMERIC source column stays NUMERIC (exact decimals)
        ("data", "BLOB"),
    ]
    assert sqlite_rows(target, "SELECT * FROM jobs ORDER BY id") == [
        # a SQLite source's timestamp text is kept as the app wrote it
        (1, "First", 1, "2024-05-01 10:00:00", 1.5, b"\x00\xff"),
        (2, "Second", 0, None, 2, None),
    ]
    assert first.table("jobs").counts() == counts(read=2, inserted=2)
    assert run(plan).table("jobs").counts() == counts(read=2, unchanged=2)


def test_an_empty_field_name_is_a_plan_error(monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    install(monkeypatch, {"src": FakeTable([{"id": 1, "": 5}], key=("id",))})
    with pytest.raises(PlanError) as caught:
        run(simple_plan(db))
    assert caught.value.message == "the name of column '' of 't' is empty"
    assert not db.exists()


def test_journal_keeps_the_rejected_rows_of_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"id": 1, "n": 5}, {"id": 2, "n": "lots"}]
    install(monkeypatch, {"src": FakeTable(rows, key=("id",))})
    db = tmp_path / "out.db"
    tables = [{"name": "t", "source": "src", "types": {"n": "integer"}}]
    result = run(make_plan(f"sqlite:///{db}", tables, tmp_path))
    assert sqlite_rows(
        db, f"SELECT run_id, seq, table_name, kind, key_text, reason, row_json FROM {REJECTS}"
    ) == [
        (
            result.run_id,
            0,
            "t",
            "transform",
            "id=2",
            "column 'n': 'lots' is not a whole number",
            '{"id": 2, "n": "lots"}',
        )
    ]


def test_migration_writes_its_report_and_journals_the_path(
    monkeypatch: pytest.MonkeyPatch, db: Path
) -> None:
    install(monkeypatch, {"src": FakeTable(TYPED_ROWS, key=("id",))})
    result = run(simple_plan(db))
    report = db.parent / "ferry-reports" / f"migrate-{result.run_id}.html"
    assert result.report_path == str(report)
    assert report.stat().st_mode & 0o777 == 0o600
    assert sqlite_rows(db, f"SELECT report_path FROM {RUNS}") == [(str(report),)]


def test_one_source_row_feeds_two_target_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [
        {"video_id": "v1", "title": "A", "summary": "<p>a</p>"},
        {"video_id": "v2", "title": "B", "summary": None},
    ]
    install(monkeypatch, {"content": FakeTable(rows, key=("video_id",))})
    db = tmp_path / "out.db"
    tables = [
        {
            "name": "content",
            "source": "content",
            "ignore": ["summary"],
            "columns": {"video_id": "video_id", "title": "title"},
            "map_all": False,
        },
        {
            "name": "content_summaries",
            "source": "content",
            "key": ["video_id", "variant", "revision"],
            "map_all": False,
            "skip_when_null": ["html"],
            "columns": {
                "video_id": "video_id",
                "variant": {"const": "comprehensive"},
                "revision": {"const": 1},
                "html": "summary",
            },
        },
    ]
    result = run(make_plan(f"sqlite:///{db}", tables, tmp_path))
    assert sqlite_rows(db, "SELECT video_id, title FROM content ORDER BY 1") == [
        ("v1", "A"),
        ("v2", "B"),
    ]
    assert sqlite_rows(db, "SELECT * FROM content_summaries") == [
        ("v1", "comprehensive", 1, "<p>a</p>")
    ]
    assert result.table("content_summaries").counts()["skipped"] == 1


@pytest.mark.parametrize("width", [1, 9, 600])
async def test_many_rows_a_statement_insert_every_row_once_in_order(
    tmp_path: Path, width: int
) -> None:
    import aiosqlite

    from ferry.targets.sqlite import _insert_rows, _rows_per_insert

    per = _rows_per_insert(width)
    columns = ", ".join(f"c{i}" for i in range(width))
    async with aiosqlite.connect(tmp_path / "t.db") as db:
        await db.execute(f"CREATE TABLE t (n INTEGER PRIMARY KEY, {columns})")
        start = 0
        for count in (0, 1, per - 1, per, per + 1, 3 * per + 7):
            rows = [(start + i, *(f"{start + i}:{c}" for c in range(width))) for i in range(count)]
            await _insert_rows(db, f"INSERT INTO t (n, {columns})", width + 1, rows)
            start += count
        async with db.execute("SELECT * FROM t ORDER BY rowid") as cursor:
            stored = await cursor.fetchall()
    assert stored == [(n, *(f"{n}:{c}" for c in range(width))) for n in range(start)]


async def test_batches_of_every_length_use_few_statement_shapes(tmp_path: Path) -> None:
    # Each statement text stays in the connection's statement cache: JSON worker chunks
    # give batches of every length, which must not each make a statement of their own.
    import aiosqlite

    from ferry.targets.sqlite import _insert_rows, _rows_per_insert

    per = _rows_per_insert(2)
    lengths: set[int] = set()  # rows per INSERT statement run (the trace shows the values)

    def traced(sql: str) -> None:
        if sql.startswith("INSERT"):
            lengths.add(sql.count("), (") + 1)

    async with aiosqlite.connect(tmp_path / "t.db") as db:
        await db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, v)")
        await db.set_trace_callback(traced)
        start = 0
        for count in range(1, per + 1):
            rows = [(start + i, "v") for i in range(count)]
            await _insert_rows(db, "INSERT INTO t (n, v)", 2, rows)
            start += count
        await db.set_trace_callback(None)
        async with db.execute("SELECT count(*) FROM t") as cursor:
            assert await cursor.fetchone() == (start,)
    assert len(lengths) <= per.bit_length() + 1  # a full statement and the powers of two
