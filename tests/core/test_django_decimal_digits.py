"""A Django app's ``DecimalField`` moved from SQLite to PostgreSQL: Django declares it plain
``decimal`` in SQLite, without its digits, and ``numeric(10,2)`` on PostgreSQL. Moved as
``numeric``, the app read ``Decimal('127.7')`` for ``127.70`` and ``dumpdata`` differed from the
SQLite one (found by a trial with a real Django project); the digits are a question."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from draftkit import draft, ferry
from pgkit import pg_rows

from ferry.errors import PlanError
from ferry.scan.questions import answer_and_save

DJANGO = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO django_migrations (app, name, applied)
  VALUES ('shop', '0001_initial', '2026-12-07 07:30:00.000000');
CREATE TABLE "shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "price" decimal NOT NULL, CONSTRAINT "price_not_negative" CHECK ("price" >= '0'));
INSERT INTO shop_product (price) VALUES (127.70), (953.04), (671);
"""


def _questions(plan: Path) -> list[str]:
    return [q["id"] for q in tomllib.loads(plan.read_text()).get("questions", [])]


def test_a_django_decimal_column_asks_for_its_digits(tmp_path: Path, pg_url: str) -> None:
    assert _questions(draft(tmp_path, DJANGO, pg_url)) == ["shop_product.price.digits"]


def test_the_answered_digits_are_the_columns_type(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, DJANGO, pg_url)
    answer_and_save(plan, "shop_product.price.digits", "numeric(10,2)")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    # Decimal("127.7") == Decimal("127.70"): compared as the app shows them
    found = pg_rows(pg_url, "SELECT price FROM shop_product ORDER BY id")
    assert [str(price) for (price,) in found] == ["127.70", "953.04", "671.00"]


def test_an_answer_that_is_no_numeric_type_is_refused(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, DJANGO, pg_url)
    with pytest.raises(PlanError, match=r"a target type is uuid, inet, .* or numeric\(P,S\)"):
        answer_and_save(plan, "shop_product.price.digits", "10,2")


def test_a_sqlite_target_asks_nothing_about_digits(tmp_path: Path) -> None:
    assert _questions(draft(tmp_path, DJANGO, f"sqlite:///{tmp_path / 'new.db'}")) == []
