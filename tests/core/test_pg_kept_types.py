"""Between two PostgreSQL databases a created column keeps its declared length limit and
integer size (found moving MLflow's tracking database PostgreSQL → PostgreSQL: every
``varchar(n)`` became ``text`` and every ``integer`` a ``bigint``); from SQLite, whose
``VARCHAR(n)`` holds any length, they stay ``text``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from pgkit import pg_exec, pg_rows

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


TYPES = (
    "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
    "WHERE table_name = 'tag' ORDER BY ordinal_position"
)


def move(tmp_path: Path, source: str, target: str) -> Result:
    plan = tmp_path / "plan.toml"
    result = ferry("init", source, "--target", target, "-o", plan)
    assert result.exit_code == 0, result.output
    return ferry("migrate", plan)


def test_postgres_to_postgres_keeps_lengths_and_integer_sizes(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    pg_exec(
        pg_source,
        "CREATE TABLE tag (id serial PRIMARY KEY, code char(2), name varchar(8) NOT NULL, "
        "hits integer, rank smallint, note text, big bigint)",
        "INSERT INTO tag (code, name, hits, rank) VALUES ('ab', 'eight ch', 5, 1)",
    )
    result = move(tmp_path, pg_source, pg_url)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, TYPES) == pg_rows(pg_source, TYPES)
    assert "varchar(8)" not in result.output  # nothing "translated"


def test_sqlite_varchar_lengths_become_text_on_postgres(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "app.db") as conn:
        conn.execute("CREATE TABLE tag (id INTEGER PRIMARY KEY, name VARCHAR(2), hits INT)")
        conn.execute("INSERT INTO tag VALUES (1, 'longer than two', 3)")
    conn.close()
    result = move(tmp_path, str(folder), pg_url)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, TYPES) == [
        ("id", "bigint", None),
        ("name", "text", None),
        ("hits", "bigint", None),
    ]


def test_postgres_uuid_stays_uuid_and_the_apps_uuid_queries_work(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    pg_exec(
        pg_source,
        "CREATE TABLE account (id uuid PRIMARY KEY, email text)",
        "CREATE TABLE note (id serial PRIMARY KEY, account_id uuid REFERENCES account (id))",
        "INSERT INTO account VALUES ('00da604b-2226-4203-8b88-6b28f6908783', 'a@x.org')",
        "INSERT INTO note (account_id) VALUES ('00da604b-2226-4203-8b88-6b28f6908783')",
    )
    result = move(tmp_path, pg_source, pg_url)
    assert result.exit_code == 0, result.output
    query = (
        "SELECT a.email FROM account a JOIN note n ON n.account_id = a.id "
        "WHERE a.id = '00da604b222642038b886b28f6908783'::uuid"
    )
    assert pg_rows(pg_url, query) == [("a@x.org",)]
    assert ferry("verify", tmp_path / "plan.toml").exit_code == 0


ARRAYS = (
    "CREATE TABLE tag (id serial PRIMARY KEY, labels text[], scores integer[], "
    "names varchar(10)[])",
    "INSERT INTO tag (labels, scores, names) VALUES ('{a,b}', '{1,NULL}', '{\"x y\",\"p,q\"}')",
)


def test_postgres_to_postgres_keeps_arrays(tmp_path: Path, pg_source: str, pg_url: str) -> None:
    """Found moving an app with a ``text[]`` column: it became ``jsonb``, and the app's
    INSERT of a list (an array) failed, as did its ``'a' = ANY(labels)``."""
    pg_exec(pg_source, *ARRAYS)
    result = move(tmp_path, pg_source, pg_url)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT labels, scores, names FROM tag") == pg_rows(
        pg_source, "SELECT labels, scores, names FROM tag"
    )
    pg_exec(pg_url, "INSERT INTO tag (labels) VALUES (ARRAY['c'])")
    assert pg_rows(pg_url, "SELECT count(*) FROM tag WHERE 'c' = ANY(labels)") == [(1,)]


def test_kept_arrays_verify_and_rerun_unchanged(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    pg_exec(pg_source, *ARRAYS)
    assert move(tmp_path, pg_source, pg_url).exit_code == 0
    assert ferry("verify", tmp_path / "plan.toml").exit_code == 0
    again = ferry("migrate", "--no-backup", tmp_path / "plan.toml")
    assert again.exit_code == 0, again.output
    assert "0 rows changed" in again.output


def test_an_enum_column_keeps_its_values_checked(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    """Found moving an app with ``CREATE TYPE mood AS ENUM``: the column became text and took
    any value; a CHECK now keeps the enum's values (the type itself is not created)."""
    pg_exec(
        pg_source,
        "CREATE TYPE mood AS ENUM ('sad', 'ok')",
        "CREATE TABLE tag (id serial PRIMARY KEY, m mood NOT NULL)",
        "INSERT INTO tag (m) VALUES ('ok')",
    )
    assert move(tmp_path, pg_source, pg_url).exit_code == 0
    pg_exec(pg_url, "INSERT INTO tag (m) VALUES ('sad')")
    with pytest.raises(psycopg.errors.CheckViolation):
        pg_exec(pg_url, "INSERT INTO tag (m) VALUES ('angry')")


def test_postgres_to_postgres_keeps_network_addresses(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    # Django's GenericIPAddressField binds Inet: as text, ip="10.0.0.5" failed (text = inet)
    pg_exec(
        pg_source,
        "CREATE TABLE hit (id serial PRIMARY KEY, ip inet, net cidr, mac macaddr)",
        "INSERT INTO hit (ip, net, mac) VALUES ('10.0.0.5', '10.0.0.0/24', '08:00:2b:01:02:03'),"
        " ('2001:db8::1f/64', NULL, NULL)",
    )
    result = move(tmp_path, pg_source, pg_url)
    assert result.exit_code == 0, result.output
    found = pg_rows(
        pg_url, "SELECT id FROM hit WHERE ip = '10.0.0.5'::inet OR net >> ip ORDER BY id"
    )
    assert found == [(1,)]
    assert ferry("verify", tmp_path / "plan.toml").exit_code == 0


def test_postgres_to_postgres_keeps_an_address_index_method(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    pg_exec(
        pg_source,
        "CREATE TABLE hit (id serial PRIMARY KEY, ip inet)",
        "CREATE INDEX hit_ip ON hit USING gist (ip inet_ops)",
    )
    assert move(tmp_path, pg_source, pg_url).exit_code == 0
    found = pg_rows(pg_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'hit_ip'")
    assert found == [("CREATE INDEX hit_ip ON public.hit USING gist (ip inet_ops)",)]
