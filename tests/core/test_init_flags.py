"""An INTEGER column of 0s and 1s in a SQLite app is a number to some apps and a flag to
others (found moving a peewee app, whose BooleanField is INTEGER in SQLite: its first INSERT
into PostgreSQL bound true into the bigint column). The draft keeps integer and says when
boolean is the answer; the answer moves the 0s and 1s into a PostgreSQL boolean."""

from __future__ import annotations

import tomllib
from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

APP = """
CREATE TABLE "user" (uid TEXT PRIMARY KEY, name VARCHAR(255), active INTEGER NOT NULL,
                     parent_id INTEGER);
INSERT INTO "user" VALUES ('a', 'ana', 1, 0), ('b', 'bo', 0, 1);
"""


def _notes(plan: Path) -> list[str]:
    (table,) = tomllib.loads(plan.read_text(encoding="utf-8"))["tables"]
    return list(table.get("notes", []))


def test_a_postgres_draft_notes_the_column_of_0s_and_1s(tmp_path: Path, pg_url: str) -> None:
    notes = _notes(draft(tmp_path, APP, pg_url))
    assert [n for n in notes if "0 and 1" in n] == [
        "column 'active' is declared INTEGER and holds only 0 and 1 (1 zeros, 1 ones): kept "
        "integer, as the app's SQL may count it or compare it with 1; if its ORM binds "
        'true/false (peewee\'s BooleanField), types.active = "boolean" makes it a PostgreSQL '
        "boolean (a bigint refuses true/false)"
    ]


def test_a_sqlite_draft_has_no_such_note(tmp_path: Path) -> None:
    notes = _notes(draft(tmp_path, APP, f"sqlite:///{tmp_path / 'out.db'}"))
    assert not [n for n in notes if "0 and 1" in n]


def test_the_answer_moves_them_into_a_boolean(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, APP, pg_url)
    plan.write_text(plan.read_text().replace('active = "integer"', 'active = "boolean"'))
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    pg_exec(pg_url, "INSERT INTO \"user\" (uid, name, active) VALUES ('c', 'cy', true)")
    assert pg_rows(pg_url, 'SELECT uid, active FROM "user" ORDER BY uid') == [
        ("a", True),
        ("b", False),
        ("c", True),
    ]


COUNTERS = """
CREATE TABLE cards (id INTEGER PRIMARY KEY, lapses INTEGER NOT NULL, is_suspended INTEGER);
INSERT INTO cards VALUES (1, 0, 0), (2, 0, 0);
"""


def test_a_column_of_zeros_only_is_no_flag(tmp_path: Path, pg_url: str) -> None:
    # a fresh Anki collection: twenty counters still at 0 were each noted as a possible flag
    notes = _notes(draft(tmp_path, COUNTERS, pg_url))
    assert not [n for n in notes if "'lapses'" in n]


def test_a_column_of_zeros_named_as_a_flag_is_noted(tmp_path: Path, pg_url: str) -> None:
    notes = _notes(draft(tmp_path, COUNTERS, pg_url))
    assert [n for n in notes if "'is_suspended'" in n and "(2 zeros, 0 ones)" in n]
