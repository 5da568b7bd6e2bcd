"""A Django app's ``GenericIPAddressField`` and ``DurationField`` moved from SQLite to PostgreSQL.

The schema is the SQL Django 5.2's ``migrate`` writes into SQLite for them: ``char(39)`` and
``bigint`` (microseconds), beside a ``BigIntegerField`` (``bigint`` too). On PostgreSQL Django
makes ``inet`` and ``interval`` and binds those types; moved as ``text`` and ``bigint``, the app's
``ip="10.0.0.5"`` failed (``operator does not exist: text = inet``) and saving a duration failed
(``column "warranty" is of type bigint but expression is of type interval``) — found by a trial
with a real Django project."""

from __future__ import annotations

import sqlite3
import tomllib
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path

import psycopg
import pytest
from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

from ferry.scan.questions import answer_and_save

DJANGO = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
INSERT INTO django_migrations (app, name, applied)
  VALUES ('shop', '0001_initial', '2026-12-07 07:30:00.000000');
CREATE TABLE "shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "name" varchar(120) NOT NULL, "views" bigint NOT NULL, "warranty" bigint NULL);
INSERT INTO shop_product (name, views, warranty) VALUES
  ('kettle', 7000, 31536000000000), ('lamp', 0, 18000000007), ('mug', 12, NULL);
CREATE TABLE "shop_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "ip" char(39) NULL,
  "product_id" bigint NOT NULL REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO shop_order (ip, product_id) VALUES ('10.0.0.5', 1), ('2001:db8::1f', 2), (NULL, 3);
"""


def _table(plan: Path, name: str) -> dict[str, object]:
    return next(t for t in tomllib.loads(plan.read_text())["tables"] if t["name"] == name)


def _questions(plan: Path) -> list[str]:
    return [q["id"] for q in tomllib.loads(plan.read_text()).get("questions", [])]


@pytest.fixture
def moved(tmp_path: Path, pg_url: str) -> Path:
    """The Django file drafted, its questions answered (warranty: a duration), migrated."""
    plan = draft(tmp_path, DJANGO, pg_url)
    answer_and_save(plan, "shop_product.views.duration", "number")
    answer_and_save(plan, "shop_product.warranty.duration", "duration")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    return plan


def test_a_django_ip_address_column_is_drafted_inet(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, DJANGO, pg_url)
    assert _table(plan, "shop_order")["target_types"] == {"ip": "inet"}


def test_a_django_ip_address_column_is_a_postgres_inet(moved: Path, pg_url: str) -> None:
    # Django binds Inet: on a text column "operator does not exist: text = inet"
    found = pg_rows(pg_url, "SELECT id FROM shop_order WHERE ip = '10.0.0.5'::inet")
    assert found == [(1,)]


def test_a_bigint_of_a_django_file_is_a_question(tmp_path: Path, pg_url: str) -> None:
    # a BigIntegerField and a DurationField are both bigint in SQLite; a foreign key is neither
    plan = draft(tmp_path, DJANGO, pg_url)
    assert _questions(plan) == ["shop_product.views.duration", "shop_product.warranty.duration"]


def test_a_sqlite_target_asks_nothing_about_a_bigint(tmp_path: Path) -> None:
    plan = draft(tmp_path, DJANGO, f"sqlite:///{tmp_path / 'new.db'}")
    assert _questions(plan) == []


def test_a_bigint_answered_duration_is_an_interval_of_its_microseconds(
    moved: Path, pg_url: str
) -> None:
    found = pg_rows(pg_url, "SELECT warranty FROM shop_product ORDER BY id")
    assert found == [(timedelta(days=365),), (timedelta(hours=5, microseconds=7),), (None,)]


def test_a_duration_column_takes_the_apps_interval(moved: Path, pg_url: str) -> None:
    # what Django's save() sends; a bigint column refused it
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE shop_product SET warranty = %s WHERE id = 3", (timedelta(days=2),))


def test_a_bigint_answered_number_stays_bigint(moved: Path, pg_url: str) -> None:
    found = pg_rows(pg_url, "SELECT views FROM shop_product ORDER BY id")
    assert found == [(7000,), (0,), (12,)]


def test_the_moved_ips_and_durations_verify(moved: Path) -> None:
    result = ferry("verify", moved)
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output


def test_an_ipv6_address_keeps_its_value(moved: Path, pg_url: str) -> None:
    found = pg_rows(pg_url, "SELECT ip FROM shop_order WHERE id = 2")
    assert found == [(ip_address("2001:db8::1f"),)]


def test_the_reverse_plan_writes_a_duration_back_as_microseconds(
    tmp_path: Path, moved: Path, pg_url: str
) -> None:
    # the old file's DurationField is a bigint: the interval was rejected, "not a whole number"
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE shop_product SET warranty = interval '30 days' WHERE id = 3")
    reverse = tmp_path / "reverse.toml"
    assert ferry("reverse", moved, "-o", reverse).exit_code == 0
    result = ferry("migrate", reverse)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "app" / "app.db") as conn:
        found = conn.execute("SELECT warranty, typeof(warranty) FROM shop_product WHERE id = 3")
        assert found.fetchall() == [(2592000000000, "integer")]


def test_a_django_interval_stays_an_interval_between_two_postgres(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    # as text, the app's save of a duration failed (text column, interval expression)
    pg_exec(
        pg_source,
        'CREATE TABLE "django_migrations" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY '
        'DEFAULT AS IDENTITY, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, '
        '"applied" timestamp with time zone NOT NULL)',
        'CREATE TABLE "shop_warranty" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT '
        'AS IDENTITY, "span" interval NULL)',
        "INSERT INTO shop_warranty (span) VALUES (interval '365 days'), (NULL)",
    )
    plan = tmp_path / "plan.toml"
    assert ferry("init", pg_source, "--target", pg_url, "-o", plan).exit_code == 0
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE shop_warranty SET span = %s WHERE id = 2", (timedelta(days=2),))
    found = pg_rows(pg_url, "SELECT span FROM shop_warranty ORDER BY id")
    assert found == [(timedelta(days=365),), (timedelta(days=2),)]
