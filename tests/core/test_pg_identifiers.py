"""Names on a PostgreSQL target (issue 17 item 6): the columns of a table Ferry creates are
lower case by default, so an app's unquoted SQL finds them; ``identifiers = "keep"`` keeps
the source's spelling; a name past 63 bytes is shortened with a note; names that differ only
in case are kept, with a note. Real SQLite and JSON files, the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import psycopg

from ferry.check import check_plan
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.scan.folder import scan_folder
from ferry.verify.run import verify

LONG = "Composer" + "Name" * 15  # 68 bytes
#: its first 54 bytes, folded, and 8 hex digits of its SHA-256: 63 bytes
SHORT = "composernamenamenamenamenamenamenamenamenamenamenamena_1f9ac600"


def music_db(folder: Path) -> None:
    db = sqlite3.connect(folder / "music.db")
    db.executescript(
        f"""
        CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT);
        CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, Name TEXT,
                            AlbumId INTEGER REFERENCES Album (AlbumId), {LONG} TEXT);
        INSERT INTO Album VALUES (1, 'Let There Be Rock'), (2, 'Big Ones');
        INSERT INTO Track VALUES (1, 'Go Down', 1, 'AC/DC'), (2, 'Dog Eat Dog', 1, NULL),
                                 (3, 'Walk On Water', 2, 'Aerosmith');
        """
    )
    db.close()


def drafted(folder: Path, url: str, identifiers: str | None = None) -> Plan:
    """``ferry init`` + the plan as written (``identifiers`` set in it when given)."""
    plan = scan_folder(folder, url).plan
    if identifiers is not None:
        plan.target.identifiers = identifiers  # type: ignore[assignment]
    (folder / "ferry.toml").write_text(plan.to_toml())
    return load_plan(folder / "ferry.toml")


def columns(url: str, table: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    return [r[0] for r in rows]


def test_the_apps_unquoted_sql_works_after_the_move(tmp_path: Path, pg_url: str) -> None:
    music_db(tmp_path)
    plan = drafted(tmp_path, pg_url)
    asyncio.run(migrate(plan, write_reports=False))
    with psycopg.connect(pg_url) as conn:
        found = conn.execute("SELECT TrackId, Name FROM Track WHERE AlbumId = 1 ORDER BY 1")
        assert found.fetchall() == [(1, "Go Down"), (2, "Dog Eat Dog")]
    assert columns(pg_url, "album") == ["albumid", "title"]
    assert asyncio.run(verify(plan)).verdict == "PASS"


def test_a_second_run_finds_every_row_unchanged(tmp_path: Path, pg_url: str) -> None:
    music_db(tmp_path)
    plan = drafted(tmp_path, pg_url)
    asyncio.run(migrate(plan, write_reports=False))
    again = asyncio.run(migrate(plan, write_reports=False))
    assert {t.name: (t.unchanged, t.inserted) for t in again.tables} == {
        "album": (2, 0),
        "track": (3, 0),
    }


def test_identifiers_keep_keeps_the_source_spelling(tmp_path: Path, pg_url: str) -> None:
    music_db(tmp_path)
    plan = drafted(tmp_path, pg_url, identifiers="keep")
    asyncio.run(migrate(plan, write_reports=False))
    assert columns(pg_url, "album") == ["AlbumId", "Title"]
    with psycopg.connect(pg_url) as conn:
        found = conn.execute('SELECT "Title" FROM album WHERE "AlbumId" = 2').fetchall()
    assert found == [("Big Ones",)]
    assert asyncio.run(verify(plan)).verdict == "PASS"


def test_a_name_past_63_bytes_is_shortened_with_a_note(tmp_path: Path, pg_url: str) -> None:
    music_db(tmp_path)
    plan = drafted(tmp_path, pg_url)
    track = next(t for t in plan.tables if t.name == "track")
    assert track.notes[0] == (
        f"column {LONG!r} is longer than PostgreSQL's 63 bytes: it is created as {SHORT}"
    )
    asyncio.run(migrate(plan, write_reports=False))
    assert columns(pg_url, "track") == ["trackid", "name", "albumid", SHORT]
    assert asyncio.run(verify(plan)).verdict == "PASS"


def test_names_that_differ_only_in_case_are_kept_with_a_note(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "people.json").write_text(json.dumps([{"id": 1, "Name": "Ada", "name": "ada"}]))
    plan = drafted(tmp_path, pg_url)
    assert plan.tables[0].notes[0] == (
        "columns Name, name differ only in case: they keep their spelling (quoted in SQL); "
        "the other columns are lower case"
    )
    asyncio.run(migrate(plan, write_reports=False))
    assert sorted(columns(pg_url, "people")) == ["Name", "id", "name"]
    assert asyncio.run(verify(plan)).verdict == "PASS"


def test_check_says_which_names_keep_their_case(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "people.json").write_text(json.dumps([{"id": 1, "Name": "Ada", "name": "ada"}]))
    plan = drafted(tmp_path, pg_url)
    report = asyncio.run(check_plan(plan))
    assert [(i.subject, i.detail) for i in report.items if i.warning] == [
        (
            "table people",
            "fields Name, name differ only in case: their columns keep that spelling "
            "(quoted in SQL)",
        )
    ]
