"""SQLite sorts a text column without COLLATE byte by byte; a PostgreSQL database with a
language's collation (ICU ``en-US`` here, glibc ``en_US.UTF-8`` on many servers) sorts it
otherwise. Found moving a Trac project: its ticket query ordered by summary and its reports'
``min()``/``>`` gave other answers on PostgreSQL, and nothing said so. ``check`` and the
preview name every such column (``text order``, not carried) with both orders, and so for the
way back: a PostgreSQL database sorting by a language moved into SQLite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from draftkit import draft, ferry
from pgkit import pg_exec
from psycopg import sql

from pgcluster import drop_database, with_database

APP = """
CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, code TEXT COLLATE NOCASE, qty INTEGER);
INSERT INTO item VALUES (1, 'Beta', 'x', 1), (2, 'alpha', 'y', 2);
"""
ORDERS = (
    "the source compares text byte by byte (B < Z < _a < a < é); the target sorts it by its "
    "collation en-US (ICU) (_a < a < B < é < Z)"
)


@pytest.fixture
def english_url(pg_server_url: str) -> Iterator[str]:
    """A new database sorting text by ICU's en-US, dropped after the test."""
    name = f"ferry_order_{uuid.uuid4().hex[:8]}"
    create = sql.SQL(
        "CREATE DATABASE {} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
        "LOCALE 'C.UTF-8'"
    ).format(sql.Identifier(name))
    try:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(create)
    except psycopg.Error as exc:  # PostgreSQL before 15, or built without ICU
        if os.environ.get("CI"):  # a PostgreSQL test never silently skips in CI
            pytest.fail(f"the server cannot create an ICU database: {exc}")
        pytest.skip(f"the server cannot create an ICU database: {exc}")
    try:
        yield with_database(pg_server_url, name)
    finally:
        drop_database(pg_server_url, name)


def _flat(text: str) -> str:
    """The output as one line (rich wraps it at the terminal's width)."""
    return " ".join(text.split())


def test_check_names_the_text_columns_the_target_sorts_otherwise(
    tmp_path: Path, english_url: str
) -> None:
    result = ferry("check", draft(tmp_path, APP, english_url))
    # item.code compares ignoring case in SQLite (its own finding): not in bytes, not here
    assert f"warn text order item.name: not carried: {ORDERS}" in _flat(result.output)


def test_the_preview_names_the_columns_on_one_line(tmp_path: Path, english_url: str) -> None:
    app = (
        APP.replace("qty INTEGER", "note TEXT").replace(", 1)", ", 'n')").replace(", 2)", ", 'm')")
    )
    result = ferry("preview", draft(tmp_path, app, english_url))
    assert result.exit_code == 0, result.output
    assert f"text order item.name, item.note: not carried ({ORDERS}" in _flat(result.output)


def test_the_way_back_names_what_sqlite_will_sort_byte_by_byte(
    tmp_path: Path, english_url: str
) -> None:
    pg_exec(
        english_url, 'CREATE TABLE item (id bigint PRIMARY KEY, name text, code text COLLATE "C")'
    )
    plan = tmp_path / "back.toml"
    target = f"sqlite:///{tmp_path / 'back.db'}"
    assert ferry("init", english_url, "--target", target, "-o", plan).exit_code == 0
    result = ferry("check", plan)
    assert (
        "warn text order item.name: not carried: the source sorts text by its collation en-US "
        "(ICU) (_a < a < B < é < Z); the target compares it byte by byte (B < Z < _a < a < é)"
    ) in _flat(result.output)
