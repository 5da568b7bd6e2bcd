"""A created table's foreign key or index that fails once the rows are in names its own cause.

Every such failure used to say "The source's rows break this constraint or index", also where
no row was at fault: a foreign key onto columns the parent table does not keep unique
(SQLite declares it and enforces nothing; PostgreSQL refuses the key itself), or a name the
target holds already (PostgreSQL's "already exists": the Airflow move's second foreign key
added under the first's name). Real SQLite files, real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from draftkit import draft, ferry
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from ferry.targets.afterload import after_load_failed

PARENT = "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT);"
#: a foreign key onto parent.code, which nothing keeps unique
LOOSE = (
    PARENT
    + """
CREATE TABLE child (id INTEGER PRIMARY KEY, code TEXT,
    CONSTRAINT child_parent FOREIGN KEY (code) REFERENCES parent (code));
INSERT INTO parent VALUES (1, 'a');
INSERT INTO child VALUES (1, 'a');
"""
)
#: a row whose parent is missing (SQLite enforces no foreign key unless the app asks)
ORPHAN = (
    PARENT
    + """
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER,
    CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
INSERT INTO parent VALUES (1, 'a');
INSERT INTO child VALUES (1, 9);
"""
)


def _said(tmp_path: Path, schema: str, pg_url: str) -> str:
    result = ferry("migrate", draft(tmp_path, schema, pg_url))
    assert result.exit_code == 5, result.output
    return " ".join(result.output.split())  # the console wraps long lines


def test_a_key_onto_columns_not_kept_unique_names_the_parents_columns(
    tmp_path: Path, pg_url: str
) -> None:
    said = _said(tmp_path, LOOSE, pg_url)
    assert 'table child: ALTER TABLE "child" ADD CONSTRAINT "child_parent" FOREIGN KEY' in said
    assert "parent (code) is not the primary key or UNIQUE" in said


def test_a_key_onto_columns_not_kept_unique_blames_no_row(tmp_path: Path, pg_url: str) -> None:
    said = _said(tmp_path, LOOSE, pg_url)
    assert "rows break" not in said
    assert "No row is at fault" in said


def test_a_missing_parent_is_still_the_rows(tmp_path: Path, pg_url: str) -> None:
    said = _said(tmp_path, ORPHAN, pg_url)
    assert "rows reference rows missing from parent" in said
    assert "Key (parent_id)=(9) is not present" in said


def _refused(pg_url: str, *statements: str) -> DBAPIError:
    """The error PostgreSQL gives for the last of ``statements`` (in a rolled-back
    transaction)."""
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            for statement in statements[:-1]:
                conn.execute(text(statement))
            with pytest.raises(DBAPIError) as refused:
                conn.execute(text(statements[-1]))
            conn.rollback()
    finally:
        engine.dispose()
    return refused.value


def test_a_name_taken_already_is_named_not_blamed_on_rows(pg_url: str) -> None:
    statement = (
        'ALTER TABLE "child" ADD CONSTRAINT "k" FOREIGN KEY ("p") REFERENCES "parent" ("id")'
    )
    exc = _refused(
        pg_url,
        "CREATE TABLE parent (id int PRIMARY KEY)",
        "CREATE TABLE child (p int, CONSTRAINT k CHECK (p > 0))",
        statement,
    )

    error = after_load_failed("child", statement, exc)

    assert 'the name "k" is taken in the target already' in error.message
    assert error.hint is not None and "No row is at fault" in error.hint
    assert "rows break" not in error.hint
