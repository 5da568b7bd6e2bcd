"""A UNIQUE on a SQLite ``COLLATE NOCASE`` column stays case-insensitive on PostgreSQL
without ``citext``: a unique index on ``lower(column)`` (Airflow's ``ab_user.username``; the
moved table took ``ADMIN`` beside ``admin``). Real SQLite files, a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from draftkit import draft, ferry
from pgkit import pg_rows

pytestmark = pytest.mark.pg

#: Flask-AppBuilder's ab_user as Airflow 2.10 makes it in SQLite
AB_USER = """
CREATE TABLE ab_user (id INTEGER NOT NULL, username VARCHAR(512) COLLATE "NOCASE" NOT NULL,
    email VARCHAR(512) NOT NULL, nick TEXT COLLATE NOCASE,
    CONSTRAINT ab_user_pkey PRIMARY KEY (id),
    CONSTRAINT ab_user_username_uq UNIQUE (username),
    CONSTRAINT ab_user_email_uq UNIQUE (email));
INSERT INTO ab_user VALUES (1, 'admin', 'admin@example.com', 'Ada');
"""

INDEXES = "SELECT indexdef FROM pg_indexes WHERE tablename = 'ab_user' ORDER BY indexname"


def test_a_nocase_unique_column_refuses_another_case(tmp_path: Path, pg_url: str) -> None:
    result = ferry("migrate", draft(tmp_path, AB_USER, pg_url))
    assert result.exit_code == 0, result.output
    with (
        psycopg.connect(pg_url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        conn.execute("INSERT INTO ab_user (username, email) VALUES ('ADMIN', 'other@example.com')")


def test_check_names_the_case_insensitive_unique(tmp_path: Path, pg_url: str) -> None:
    result = ferry("check", draft(tmp_path, AB_USER, pg_url))
    assert result.exit_code == 0, result.output
    assert "its UNIQUE stays case-insensitive: a unique index on lower(username)" in " ".join(
        result.output.split()
    )


def test_a_nocase_column_without_unique_gets_no_index(tmp_path: Path, pg_url: str) -> None:
    assert ferry("migrate", draft(tmp_path, AB_USER, pg_url)).exit_code == 0
    made = [str(r[0]) for r in pg_rows(pg_url, INDEXES)]
    assert [d for d in made if "lower(" in d] == [
        "CREATE UNIQUE INDEX ab_user_username_lower_key ON public.ab_user USING btree "
        "(lower(username))"
    ]
