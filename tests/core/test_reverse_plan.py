"""The reverse plan (issue 20, item 7): after the switch, the new store goes back into the old
SQLite file by the same keys, so going back to the old app loses nothing the new one wrote.

Real files and a real PostgreSQL server: ``ferry init``'s draft is migrated unchanged, an
"app" writes into the new store (inserts without ids, updates), and the reverse plan written
by ``ferry reverse`` is checked and migrated back."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from appdb import TABLES, build_sqlite
from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.plan import load_plan, save_plan
from ferry.reverseplan import reverse_plan
from ferry.scan.questions import answer_and_save


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def ok(*args: str | Path) -> Result:
    result = ferry(*args)
    assert result.exit_code == 0, result.output
    return result


def rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2').fetchall()
    conn.close()
    return found


def move(tmp_path: Path, target: str) -> tuple[Path, Path, Path]:
    """The app database drafted with ``ferry init`` and migrated into ``target``; returns
    (plan, the old SQLite file, a copy of it as it was at the switch)."""
    folder = tmp_path / "app"
    folder.mkdir()
    old = build_sqlite(folder / "music.db")
    _add_notes(old)
    plan = tmp_path / "ferry.toml"
    ok("init", folder, "--target", target, "-o", plan)
    ok("migrate", plan, "-q")
    at_switch = tmp_path / "at-switch.db"
    at_switch.write_bytes(old.read_bytes())
    return plan, old, at_switch


def _add_notes(path: Path) -> None:
    """A table whose app stamps each write (``updated_at``), with a mixed-case name."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE Note (
                NoteId INTEGER PRIMARY KEY AUTOINCREMENT,
                Body TEXT NOT NULL,
                updated_at DATETIME NOT NULL
            );
            INSERT INTO Note VALUES (1, 'first', '2024-01-01 10:00:00'),
                                    (2, 'second', '2024-01-01 10:00:00');
            """
        )
    conn.close()


def assert_back(old: Path, at_switch: Path) -> None:
    """The old file holds the app's new and changed rows; every other row is as it was."""
    before = {t: rows(at_switch, t) for t in TABLES}
    after = {t: rows(old, t) for t in TABLES}
    assert after["artist"][:-1] == before["artist"]
    assert after["artist"][-1][:2] == (8, "New artist")  # its id from the new store's identity
    assert next(r for r in after["customer"] if r[0] == 1)[1] == "luis@new.example"
    assert [r[1:] for r in after["customer"] if r[0] != 1] == [
        r[1:] for r in before["customer"] if r[0] != 1
    ]
    assert (10, "New track", 1, 1, 1, 1000, 1.5) in after["track"]
    assert after["track"][:3] == before["track"]
    for table in TABLES:
        if table not in ("artist", "customer", "track"):
            assert after[table] == before[table], table
    notes = rows(old, "Note")
    assert notes[0][:2] == (1, "first, edited")
    assert notes[1] == (2, "second", "2024-01-01 10:00:00")
    assert notes[2][:2] == (3, "third")


def test_sqlite_to_postgres_and_back(tmp_path: Path, pg_url: str) -> None:
    plan, old, at_switch = move(tmp_path, pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # the new app, after the switch
        conn.execute("INSERT INTO artist (name) VALUES ('New artist')")
        conn.execute("UPDATE customer SET email = 'luis@new.example' WHERE customer_id = 1")
        conn.execute(
            "INSERT INTO track (name, album_id, media_type_id, genre_id, milliseconds, "
            "unit_price) VALUES ('New track', 1, 1, 1, 1000, 1.50)"
        )
        conn.execute("UPDATE note SET body = 'first, edited', updated_at = now() WHERE noteid = 1")
        conn.execute("INSERT INTO note (body, updated_at) VALUES ('third', now())")
    reverse = tmp_path / "reverse.toml"
    ok("reverse", plan, "-o", reverse)
    data = tomllib.loads(reverse.read_text())
    source = data["sources"][0]
    assert (source["name"], source["kind"], source["url"]) == ("new", "postgres", pg_url)
    assert sorted(source["tables"]) == sorted([*TABLES, "note"])
    assert data["target"] == {"url": "sqlite:///app/music.db"}
    note = next(t for t in data["tables"] if t["name"] == "Note")
    assert note["source"] == "new.note" and note["key"] == ["NoteId"]
    assert note["columns"] == {"NoteId": "noteid", "Body": "body"}  # folded names mapped back
    assert (note["conflict"], note["newer_by"]) == ("newer", "updated_at")
    assert all(t["conflict"] == "update" for t in data["tables"] if t["name"] != "Note")
    assert "delete_missing" not in str(data)

    ok("check", reverse)
    ok("migrate", reverse, "-q")
    assert_back(old, at_switch)
    again = ok("migrate", reverse, "--json", "-q").output
    assert '"inserted": 1' not in again and '"updated": 1' not in again  # nothing left to do
    ok("check", reverse)


def test_sqlite_to_sqlite_and_back_newer_copy_in_the_old_file_stays(tmp_path: Path) -> None:
    plan, old, at_switch = move(tmp_path, "sqlite:///new.db")
    new = tmp_path / "new.db"
    with sqlite3.connect(new) as conn:
        conn.execute("INSERT INTO artist (name) VALUES ('New artist')")
        conn.execute("UPDATE customer SET email = 'luis@new.example' WHERE customer_id = 1")
        conn.execute(
            "INSERT INTO track (name, album_id, media_type_id, genre_id, milliseconds, "
            "unit_price) VALUES ('New track', 1, 1, 1, 1000, 1.50)"
        )
        conn.execute(
            "UPDATE Note SET Body = 'first, edited', updated_at = '2025-06-01 00:00:00' "
            "WHERE NoteId = 1"
        )
        conn.execute("UPDATE Note SET Body = 'second, older' WHERE NoteId = 2")
        conn.execute("INSERT INTO Note (Body, updated_at) VALUES ('third', '2025-06-01 00:00:00')")
    conn.close()
    reverse = tmp_path / "back" / "reverse.toml"
    reverse.parent.mkdir()
    ok("reverse", plan, "-o", reverse)
    data = tomllib.loads(reverse.read_text())
    assert data["sources"][0]["kind"] == "sqlite"
    # Outside the reverse plan's folder: absolute paths (inside it they are relative).
    assert data["sources"][0]["path"] == str(new.resolve())
    assert data["target"] == {"url": f"sqlite:///{old.resolve()}"}
    ok("check", reverse)
    ok("migrate", reverse, "-q")
    # Note 2 changed in the new store without a newer stamp: the old file's copy stays.
    assert_back(old, at_switch)


def test_a_transform_is_named_and_asked_about(tmp_path: Path) -> None:
    plan_path, _old, _ = move(tmp_path, "sqlite:///new.db")
    plan = load_plan(plan_path)
    genre = next(t for t in plan.tables if t.name == "genre")
    genre.columns = {"name": {"from": "name", "ops": ["lower"]}}  # type: ignore[dict-item]
    plan = load_plan_from(plan, tmp_path / "edited.toml")
    result = reverse_plan(plan)
    assert any(
        n.startswith("table genre: not reversed exactly") and "ops = ['lower']" in n
        for n in result.notes
    )
    assert "genre" not in [t.name for t in result.plan.tables]
    question = next(q for q in result.plan.questions if q.id == "reverse.genre")
    assert question.choices == ["leave", "carry"] and question.default == "leave"
    assert "# Not reversed exactly, left out until answered ([[questions]]): genre." in result.text
    reverse = tmp_path / "reverse.toml"
    result.write(reverse)
    assert ferry("migrate", reverse, "-q").exit_code == 3  # the operator decides first
    answer_and_save(reverse, "reverse.genre", "carry")
    assert "genre" in [t.name for t in load_plan(reverse).tables]
    ok("check", reverse)


def load_plan_from(plan: Any, path: Path) -> Any:
    save_plan(plan, path)
    return load_plan(path)


def test_hooks_merges_and_keyless_tables_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "a.db") as conn:
        conn.executescript(
            "CREATE TABLE log (at TEXT, line TEXT); INSERT INTO log VALUES ('x', 'y');"
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);"
            "INSERT INTO item VALUES (1, 'a');"
        )
    conn.close()
    plan_path = tmp_path / "ferry.toml"
    plan_path.write_text(
        """
version = 1
[target]
url = "sqlite:///new.db"
[[sources]]
name = "a"
kind = "sqlite"
path = "app/a.db"
[[tables]]
name = "log"
source = "a.log"
mode = "append"
[[tables]]
name = "item"
source = "a.item"
hook = "hooks.py:fix"
columns.label = { const = "x" }
"""
    )
    result = reverse_plan(load_plan(plan_path))
    assert [q.id for q in result.plan.questions] == ["reverse.log", "reverse.item"]
    log, item = result.plan.questions
    assert log.choices == ["leave", "replace"] and "no key" in log.evidence[0]
    assert "hooks.py:fix" in item.evidence[0]
    assert item.sets["carry"]["tables.item"]["ignore"] == ["label"]  # only in the new store


def test_comments_survive_a_load_and_save(tmp_path: Path) -> None:
    plan, _old, _ = move(tmp_path, "sqlite:///new.db")
    reverse = tmp_path / "reverse.toml"
    ok("reverse", plan, "-o", reverse)
    text = reverse.read_text()
    assert text.startswith("# Reverse plan written by `ferry reverse`")
    assert "# When to run it: after the cutover" in text
    assert "# Note <- new.note (forward: music.Note -> note)" in text
    loaded = load_plan(reverse)
    save_plan(loaded, reverse)
    assert reverse.read_text() == text  # byte for byte
    loaded.tables[0].conflict = "insert"
    save_plan(loaded, reverse)
    changed = reverse.read_text()
    assert changed.count("\n#") == text.count("\n#")
    assert 'conflict = "insert"' in changed


def test_refuses_a_plan_whose_sources_are_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('[{"id": 1}]')
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        'version = 1\n[[sources]]\nname = "state"\nkind = "json"\npath = "state.json"\n'
        '[[tables]]\nname = "state"\nsource = "state"\n'
    )
    result = ferry("reverse", plan, "-o", tmp_path / "reverse.toml")
    assert result.exit_code == 3
    assert "source 'state' is a json source" in result.output
    assert not (tmp_path / "reverse.toml").exists()


@pytest.mark.parametrize("old", [None, "b"])
def test_several_files_need_old(tmp_path: Path, old: str | None) -> None:
    for name in ("a", "b"):
        with sqlite3.connect(tmp_path / f"{name}.db") as conn:
            conn.execute(f"CREATE TABLE t_{name} (id INTEGER PRIMARY KEY)")
        conn.close()
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        'version = 1\n[target]\nurl = "sqlite:///new.db"\n'
        '[[sources]]\nname = "a"\nkind = "sqlite"\npath = "a.db"\n'
        '[[sources]]\nname = "b"\nkind = "sqlite"\npath = "b.db"\n'
        '[[tables]]\nname = "t_a"\nsource = "a.t_a"\n[[tables]]\nname = "t_b"\nsource = "b.t_b"\n'
    )
    args = ["reverse", plan, "-o", tmp_path / "r.toml", *(["--old", old] if old else [])]
    result = ferry(*args)
    if old is None:
        assert result.exit_code == 3 and "--old" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert "ferry reverse --old a" in result.output
        assert tomllib.loads((tmp_path / "r.toml").read_text())["target"]["url"] == "sqlite:///b.db"


def test_a_schema_of_its_own_and_tls_go_into_the_source_url(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "a.db") as conn:
        conn.executescript("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);")
        conn.execute("INSERT INTO item VALUES (1, 'a')")
    conn.close()
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        f'version = 1\n[target]\nurl = "{pg_url}"\npg_schema = "app"\nsslmode = "prefer"\n'
        '[[sources]]\nname = "a"\nkind = "sqlite"\npath = "app/a.db"\n'
        '[[tables]]\nname = "item"\nsource = "a.item"\nkey = ["id"]\n'
    )
    ok("migrate", plan, "-q")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO app.item (id, name) VALUES (2, 'b')")
    reverse = tmp_path / "reverse.toml"
    ok("reverse", plan, "-o", reverse)
    url = tomllib.loads(reverse.read_text())["sources"][0]["url"]
    assert url == f"{pg_url}?options=-csearch_path%3Dapp&sslmode=prefer"
    ok("check", reverse)
    ok("migrate", reverse, "-q")
    assert rows(folder / "a.db", "item") == [(1, "a"), (2, "b")]
