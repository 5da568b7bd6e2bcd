"""A SQLite column whose declared number type holds text no number reads, drafted for
PostgreSQL. Found moving an Anki collection: ``notes.sfld INTEGER`` holds each note's sort
field, text where it is no number; the draft kept ``integer`` and its first run rejected every
note. Now the draft makes it ``text`` with a note. A real SQLite file, the real PostgreSQL
server, the real CLI."""

from __future__ import annotations

import tomllib
from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_rows

APP = """
CREATE TABLE notes (id INTEGER PRIMARY KEY, sfld INTEGER NOT NULL, csum INTEGER NOT NULL);
INSERT INTO notes VALUES (1, 'hablar', 10), (2, 42, 11), (3, '7', 12), (4, 'comer', 13),
  (5, 'vivir', 14);
"""


def _table(plan: Path) -> dict:
    (table,) = tomllib.loads(plan.read_text(encoding="utf-8"))["tables"]
    return table


def test_the_draft_makes_the_column_text_and_says_why(tmp_path: Path, pg_url: str) -> None:
    table = _table(draft(tmp_path, APP, pg_url))

    assert table["types"]["sfld"] == "text" and table["types"]["csum"] == "integer"
    (note,) = [n for n in table["notes"] if "'sfld'" in n]
    assert "holds 3 values an integer column rejects ('hablar' at id 1; 'comer' at id 4, …)" in note


def test_every_row_loads(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, APP, pg_url)

    result = ferry("migrate", plan)

    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT id, sfld FROM notes ORDER BY id") == [
        (1, "hablar"),
        (2, "42"),
        (3, "7"),
        (4, "comer"),
        (5, "vivir"),
    ]


def test_a_few_placeholders_keep_the_type(tmp_path: Path, pg_url: str) -> None:
    table = _table(draft(tmp_path, APP.replace("'comer'", "'5'").replace("'vivir'", "6"), pg_url))

    assert table["types"]["sfld"] == "integer"
