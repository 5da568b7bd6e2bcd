"""A Django app's SQLite database moved to PostgreSQL keeps working there: the schema below is
the SQL Django 5.2's ``migrate`` writes into SQLite (a UUID primary key, a JSONField, a
``unique=True`` CharField, a ``unique_together``, a ManyToMany table), and each test is one
thing the app did wrong on the moved database before (found by a trial with a real Django
project: duplicate usernames went in, ``pk=`` lookups failed, ``attrs__color=`` failed, the
next ``migrate`` stopped on ``DROP CONSTRAINT``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import psycopg
import pytest
from draftkit import draft, ferry
from pgkit import pg_rows

DJANGO = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO django_migrations (app, name, applied)
  VALUES ('shop', '0001_initial', '2026-12-07 07:30:00.000000');
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "username" varchar(150) NOT NULL UNIQUE, "date_joined" datetime NOT NULL);
INSERT INTO auth_user (username, date_joined) VALUES ('ada', '2026-12-07 07:30:01.5');
CREATE TABLE "shop_tag" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "slug" varchar(50) NOT NULL UNIQUE);
INSERT INTO shop_tag (slug) VALUES ('red');
CREATE TABLE "shop_product" ("id" char(32) NOT NULL PRIMARY KEY,
  "attrs" text NOT NULL CHECK ((JSON_VALID("attrs") OR "attrs" IS NULL)),
  "name" varchar(200) NOT NULL);
INSERT INTO shop_product VALUES
  ('7b18eb45655d492db4aa801fafd23bbe', '{"color": "red", "size": 3}', 'Zeit');
CREATE TABLE "shop_product_tags" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "product_id" char(32) NOT NULL REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED,
  "tag_id" bigint NOT NULL REFERENCES "shop_tag" ("id") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "shop_product_tags_product_id_tag_id_a244154e_uniq"
  ON "shop_product_tags" ("product_id", "tag_id");
INSERT INTO shop_product_tags (product_id, tag_id) VALUES ('7b18eb45655d492db4aa801fafd23bbe', 1);
"""
DASHED = "7b18eb45-655d-492d-b4aa-801fafd23bbe"


@pytest.fixture
def moved(tmp_path: Path, pg_url: str) -> Path:
    """The Django file drafted (no hand edits) and migrated into ``pg_url``."""
    plan = draft(tmp_path, DJANGO, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    return plan


def test_a_unique_column_whose_type_has_a_length_stays_unique(moved: Path, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn, pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("INSERT INTO auth_user (username, date_joined) VALUES ('ada', now())")


def test_the_uuid_key_of_a_django_file_is_a_postgres_uuid(moved: Path, pg_url: str) -> None:
    # Django binds a uuid: on a text column this is "operator does not exist: text = uuid"
    found = pg_rows(pg_url, f"SELECT name FROM shop_product WHERE id = '{DASHED}'::uuid")
    assert found == [("Zeit",)]


def test_a_json_valid_column_is_a_jsonb_document(moved: Path, pg_url: str) -> None:
    # Django's attrs__color='red' is attrs -> 'color'; a JSON string would hold no keys
    found = pg_rows(pg_url, "SELECT attrs -> 'color', jsonb_typeof(attrs) FROM shop_product")
    assert found == [("red", "object")]


def test_a_json_valid_check_is_carried_by_the_jsonb_type(tmp_path: Path, pg_url: str) -> None:
    check = " ".join(ferry("check", draft(tmp_path, DJANGO, pg_url)).output.split())
    assert "JSON_VALID" not in check


def test_a_json_valid_column_is_drafted_json_with_its_text_parsed(
    tmp_path: Path, pg_url: str
) -> None:
    plan = tomllib.loads(draft(tmp_path, DJANGO, pg_url).read_text())
    table = next(t for t in plan["tables"] if t["name"] == "shop_product")
    assert (table["types"]["attrs"], table["columns"]["attrs"]) == (
        "json",
        {"from": "attrs", "parse_json": True},
    )


def test_a_sqlite_target_keeps_a_json_valid_column_as_text(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'new.db'}"
    plan = tomllib.loads(draft(tmp_path, DJANGO, target).read_text())
    table = next(t for t in plan["tables"] if t["name"] == "shop_product")
    assert (table["types"]["attrs"], "columns" in table) == ("text", False)


def test_a_unique_together_index_is_a_constraint_django_can_drop(moved: Path, pg_url: str) -> None:
    # Django's AlterUniqueTogether on PostgreSQL drops it by name with DROP CONSTRAINT
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "ALTER TABLE shop_product_tags "
            'DROP CONSTRAINT "shop_product_tags_product_id_tag_id_a244154e_uniq"'
        )


def test_a_column_reference_after_a_sized_type_stays_deferred(moved: Path, pg_url: str) -> None:
    # Django relies on DEFERRABLE INITIALLY DEFERRED: rows go in before the row they name
    with psycopg.connect(pg_url) as conn:
        later = "00000000-0000-0000-0000-000000000009"
        conn.execute(f"INSERT INTO shop_product_tags (product_id, tag_id) VALUES ('{later}', 1)")
        conn.execute(f"INSERT INTO shop_product VALUES ('{later}', '{{}}', 'Late')")
        conn.commit()
    assert pg_rows(pg_url, "SELECT count(*) FROM shop_product_tags") == [(2,)]


def test_the_moved_file_verifies(moved: Path) -> None:
    result = ferry("verify", moved)
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output


def test_a_json_column_keeps_its_place_among_the_columns(moved: Path, pg_url: str) -> None:
    # parsed (columns.attrs = {from = "attrs", parse_json = true}), it was created last: an
    # app's INSERT INTO shop_product VALUES (…) and SELECT * go by position
    found = pg_rows(
        pg_url,
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
        "FROM information_schema.columns WHERE table_name = 'shop_product'",
    )
    assert found == [("id,attrs,name",)]
