"""A SQLite file whose schema names a collation the app registers itself (Anki's ``unicase``).

Found drafting an Anki collection: ``ferry init`` read nothing of it (``no such collation
sequence: unicase``: even ``count(*)`` uses the index on such a column, and a WITHOUT ROWID table
keyed by one has "no query solution"). Now every connection Ferry reads a SQLite file on
registers a stand-in (Unicode case folding); the target does not get the collation, named as not
carried. Real SQLite files, the real CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from draftkit import ferry

from ferry.sources.appcollations import named_collations, stand_in


def _unicase(a: str, b: str) -> int:
    return stand_in(a, b)


def _app(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    db = sqlite3.connect(folder / "collection.db")
    db.create_collation("unicase", _unicase)  # as the app does on each connection
    db.executescript(
        """
        CREATE TABLE decks (id integer PRIMARY KEY NOT NULL,
                            name text NOT NULL COLLATE unicase);
        CREATE UNIQUE INDEX idx_decks_name ON decks (name);
        CREATE TABLE tags (tag text NOT NULL PRIMARY KEY COLLATE unicase,
                           usn integer NOT NULL) WITHOUT ROWID;
        INSERT INTO decks VALUES (1, 'Default'), (2, 'Ärger'), (3, 'spanish');
        INSERT INTO tags VALUES ('verb', 0), ('Week1', 1), ('éte', 2);
        """
    )
    db.commit()
    db.close()
    return folder


def _drafted(tmp_path: Path, *target: str) -> Path:
    plan = tmp_path / "plan.toml"
    result = ferry("init", _app(tmp_path), "-o", plan, *target)
    assert result.exit_code == 0, result.output
    return plan


def test_init_reads_a_file_with_an_app_collation(tmp_path: Path) -> None:
    plan = _drafted(tmp_path)

    text = plan.read_text(encoding="utf-8")
    assert 'name = "decks"' in text and 'name = "tags"' in text


def test_the_collation_is_named_not_carried(tmp_path: Path) -> None:
    plan = _drafted(tmp_path)

    checked = " ".join(ferry("check", plan).output.split())

    assert "collation tags.tag: not carried: COLLATE UNICASE" in checked


def test_every_row_comes_across_and_verifies(tmp_path: Path) -> None:
    plan = _drafted(tmp_path)
    assert ferry("migrate", plan).exit_code == 0

    verified = ferry("verify", plan)

    assert verified.exit_code == 0, verified.output
    with sqlite3.connect(tmp_path / "ferry.db") as db:
        tags = db.execute("SELECT tag FROM tags ORDER BY usn").fetchall()
    assert tags == [("verb",), ("Week1",), ("éte",)]


def test_postgresql_gets_every_row(tmp_path: Path, pg_url: str) -> None:
    plan = _drafted(tmp_path, "--target", pg_url)

    assert ferry("migrate", plan).exit_code == 0
    assert ferry("verify", plan).exit_code == 0


def test_only_collations_sqlite_lacks_are_named() -> None:
    sql = 'CREATE TABLE t (a TEXT COLLATE NOCASE, b TEXT COLLATE "my coll", c TEXT collate unicase)'
    assert named_collations(sql) == {"my coll", "unicase"}
