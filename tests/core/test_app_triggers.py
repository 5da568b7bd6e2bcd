"""An app's own SQLite triggers carried into a SQLite target and set aside while Ferry writes
(found moving a calibre library: ``calibredb remove`` left the book's links behind, a new book
got no ``uuid`` nor ``sort``, since ``books_delete_trg``, ``books_insert_trg`` and the ``fkc_*``
checks were not carried).

The "app" is a connection of the test's own that registers the function its trigger calls, as
calibre registers ``title_sort``. Real SQLite files, the real CLI.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from draftkit import draft, ferry
from fakesource import run, sqlite_exec

from ferry.plan import plan_from_dict
from ferry.shape.apptriggers import SET_ASIDE

SCHEMA = """
CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL, sort TEXT, uuid TEXT);
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE books_tags_link (id INTEGER PRIMARY KEY, book INTEGER NOT NULL,
                              tag INTEGER NOT NULL);
CREATE TABLE audit (id INTEGER PRIMARY KEY, book INTEGER, what TEXT);
"""
ROWS = """
INSERT INTO tags VALUES (1, 'sea'), (2, 'sky');
INSERT INTO books (id, title, sort, uuid) VALUES (1, 'The Sea', 'Sea, The', 'u-1'),
                                                 (2, 'A Sky', 'Sky, A', 'u-2');
INSERT INTO books_tags_link VALUES (1, 1, 1), (2, 2, 2), (3, 2, 1);
"""
APP_TRIGGERS = """
CREATE TRIGGER books_delete_trg AFTER DELETE ON books BEGIN
    DELETE FROM books_tags_link WHERE book = OLD.id;
END;
CREATE TRIGGER books_insert_trg AFTER INSERT ON books BEGIN
    UPDATE books SET sort = title_sort(NEW.title), uuid = 'u-' || NEW.id WHERE id = NEW.id;
END;
CREATE TRIGGER books_audit AFTER UPDATE OF title ON books BEGIN
    INSERT INTO audit (book, what) VALUES (NEW.id, 'renamed');
END;
CREATE TRIGGER fkc_link_insert BEFORE INSERT ON books_tags_link BEGIN
    SELECT CASE WHEN (SELECT id FROM books WHERE id = NEW.book) IS NULL
        THEN RAISE(ABORT, 'Foreign key violation: book not in books') END;
END;
"""

#: the library as the app left it (its rows came before its triggers: the app's own
#: connection registers title_sort, the test's sqlite3 does not)
LIBRARY = SCHEMA + ROWS + APP_TRIGGERS

TRIGGERS = ["books_audit", "books_delete_trg", "books_insert_trg", "fkc_link_insert"]


def title_sort(title: str) -> str:
    """The app's own function (calibre registers one of that name on its connections)."""
    first, _, rest = title.partition(" ")
    return f"{rest}, {first}" if first in ("The", "A") and rest else title


def app(path: Path) -> sqlite3.Connection:
    """The app's connection to its (moved) library."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("title_sort", 1, title_sort)
    return conn


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def moved(tmp_path: Path) -> tuple[Path, Path]:
    """The library drafted (every run recorded for undo) and migrated into ``out.db``:
    (plan, target)."""
    target = tmp_path / "out.db"
    plan = draft(tmp_path, LIBRARY, f"sqlite:///{target}", file="metadata.db")
    plan.write_text(plan.read_text() + "\n[options]\nundo_first_loads = true\n")
    result = ferry("migrate", "--no-backup", plan)
    assert result.exit_code == 0, result.output
    return plan, target


def change_source(tmp_path: Path, sql: str) -> None:
    conn = app(tmp_path / "app" / "metadata.db")
    try:
        conn.executescript(sql)
    finally:
        conn.close()


def test_the_apps_triggers_are_in_the_target(tmp_path: Path) -> None:
    _, target = moved(tmp_path)

    found = rows(target, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1")
    assert [name for (name,) in found] == TRIGGERS


def test_the_apps_delete_cascades_in_the_target(tmp_path: Path) -> None:
    _, target = moved(tmp_path)

    conn = app(target)
    conn.execute("DELETE FROM books WHERE id = 2")
    conn.close()

    assert rows(target, "SELECT id, book FROM books_tags_link") == [(1, 1)]


def test_the_apps_insert_is_stamped_by_its_own_function(tmp_path: Path) -> None:
    _, target = moved(tmp_path)

    conn = app(target)
    conn.execute("INSERT INTO books (id, title) VALUES (3, 'The Wind')")
    conn.close()

    assert rows(target, "SELECT sort, uuid FROM books WHERE id = 3") == [("Wind, The", "u-3")]


def test_a_bad_insert_of_the_app_is_refused_by_its_check(tmp_path: Path) -> None:
    _, target = moved(tmp_path)

    conn = app(target)
    with pytest.raises(sqlite3.IntegrityError, match="book not in books"):
        conn.execute("INSERT INTO books_tags_link (book, tag) VALUES (9, 1)")
    conn.close()


def test_the_triggers_are_named_carried_in_the_runs_output(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, LIBRARY, f"sqlite:///{target}", file="metadata.db")

    result = ferry("migrate", "--no-backup", "--json", plan)

    assert result.exit_code == 0, result.output
    found = {
        o["name"]: o["detail"]
        for o in json.loads(result.output)["schema_objects"]
        if o["kind"] == "trigger" and o["status"] == "carried"
    }
    aside = "created after the rows are in; set aside while Ferry writes"
    assert found == {
        "books_audit": aside,
        "books_delete_trg": aside,
        "books_insert_trg": f"{aside}; it calls title_sort(), a function the app registers "
        "on its own connections",
        "fkc_link_insert": aside,
    }


def test_a_second_migrate_fires_none_of_them(tmp_path: Path) -> None:
    plan, target = moved(tmp_path)
    # the app renames a book (its trigger writes the audit row) and adds one
    change_source(
        tmp_path,
        "UPDATE books SET title = 'The Deep Sea' WHERE id = 1;"
        "INSERT INTO books (id, title) VALUES (3, 'The Wind');",
    )

    result = ferry("migrate", "--no-backup", plan)

    assert result.exit_code == 0, result.output
    assert rows(target, "SELECT book, what FROM audit") == [(1, "renamed")]
    assert rows(target, "SELECT id, sort, uuid FROM books WHERE id IN (1, 3) ORDER BY id") == [
        (1, "Sea, The", "u-1"),
        (3, "Wind, The", "u-3"),
    ]


def test_a_second_migrate_puts_them_back(tmp_path: Path) -> None:
    plan, target = moved(tmp_path)
    change_source(tmp_path, "UPDATE books SET title = 'The Deep Sea' WHERE id = 1;")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0

    conn = app(target)
    conn.execute("UPDATE books SET title = 'A Sky Again' WHERE id = 2")
    conn.close()

    names = rows(target, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1")
    assert [name for (name,) in names] == TRIGGERS
    assert rows(target, "SELECT book, what FROM audit ORDER BY id") == [
        (1, "renamed"),
        (2, "renamed"),
    ]


def test_a_second_run_names_them_as_in_the_target_and_set_aside(tmp_path: Path) -> None:
    plan, _ = moved(tmp_path)

    again = ferry("migrate", "--no-backup", "--json", plan)

    assert again.exit_code == 0, again.output
    found = {
        (o["name"], o["status"], o["detail"])
        for o in json.loads(again.output)["schema_objects"]
        if o["kind"] == "trigger"
    }
    detail = "in the target already; set aside while Ferry writes"
    assert found == {(name, "carried", detail) for name in TRIGGERS}


def test_the_apps_own_triggers_in_a_target_it_made_are_set_aside_too(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    fresh = app(target)  # the app made its empty library there before the move
    fresh.executescript(SCHEMA + APP_TRIGGERS)
    fresh.close()
    plan = draft(tmp_path, LIBRARY, f"sqlite:///{target}", file="metadata.db")

    result = ferry("migrate", "--no-backup", plan)

    assert result.exit_code == 0, result.output
    assert rows(target, "SELECT id, sort, uuid FROM books ORDER BY id") == [
        (1, "Sea, The", "u-1"),
        (2, "Sky, A", "u-2"),
    ]
    assert rows(target, "SELECT count(*) FROM audit") == [(0,)]


def test_a_failed_run_leaves_the_triggers_as_they_were(tmp_path: Path) -> None:
    plan, target = moved(tmp_path)
    before = rows(target, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    assert [name for name, _ in before] == sorted(TRIGGERS, key=LIBRARY.index)
    # the app made tag names unique in the target; the source gets a second 'sea', and the
    # plan stops on the first rejected row: the run fails after its triggers were set aside
    conn = app(target)
    conn.execute("CREATE UNIQUE INDEX tag_names ON tags (name)")
    conn.close()
    change_source(tmp_path, "INSERT INTO tags VALUES (3, 'sea');")
    plan.write_text(
        plan.read_text().replace('name = "tags"\n', 'name = "tags"\non_reject = "stop"\n')
    )

    result = ferry("migrate", "--no-backup", plan)

    assert result.exit_code != 0 and "tags.name" in result.output
    assert rows(target, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'") == before


def test_an_undo_of_a_later_run_fires_none_of_them(tmp_path: Path) -> None:
    plan, target = moved(tmp_path)
    change_source(tmp_path, "UPDATE books SET title = 'The Deep Sea' WHERE id = 1;")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0

    result = ferry("undo", "--yes", plan)

    assert result.exit_code == 0, result.output
    assert rows(target, "SELECT id, title FROM books ORDER BY id") == [(1, "The Sea"), (2, "A Sky")]
    assert rows(target, "SELECT count(*) FROM audit") == [(0,)]
    names = rows(target, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1")
    assert [name for (name,) in names] == TRIGGERS


def test_an_undo_of_the_first_run_leaves_no_record(tmp_path: Path) -> None:
    plan, target = moved(tmp_path)

    result = ferry("undo", "--yes", plan)

    assert result.exit_code == 0, result.output
    assert (
        rows(
            target,
            "SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_ferry%' "
            "ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
        )
        == []
    )
    assert rows(target, "SELECT count(*) FROM _ferry_triggers") == [(0,)]


def test_a_postgres_target_keeps_naming_them_not_carried(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, LIBRARY, pg_url, file="metadata.db")

    check = " ".join(ferry("check", plan).output.split())

    for name in TRIGGERS:
        assert f"warn trigger {name}: not carried: triggers are not carried: recreate" in check


def _only(tmp_path: Path, tables: list[str], more: str = "") -> list[tuple[str, str, str]]:
    """The triggers' entries of a run of the library (and ``more``) into ``out.db``, of its
    ``tables`` only."""
    sqlite_exec(tmp_path / "metadata.db", LIBRARY + more)
    plan = plan_from_dict(
        {
            "target": {"url": "sqlite:///out.db"},
            "sources": [{"name": "lib", "kind": "sqlite", "path": "metadata.db"}],
            "tables": [{"name": name, "source": f"lib.{name}"} for name in tables],
        },
        tmp_path,
    )
    result = run(plan)
    return [(o.name, o.status, o.detail) for o in result.schema_objects if o.kind == "trigger"]


def test_a_trigger_the_target_refuses_is_not_carried_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    found = _only(tmp_path, ["books", "tags"])  # books_tags_link and audit left out

    assert [
        (name, status, detail) for name, status, detail in found if name != "books_insert_trg"
    ] == [
        (
            "books_delete_trg",
            "not carried",
            "the target refused it: no such table: main.books_tags_link",
        ),
        ("books_audit", "not carried", "the target refused it: no such table: main.audit"),
        (
            "fkc_link_insert",
            "not carried",
            "it is on books_tags_link, a table the plan leaves out: recreate it",
        ),
    ]
    assert rows(tmp_path / "out.db", "SELECT count(*) FROM books") == [(2,)]


def test_a_trigger_on_a_column_its_table_lacks_is_carried_as_it_is(tmp_path: Path) -> None:
    # calibre's fkc_update_books_custom_column_1_link_b: UPDATE OF author, a table without one
    never = (
        "CREATE TRIGGER fkc_never BEFORE UPDATE OF author ON tags BEGIN "
        "SELECT RAISE(ABORT, 'never'); END;"
    )

    found = _only(tmp_path, ["books", "tags", "books_tags_link", "audit"], never)

    assert ("fkc_never", "carried", SET_ASIDE) in found


def test_a_trigger_on_a_renamed_table_and_column_gets_their_new_names(tmp_path: Path) -> None:
    sqlite_exec(
        tmp_path / "music.db",
        "CREATE TABLE track (id INTEGER PRIMARY KEY, title TEXT, added TEXT);"
        "INSERT INTO track VALUES (1, 'Alpha', 'then');"
        "CREATE TRIGGER track_touch AFTER UPDATE OF title ON track BEGIN "
        "UPDATE track SET added = 'touched: ' || NEW.title WHERE id = NEW.id; END;",
    )
    plan = plan_from_dict(
        {
            "target": {"url": "sqlite:///out.db"},
            "sources": [{"name": "app", "kind": "sqlite", "path": "music.db"}],
            "tables": [
                {"name": "songs", "source": "app.track", "columns": {"name": {"from": "title"}}}
            ],
        },
        tmp_path,
    )
    run(plan)

    conn = app(tmp_path / "out.db")
    conn.execute("UPDATE songs SET name = 'Beta' WHERE id = 1")
    conn.close()

    assert rows(tmp_path / "out.db", "SELECT name, added FROM songs") == [("Beta", "touched: Beta")]


def test_a_trigger_feeding_an_index_the_target_does_not_get_says_so(tmp_path: Path) -> None:
    sqlite_exec(
        tmp_path / "notes.db",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        "CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='');"  # contentless: not carried
        "CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN "
        "INSERT INTO notes_fts (rowid, body) VALUES (new.id, new.body); END;",
    )
    plan = plan_from_dict(
        {
            "target": {"url": "sqlite:///out.db"},
            "sources": [{"name": "app", "kind": "sqlite", "path": "notes.db"}],
            "tables": [{"name": "notes", "source": "app.notes"}],
        },
        tmp_path,
    )

    result = run(plan)

    assert [(o.name, o.status, o.detail) for o in result.schema_objects if o.kind == "trigger"] == [
        (
            "notes_ai",
            "not carried",
            "it keeps the full-text index notes_fts current, which is not carried (see its entry)",
        )
    ]
