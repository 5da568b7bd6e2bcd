"""Django's ``…_like`` indexes for a Django app's SQLite database moved to PostgreSQL.

Found moving a Wagtail site: Django makes a ``varchar_pattern_ops``/``text_pattern_ops`` index
beside every indexed or unique CharField on PostgreSQL (``auth_user_username_6821ab7c_like``),
which its ``startswith`` lookups need outside the C locale; SQLite has none, so the moved site
had none and treebeard's ``path LIKE '0001%'`` read whole tables. Now they are made, named as
Django names them. A real SQLite file (Django's own DDL) and the real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_rows

from ferry.shape.djangolike import django_index_name

DJANGO = """
CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "password" varchar(128) NOT NULL, "username" varchar(150) NOT NULL UNIQUE);
CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY,
  "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date");
CREATE TABLE "blog_post" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "slug" varchar(50) NOT NULL, "title" varchar(200) NOT NULL);
CREATE INDEX "blog_post_slug_b95473f2" ON "blog_post" ("slug");
INSERT INTO auth_user VALUES (1, 'x', 'ana');
INSERT INTO django_session VALUES ('k1', 'd', '2024-05-01 10:00:00');
INSERT INTO blog_post VALUES (1, 'first-post', 'First');
"""
LIKE = "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%\\_like' ORDER BY 1"


def _moved(tmp_path: Path, pg_url: str, schema: str = DJANGO) -> None:
    plan = draft(tmp_path, schema, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output


def test_django_names_match_its_own() -> None:
    assert django_index_name("auth_user", ["username"], "_like") == (
        "auth_user_username_6821ab7c_like"
    )


def test_each_indexed_or_unique_text_column_gets_its_like_index(
    tmp_path: Path, pg_url: str
) -> None:
    _moved(tmp_path, pg_url)

    assert pg_rows(pg_url, LIKE) == [
        (
            "auth_user_username_6821ab7c_like",
            "CREATE INDEX auth_user_username_6821ab7c_like ON public.auth_user "
            "USING btree (username varchar_pattern_ops)",
        ),
        (
            "blog_post_slug_b95473f2_like",
            "CREATE INDEX blog_post_slug_b95473f2_like ON public.blog_post "
            "USING btree (slug varchar_pattern_ops)",
        ),
        (
            "django_session_session_key_c0390e0f_like",
            "CREATE INDEX django_session_session_key_c0390e0f_like ON public.django_session "
            "USING btree (session_key varchar_pattern_ops)",
        ),
    ]


def test_a_database_that_is_not_djangos_gets_none(tmp_path: Path, pg_url: str) -> None:
    _moved(tmp_path, pg_url, DJANGO.replace("django_migrations", "app_migrations"))

    assert pg_rows(pg_url, LIKE) == []
