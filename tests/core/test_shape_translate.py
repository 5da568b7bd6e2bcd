"""Schema expressions and DDL, as text: DEFAULTs and conditions translated between SQLite and
PostgreSQL (or named as not translatable), and the statements a created table gets after
its rows are loaded."""

from __future__ import annotations

import pytest

from ferry.shape.ddl import after_load_ddl, suited, target_shape
from ferry.shape.source import ForeignKeyShape, IndexPart, IndexShape, TableShape
from ferry.shape.translate import translate_condition, translate_default
from ferry.targets.postgres import PostgresTarget
from ferry.targets.sqlite import SqliteTarget


@pytest.mark.parametrize(
    ("source", "text", "target", "expected"),
    [
        ("sqlite", "CURRENT_TIMESTAMP", "postgresql", "CURRENT_TIMESTAMP"),
        ("sqlite", "current_date", "postgresql", "CURRENT_DATE"),
        ("sqlite", "''", "postgresql", "''"),
        ("sqlite", "'n/a'", "postgresql", "'n/a'"),
        ("sqlite", "0.99", "postgresql", "0.99"),
        ("sqlite", "(-1)", "postgresql", "-1"),
        ("sqlite", "(datetime('now'))", "postgresql", "CURRENT_TIMESTAMP"),
        ("postgresql", "''::text", "sqlite", "''"),
        ("postgresql", "'n/a'::character varying", "sqlite", "'n/a'"),
        ("postgresql", "now()", "sqlite", "CURRENT_TIMESTAMP"),
        ("postgresql", "true", "sqlite", "1"),
        ("postgresql", "CURRENT_DATE", "sqlite", "CURRENT_DATE"),
    ],
)
def test_a_default_translates(source: str, text: str, target: str, expected: str) -> None:
    assert translate_default(text, source, target) == expected


@pytest.mark.parametrize(
    "text", ["strftime('%s','now')", "gen_random_uuid()", "nextval('t_id_seq'::regclass)", "NULL"]
)
def test_a_default_without_a_meaning_on_both_sides_does_not_translate(text: str) -> None:
    assert translate_default(text, "sqlite", "postgresql") is None


def test_a_check_translates_with_the_target_column_names() -> None:
    found = translate_condition(
        "active = 1 AND length(Name) > 0 AND price BETWEEN 0 AND 10",
        {"active": "active", "Name": "name", "price": "price"},
        "sqlite",
        "postgresql",
    )
    assert found == '"active" = 1 AND length("name") > 0 AND "price" BETWEEN 0 AND 10'


def test_a_postgres_check_loses_its_casts_on_sqlite() -> None:
    found = translate_condition(
        "((status)::text <> ''::text)", {"status": "status"}, "postgresql", "sqlite"
    )
    assert found == "(\"status\") <> ''"


def test_a_postgres_any_array_check_is_an_in_list_on_sqlite() -> None:
    found = translate_condition(
        "((status)::text = ANY ((ARRAY['new'::character varying, 'o''k'::character varying])"
        "::text[]))",
        {"status": "state"},
        "postgresql",
        "sqlite",
    )
    assert found == "(\"state\") IN ('new', 'o''k')"


def test_sqlites_in_list_check_translates() -> None:
    found = translate_condition(
        "stage IN ('active', 'deleted')", {"stage": "stage"}, "sqlite", "postgresql"
    )
    assert found == "\"stage\" IN ('active', 'deleted')"


@pytest.mark.parametrize(
    "text", ["json_valid(meta)", "status <> ALL (ARRAY['a'::text])", "other_column > 0"]
)
def test_a_condition_that_does_not_translate_gives_none(text: str) -> None:
    found = translate_condition(text, {"meta": "meta", "status": "status"}, "postgresql", "sqlite")
    assert found is None


def shape() -> TableShape:
    return TableShape(
        dialect="sqlite",
        defaults={"created": "CURRENT_TIMESTAMP", "stamp": "strftime('%s','now')"},
        not_null={"name"},
        identity="id",
        autoincrement=True,
        foreign_keys=[
            ForeignKeyShape(("owner",), "user", ("id",), "CASCADE", "", True, True),
            ForeignKeyShape(("gone",), "missing", ("id",)),
        ],
        uniques=[("name",)],
        checks=[("", "length(name) > 0"), ("meta_json", "json_valid(meta)")],
        indexes=[
            IndexShape("t_name", (IndexPart("name", desc=True),), where="created IS NOT NULL"),
            IndexShape("t_lower", (IndexPart("lower(name)", expression=True),), unique=True),
            IndexShape("t_odd", (IndexPart("json_extract(meta, '$.a')", expression=True),)),
        ],
    )


COLUMNS = {c: c for c in ("id", "name", "created", "stamp", "owner", "gone", "meta")}


def test_target_shape_lists_what_it_cannot_carry() -> None:
    found = target_shape(shape(), COLUMNS, {"user": ("app_user", {"id": "id"})}, "postgresql")
    assert found.defaults == {"created": "CURRENT_TIMESTAMP"}
    assert found.checks == ['length("name") > 0']
    assert found.not_carried == [
        "DEFAULT strftime('%s','now') of column stamp",
        "CHECK meta_json (json_valid(meta))",
        "FOREIGN KEY (gone) REFERENCES missing (id): the referenced table or a column is "
        "not in the plan",
        "index t_odd: (json_extract(meta, '$.a'))",
    ]


def test_after_the_load_postgres_gets_indexes_foreign_keys_and_the_identity_past_the_rows() -> None:
    found = target_shape(shape(), COLUMNS, {"user": ("app_user", {"id": "id"})}, "postgresql")
    assert after_load_ddl("t", found, PostgresTarget.capabilities) == [
        'CREATE INDEX "t_name" ON "t" ("name" DESC) WHERE "created" IS NOT NULL',
        'CREATE UNIQUE INDEX "t_lower" ON "t" ((lower("name")))',
        'ALTER TABLE "t" ADD FOREIGN KEY ("owner") REFERENCES "app_user" ("id") '
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
        "SELECT setval(pg_get_serial_sequence('\"t\"', 'id'), coalesce(max(\"id\"), 0) + 1, "
        'false) FROM "t"',
    ]


def test_after_the_load_sqlite_gets_its_indexes_only() -> None:
    found = target_shape(shape(), COLUMNS, {"user": ("app_user", {"id": "id"})}, "sqlite")
    # Same kind of database: what the translator does not know is carried as it is.
    assert found.not_carried == [
        "FOREIGN KEY (gone) REFERENCES missing (id): the referenced table or a column is "
        "not in the plan"
    ]
    assert after_load_ddl("t", found, SqliteTarget.capabilities) == [
        'CREATE INDEX "t_name" ON "t" ("name" DESC) WHERE "created" IS NOT NULL',
        'CREATE UNIQUE INDEX "t_lower" ON "t" (lower("name"))',
        'CREATE INDEX "t_odd" ON "t" (json_extract(meta, \'$.a\'))',
    ]


@pytest.mark.parametrize(
    ("default", "logical", "expected"),
    [
        ("1", "boolean", "TRUE"),
        ("'0'", "boolean", "FALSE"),
        ("2", "boolean", None),
        ("0", "timestamp", None),
        ("CURRENT_TIMESTAMP", "date", "CURRENT_TIMESTAMP"),
        ("'2024-01-01'", "date", "'2024-01-01'"),
        ("''", "timestamp", None),
        ("'abc'", "integer", None),
        ("'5'", "integer", "'5'"),
        ("0", "text", "0"),
    ],
)
def test_a_default_must_suit_its_postgres_column(
    default: str, logical: str, expected: str | None
) -> None:
    assert suited(default, logical) == expected


def test_a_default_that_does_not_suit_its_column_is_listed() -> None:
    found = target_shape(
        TableShape(dialect="sqlite", defaults={"done": "0", "at": "0", "n": "''"}),
        {"done": "done", "at": "at", "n": "n"},
        {},
        "postgresql",
        {"done": "boolean", "at": "timestamp", "n": "integer"},
    )
    assert found.defaults == {"done": "FALSE"}
    assert found.not_carried == ["DEFAULT 0 of column at", "DEFAULT '' of column n"]
