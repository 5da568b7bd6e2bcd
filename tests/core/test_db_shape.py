"""A whole app database moves with its shape: keys, foreign keys with their actions, UNIQUE,
CHECK, NOT NULL, defaults, identity keys and indexes, in all four directions, from
``ferry init`` + ``ferry migrate`` with no edits to the draft; the app's SQL (inserts without
ids, ON DELETE CASCADE) works on the target afterwards."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from appdb import TABLES, build_postgres, build_sqlite, catalog
from click.testing import CliRunner, Result
from draftkit import draft
from pgkit import pg_rows
from sqlalchemy import create_engine, exc

from ferry.cli.command import cli
from ferry.load import finish as finish_module


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def move(tmp_path: Path, target_url: str, pg_source: str | None = None) -> dict[str, str]:
    """Draft a plan for the app database with ``ferry init`` and migrate it unchanged;
    returns source table -> target table as the draft names them. With ``pg_source`` the
    app database is built in that PostgreSQL database and ``init`` is given its URL."""
    plan = tmp_path / "plan.toml"
    if pg_source is None:
        folder = tmp_path / "app"
        folder.mkdir()
        build_sqlite(folder / "music.db")
        drafted_from: str | Path = folder
    else:
        drafted_from = build_postgres(pg_source)
    result = ferry("init", drafted_from, "--target", target_url, "-o", plan)
    assert result.exit_code == 0, result.output
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    tables = tomllib.loads(plan.read_text())["tables"]
    return {t["source"].split(".", 1)[1]: t["name"] for t in tables}


def in_source_names(found: dict[str, dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """A target's catalog with its tables called as in the source (``init`` may prefix)."""
    back = {target: source for source, target in names.items()}
    renamed = {}
    for table, entry in found.items():
        entry = dict(entry)
        entry["fks"] = sorted((c, back.get(t, t), r, d, u) for c, t, r, d, u in entry["fks"])
        renamed[back.get(table, table)] = entry
    return renamed


def assert_same_catalog(source: str | Path, target: str | Path, names: dict[str, str]) -> None:
    expected = catalog(source)
    found = in_source_names(catalog(target), names)
    assert sorted(found) == sorted(TABLES)
    for table in TABLES:
        assert found[table] == expected[table], table


def app_sql(names: dict[str, str]) -> list[str]:
    """The app's own SQL after the move: an insert without an id through every foreign key,
    then deleting a customer, which cascades through invoices, playlists and their notes."""
    t = {source: f'"{target}"' for source, target in names.items()}
    return [
        f"INSERT INTO {t['artist']} (name) VALUES ('New artist')",
        f"INSERT INTO {t['album']} (title, artist_id) VALUES ('New album', 8)",
        f"INSERT INTO {t['employee']} (last_name, reports_to) VALUES ('Park', 3)",
        f"INSERT INTO {t['customer']} (email, first_name, last_name, support_rep_id) "
        "VALUES ('new@example.com', 'New', 'Customer', 4)",
        f"INSERT INTO {t['track']} (name, album_id, media_type_id, genre_id, milliseconds) "
        "VALUES ('New track', 5, 1, 2, 1000)",
        f"INSERT INTO {t['invoice']} (customer_id, support_rep_id) VALUES (13, 4)",
        f"INSERT INTO {t['invoice_line']} (invoice_id, line_no, track_id, unit_price) "
        "VALUES (4, 1, 10, 0.99)",
        f"INSERT INTO {t['playlist']} (name, owner_id) VALUES ('Mine', 13)",
        f"INSERT INTO {t['playlist_track']} (playlist_id, track_id, position) VALUES (4, 10, 1)",
        f"INSERT INTO {t['playlist_track_note']} (playlist_id, track_id, note_no, author_id) "
        "VALUES (4, 10, 1, 13)",
    ]


def run_app(where: str | Path, names: dict[str, str]) -> dict[str, Any]:
    """Run the app's SQL on the migrated target; what it then reads back."""
    t = {source: f'"{target}"' for source, target in names.items()}
    url = str(where)
    url = (
        url.replace("postgresql://", "postgresql+psycopg://")
        if "://" in url
        else f"sqlite:///{url}"
    )
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")
                conn.commit()
            for statement in app_sql(names):
                conn.exec_driver_sql(statement)
            conn.commit()
            ids = {
                table: conn.exec_driver_sql(f"SELECT max({table}_id) FROM {t[table]}").scalar()
                for table in ("artist", "album", "employee", "customer", "track", "invoice")
            }
            defaults = conn.exec_driver_sql(
                f"SELECT total, invoice_date IS NOT NULL FROM {t['invoice']} WHERE invoice_id = 4"
            ).one()
            body = conn.exec_driver_sql(f"SELECT body FROM {t['playlist_track_note']}").scalars()
            bodies = sorted(body)
            conn.exec_driver_sql(f"DELETE FROM {t['customer']} WHERE customer_id = 13")
            conn.commit()
            left = {
                table: conn.exec_driver_sql(f"SELECT count(*) FROM {t[table]}").scalar()
                for table in ("invoice", "invoice_line", "playlist", "playlist_track_note")
            }
            refused = False
            try:
                conn.exec_driver_sql(
                    f"INSERT INTO {t['album']} (title, artist_id) VALUES ('Orphan', 999)"
                )
                conn.commit()
            except exc.IntegrityError:
                conn.rollback()
                refused = True
    finally:
        engine.dispose()
    return {
        "ids": ids,
        "defaults": (float(defaults[0]), bool(defaults[1])),
        "bodies": bodies,
        "left": left,
        "orphan_refused": refused,
    }


EXPECTED_APP = {
    # every id is the highest migrated one + 1 (artist 7, album 4, customer 12, ...)
    "ids": {
        "artist": 8,
        "album": 5,
        "employee": 4,
        "customer": 13,
        "track": 10,
        "invoice": 4,
    },
    "defaults": (0.0, True),
    "bodies": ["", "", "classic", "loud"],
    # the new customer's invoice, its line, playlist and note went with it
    "left": {"invoice": 2, "invoice_line": 3, "playlist": 2, "playlist_track_note": 3},
    "orphan_refused": True,
}


def deferred_foreign_keys(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND condeferrable AND condeferred"
        ).fetchall()
    return [str(row[0]).strip('"') for row in rows]


def test_sqlite_to_postgres_keeps_the_schema_and_the_app_works(tmp_path: Path, pg_url: str) -> None:
    names = move(tmp_path, pg_url)
    assert_same_catalog(tmp_path / "app" / "music.db", pg_url, names)
    assert deferred_foreign_keys(pg_url) == [names["playlist_track_note"]]
    assert run_app(pg_url, names) == EXPECTED_APP


def test_sqlite_to_sqlite_keeps_the_schema_and_the_app_works(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    names = move(tmp_path, f"sqlite:///{target}")
    assert_same_catalog(tmp_path / "app" / "music.db", target, names)
    with sqlite3.connect(target) as conn:
        sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (names["playlist_track_note"],)
        ).fetchone()[0]
        # rowid keys stay rowid aliases, AUTOINCREMENT where the source had it
        artist = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (names["artist"],)
        ).fetchone()[0]
    conn.close()
    assert "DEFERRABLE INITIALLY DEFERRED" in sql
    # (as the source declares it: NOT NULL, which means nothing on a rowid, only where it does)
    assert '"artist_id" INTEGER PRIMARY KEY AUTOINCREMENT' in artist
    assert run_app(target, names) == EXPECTED_APP


def test_postgres_to_sqlite_keeps_the_schema_and_the_app_works(
    tmp_path: Path, pg_source: str
) -> None:
    target = tmp_path / "out.db"
    names = move(tmp_path, f"sqlite:///{target}", pg_source=pg_source)
    assert_same_catalog(pg_source, target, names)
    assert run_app(target, names) == EXPECTED_APP


def test_postgres_to_postgres_keeps_the_schema_and_the_app_works(
    tmp_path: Path, pg_source: str, pg_url: str
) -> None:
    names = move(tmp_path, pg_url, pg_source=pg_source)
    assert_same_catalog(pg_source, pg_url, names)
    assert deferred_foreign_keys(pg_url) == [names["playlist_track_note"]]
    assert run_app(pg_url, names) == EXPECTED_APP


UNTRANSLATABLE = """
CREATE TABLE note (id INTEGER PRIMARY KEY, meta TEXT CHECK (typeof(meta) = 'text'),
                   body TEXT NOT NULL, stamp INTEGER DEFAULT (strftime('%s','now')));
CREATE INDEX note_meta_kind ON note (json_extract(meta, '$.kind'));
CREATE INDEX note_lower_body ON note (lower(body));
INSERT INTO note VALUES (1, '{"kind": "memo"}', 'Hi', 5);
"""

NOT_CARRIED = [
    "note: not carried to the target: DEFAULT strftime('%s','now') of column stamp",
    "note: not carried to the target: CHECK (typeof(meta) = 'text')",
    "note: not carried to the target: index note_meta_kind: (json_extract(meta, '$.kind'))",
]


def test_check_lists_what_a_postgres_target_does_not_carry(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, UNTRANSLATABLE, pg_url)
    result = ferry("check", plan)
    assert result.exit_code == 0, result.output
    assert [line[5:] for line in result.output.splitlines() if "not carried" in line] == [
        f"table {line}" for line in NOT_CARRIED
    ]


def test_preview_and_migrate_name_what_is_not_carried_and_carry_the_rest(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, UNTRANSLATABLE, pg_url)
    preview = ferry("preview", plan)
    assert preview.exit_code == 0, preview.output
    assert [x for x in preview.output.splitlines() if "not carried" in x] == [
        f"warning: {line}" for line in NOT_CARRIED
    ]
    assert 'CREATE INDEX "note_lower_body" ON "note" ((lower("body")))' in preview.output
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    report = json.loads(next((tmp_path / "ferry-reports").glob("*.json")).read_text())
    assert [w for w in report["result"]["warnings"] if "not carried" in w] == NOT_CARRIED
    indexes = pg_rows(pg_url, "SELECT indexname FROM pg_indexes WHERE tablename = 'note'")
    assert sorted(r[0] for r in indexes) == ["note_lower_body", "note_pkey"]


CYCLE = """
CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                   captain_id INTEGER REFERENCES player (id) ON DELETE SET NULL);
CREATE TABLE player (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                     team_id INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE);
INSERT INTO team VALUES (1, 'Reds', 10), (2, 'Blues', 20);
INSERT INTO player VALUES (10, 'Ann', 1), (20, 'Bob', 2), (21, 'Cy', 1);
"""


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_tables_that_reference_each_other_move_with_both_foreign_keys(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if kind == "postgresql" else ""
    target = url or f"sqlite:///{tmp_path / 'out.db'}"
    plan = draft(tmp_path, CYCLE, target)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    names = {
        t["source"].split(".", 1)[1]: t["name"] for t in tomllib.loads(plan.read_text())["tables"]
    }
    found = in_source_names(catalog(url or tmp_path / "out.db"), names)
    assert found["team"]["fks"] == [(("captain_id",), "player", ("id",), "SET NULL", "NO ACTION")]
    assert found["player"]["fks"] == [(("team_id",), "team", ("id",), "CASCADE", "NO ACTION")]


def test_rows_that_break_a_foreign_key_leave_a_postgres_target_untouched(
    tmp_path: Path, pg_url: str
) -> None:
    # SQLite enforces no foreign key unless the app switches it on: the file holds an orphan.
    plan = draft(tmp_path, CYCLE + "INSERT INTO player VALUES (30, 'Dee', 9);", pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 5, result.output
    assert "failed after the load" in result.output
    assert "Key (team_id)=(9) is not present" in result.output
    assert pg_rows(pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []


def test_rows_that_break_a_foreign_key_in_a_cycle_leave_a_sqlite_target_untouched(
    tmp_path: Path,
) -> None:
    # Tables that reference each other have their references checked at commit: the run
    # checks them first and names the rows.
    target = tmp_path / "out.db"
    plan = draft(
        tmp_path, CYCLE + "INSERT INTO player VALUES (30, 'Dee', 9);", f"sqlite:///{target}"
    )
    result = ferry("migrate", plan)
    assert result.exit_code == 5, result.output
    assert "rows reference rows missing from their parent table" in result.output
    assert "rowid 30 -> team" in result.output.replace("\n", " ").replace("  ", " ")
    assert not target.exists()


def test_a_row_that_breaks_a_foreign_key_without_a_cycle_is_rejected_by_its_key(
    tmp_path: Path,
) -> None:
    schema = (
        "CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE player (id INTEGER PRIMARY KEY,"
        " team_id INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE);"
        "INSERT INTO team VALUES (1, 'Reds'); INSERT INTO player VALUES (10, 1), (30, 9);"
    )
    plan = draft(tmp_path, schema, f"sqlite:///{tmp_path / 'out.db'}")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert "id=30: FOREIGN KEY constraint failed" in result.output


def test_foreign_keys_sqlite_checked_at_every_insert_are_not_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a cycle each INSERT already finds its parent row: a second full pass over the
    # child table (PRAGMA foreign_key_check) would find nothing, and cost a third of the merge.
    checked: list[str] = []
    original = finish_module.check_references

    async def spy(target: Any, name: str) -> None:
        checked.append(name)
        await original(target, name)

    monkeypatch.setattr(finish_module, "check_references", spy)
    schema = (
        "CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE player (id INTEGER PRIMARY KEY,"
        " team_id INTEGER NOT NULL REFERENCES team (id) ON DELETE CASCADE);"
        "INSERT INTO team VALUES (1, 'Reds'); INSERT INTO player VALUES (10, 1), (11, 1);"
    )
    result = ferry("migrate", draft(tmp_path, schema, f"sqlite:///{tmp_path / 'out.db'}"))
    assert result.exit_code == 0, result.output
    assert checked == []


def test_rows_that_break_an_initially_deferred_foreign_key_leave_a_sqlite_target_untouched(
    tmp_path: Path,
) -> None:
    # A foreign key the app declared DEFERRABLE INITIALLY DEFERRED is checked only at commit:
    # the run checks it first and names the row.
    target = tmp_path / "out.db"
    schema = (
        "CREATE TABLE team (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE player (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL"
        " REFERENCES team (id) DEFERRABLE INITIALLY DEFERRED);"
        "INSERT INTO team VALUES (1, 'Reds'); INSERT INTO player VALUES (10, 1), (30, 9);"
    )
    result = ferry("migrate", draft(tmp_path, schema, f"sqlite:///{target}"))
    assert result.exit_code == 5, result.output
    assert "rows reference rows missing from their parent table" in result.output
    assert "rowid 30 -> team" in result.output.replace("\n", " ").replace("  ", " ")
    assert not target.exists()
