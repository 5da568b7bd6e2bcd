"""A Django database's ``integer``, ``smallint`` and ``varchar(n)`` columns moved to PostgreSQL
are made as Django makes them there, when every value fits; otherwise the widening is named.

Before, an ``IntegerField`` became ``bigint``, a ``SmallIntegerField`` or
``PositiveSmallIntegerField`` ``bigint``, a ``CharField(max_length=100)`` ``text``: the limits
the app's own PostgreSQL database keeps were gone, named only as a "translation". A real
SQLite file (Django's own DDL), the real CLI, the real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_rows

from ferry.plan import load_plan

DJANGO = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
CREATE TABLE "shop_item" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "name" varchar(100) NOT NULL, "rank" smallint NOT NULL, "qty" integer NOT NULL,
  "stock" integer unsigned NOT NULL CHECK ("stock" >= 0),
  "flag" smallint unsigned NOT NULL CHECK ("flag" >= 0),
  "note" varchar(5) NOT NULL, "views" integer NOT NULL);
CREATE TABLE "shop_line" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "item_id" integer NOT NULL REFERENCES "shop_item" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO shop_item VALUES (1, 'Widget', -2, 2000000, 7, 1, 'short', 5000000000);
INSERT INTO shop_line VALUES (1, 1);
"""
TYPES = (
    "SELECT table_name, column_name, data_type, character_maximum_length "
    "FROM information_schema.columns WHERE table_schema = 'public' "
    "AND table_name LIKE 'shop_%' ORDER BY 1, 2"
)


def _drafted(tmp_path: Path, pg_url: str, schema: str = DJANGO) -> Path:
    return draft(tmp_path, schema, pg_url)


def _moved(tmp_path: Path, pg_url: str, schema: str = DJANGO) -> dict[str, tuple[str, int]]:
    plan = _drafted(tmp_path, pg_url, schema)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    return {f"{t}.{c}": (kind, length) for t, c, kind, length in pg_rows(pg_url, TYPES)}


def test_the_draft_sets_the_types_django_makes(tmp_path: Path, pg_url: str) -> None:
    item = next(t for t in load_plan(_drafted(tmp_path, pg_url)).tables if t.name == "shop_item")
    assert item.target_types == {
        "name": "varchar(100)",
        "note": "varchar(5)",
        "rank": "smallint",
        "qty": "integer",
        "stock": "integer",
        "flag": "smallint",
    }


def test_the_columns_are_made_as_django_makes_them(tmp_path: Path, pg_url: str) -> None:
    made = _moved(tmp_path, pg_url)
    assert made["shop_item.name"] == ("character varying", 100)
    assert [made[f"shop_item.{c}"][0] for c in ("rank", "qty", "stock", "flag")] == [
        "smallint",
        "integer",
        "integer",
        "smallint",
    ]


def test_keys_and_foreign_keys_stay_bigint(tmp_path: Path, pg_url: str) -> None:
    made = _moved(tmp_path, pg_url)
    assert made["shop_item.id"][0] == made["shop_line.item_id"][0] == "bigint"


def test_a_value_that_does_not_fit_keeps_the_wider_type(tmp_path: Path, pg_url: str) -> None:
    schema = DJANGO.replace("'short'", "'too long'")
    made = _moved(tmp_path, pg_url, schema)
    assert made["shop_item.note"] == ("text", None)
    assert made["shop_item.views"][0] == "bigint"


def test_the_widening_is_named_in_the_note(tmp_path: Path, pg_url: str) -> None:
    schema = DJANGO.replace("'short'", "'too long'")
    plan = load_plan(_drafted(tmp_path, pg_url, schema))
    notes = " ".join(next(t for t in plan.tables if t.name == "shop_item").notes)
    assert "column 'note' (varchar(5)) of a Django database holds a value of 8 characters" in notes
    assert (
        "column 'views' (INTEGER) of a Django database holds 5000000000, which PostgreSQL " in notes
    )


def test_the_widening_is_named_in_check(tmp_path: Path, pg_url: str) -> None:
    schema = DJANGO.replace("'short'", "'too long'")
    result = ferry("check", _drafted(tmp_path, pg_url, schema))
    said = " ".join(result.output.split())
    assert "column type shop_item.note: translated: varchar(5) → text" in said
