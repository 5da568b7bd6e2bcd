"""SQLite sorts NULL first in an ascending ORDER BY, PostgreSQL last: a moved Trac project's
"Active Tickets" listed the tickets with no milestone at the other end, and nothing said so.
``check``, the preview and the report name it once, on one line: the NULLable columns of
the created tables that an index or a UNIQUE constraint covers, with how to keep the
source's order; and so for the way back."""

from __future__ import annotations

from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec

APP = """
CREATE TABLE ticket (id INTEGER PRIMARY KEY, status TEXT, milestone TEXT,
    time INTEGER NOT NULL, code TEXT UNIQUE);
CREATE INDEX ticket_status ON ticket (status);
CREATE INDEX ticket_time ON ticket (time);
CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT, rank INTEGER);
CREATE INDEX note_rank ON note (rank DESC);
INSERT INTO ticket VALUES (1, 'new', NULL, 5, 'x'), (2, NULL, 'm1', 6, NULL);
INSERT INTO note VALUES (1, 'b', NULL);
"""
SQLITE_FIRST = (
    "SQLite sorts NULL first in an ascending ORDER BY (last descending), PostgreSQL last "
    "(first descending), so rows without a value move to the other end of a list sorted by any "
    "NULLable column (these are the ones an index or UNIQUE constraint covers). To keep "
    "SQLite's order, write ORDER BY … NULLS FIRST (DESC NULLS LAST) in the app's SQL"
)


def _flat(text: str) -> str:
    """The output as one line (rich wraps it at the terminal's width)."""
    return " ".join(text.split())


def test_check_names_the_indexed_nullable_columns_in_one_finding(
    tmp_path: Path, pg_url: str
) -> None:
    # not ticket.milestone (no index) nor ticket.time (NOT NULL)
    output = _flat(ferry("check", draft(tmp_path, APP, pg_url)).output)
    assert (
        f"warn NULL order note.rank, ticket.status, ticket.code: not carried: {SQLITE_FIRST}"
    ) in output
    assert output.count("NULL order") == 1


def test_the_preview_names_them_on_one_line(tmp_path: Path, pg_url: str) -> None:
    result = ferry("preview", draft(tmp_path, APP, pg_url))
    assert result.exit_code == 0, result.output
    assert (
        f"NULL order note.rank, ticket.status, ticket.code: not carried ({SQLITE_FIRST}"
    ) in _flat(result.output)


def test_the_way_back_names_what_sqlite_sorts_first(tmp_path: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE item (id bigint PRIMARY KEY, name text, rank int, size int NOT NULL);"
        "CREATE INDEX item_rank ON item (rank, size); CREATE INDEX item_name ON item (lower(name))",
    )
    plan = tmp_path / "back.toml"
    target = f"sqlite:///{tmp_path / 'back.db'}"
    assert ferry("init", pg_url, "--target", target, "-o", plan).exit_code == 0
    assert (
        "warn NULL order item.rank: not carried: PostgreSQL sorts NULL last in an ascending "
        "ORDER BY (first descending), SQLite first (last descending)"
    ) in _flat(ferry("check", plan).output)


def test_sqlite_into_sqlite_sorts_null_where_it_did(tmp_path: Path) -> None:
    result = ferry("check", draft(tmp_path, APP, f"sqlite:///{tmp_path / 'out.db'}"))
    assert result.exit_code == 0, result.output
    assert "NULL order" not in result.output
