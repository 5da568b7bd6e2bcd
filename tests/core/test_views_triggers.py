"""Views and triggers of a SQLite source (issue 17, item 7): a view whose SQL translates is
created after the tables, on a PostgreSQL and a SQLite target; the other views and every
trigger are named as not carried.

Real SQLite source files and the real PostgreSQL server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fakesource import run, sqlite_exec, sqlite_rows
from pgkit import pg_exec, pg_rows

from ferry.backup.create import create_backup
from ferry.plan import Plan, plan_from_dict
from ferry.rollback import rollback

MUSIC = """
CREATE TABLE genre (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE track (id INTEGER PRIMARY KEY, genre_id INTEGER REFERENCES genre (id),
                    title TEXT, added DATETIME);
INSERT INTO genre VALUES (1, 'Rock'), (2, 'Jazz');
INSERT INTO track VALUES (1, 1, 'Alpha', '2024-01-02 03:04:05'),
                         (2, 2, 'Beta', '2023-05-06 07:08:09'),
                         (3, 1, 'Gamma', '2024-09-10 11:12:13');
CREATE VIEW rock_tracks AS
    SELECT t.title, g.name AS genre FROM track t JOIN genre g ON g.id = t.genre_id
    WHERE g.name = 'Rock';
CREATE VIEW tracks_per_year AS
    SELECT strftime('%Y', added) AS year, count(*) AS tracks FROM track GROUP BY 1;
CREATE VIEW from_elsewhere AS SELECT * FROM playlist;
CREATE TABLE playlist (id INTEGER PRIMARY KEY);
CREATE TRIGGER track_touch AFTER UPDATE ON track
    BEGIN UPDATE track SET added = CURRENT_TIMESTAMP WHERE id = new.id; END;
"""


def music_plan(folder: Path, url: str) -> Plan:
    """genre and track (renamed ``songs`` in the target); playlist is left out."""
    sqlite_exec(folder / "music.db", MUSIC)
    return plan_from_dict(
        {
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "music.db"}],
            "tables": [
                {"name": "genre", "source": "app.genre"},
                {"name": "songs", "source": "app.track"},
            ],
        },
        folder,
    )


@pytest.mark.pg
def test_a_view_over_migrated_tables_is_created_in_postgres(tmp_path: Path, pg_url: str) -> None:
    run(music_plan(tmp_path, pg_url))

    assert pg_rows(pg_url, "SELECT title, genre FROM rock_tracks ORDER BY title") == [
        ("Alpha", "Rock"),
        ("Gamma", "Rock"),
    ]


@pytest.mark.pg
def test_a_view_using_sqlite_functions_is_translated_for_postgres(
    tmp_path: Path, pg_url: str
) -> None:
    run(music_plan(tmp_path, pg_url))

    assert pg_rows(pg_url, "SELECT year, tracks FROM tracks_per_year ORDER BY year") == [
        ("2023", 1),
        ("2024", 2),
    ]


def test_a_view_over_migrated_tables_is_created_in_a_sqlite_target(tmp_path: Path) -> None:
    run(music_plan(tmp_path, "sqlite:///target.db"))

    assert sqlite_rows(tmp_path / "target.db", "SELECT title FROM rock_tracks ORDER BY 1") == [
        ("Alpha",),
        ("Gamma",),
    ]


@pytest.mark.pg
def test_views_come_after_the_tables_in_the_runs_ddl(tmp_path: Path, pg_url: str) -> None:
    result = run(music_plan(tmp_path, pg_url))

    heads = [s.split("(")[0].split(" AS ")[0].strip() for s in result.ddl]
    assert heads[:4] == [
        'CREATE TABLE "genre"',
        'CREATE TABLE "songs"',
        'CREATE VIEW "rock_tracks"',
        'CREATE VIEW "tracks_per_year"',
    ]
    # what follows runs after the load: foreign keys, indexes, identities moved on
    assert not [h for h in heads[4:] if h.startswith(("CREATE TABLE", "CREATE VIEW"))]


@pytest.mark.pg
def test_a_view_reading_a_table_the_plan_leaves_out_is_not_carried(
    tmp_path: Path, pg_url: str
) -> None:
    result = run(music_plan(tmp_path, pg_url))

    views = [o for o in result.schema_objects if o.kind == "view"]
    assert [(v.name, v.status, v.detail) for v in views] == [
        ("rock_tracks", "carried", ""),
        ("tracks_per_year", "carried", ""),
        ("from_elsewhere", "not carried", "it reads playlist, which the plan does not carry"),
    ]
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_views WHERE viewname = 'from_elsewhere'") == [
        (0,)
    ]


@pytest.mark.pg
def test_every_trigger_is_listed_as_not_carried(tmp_path: Path, pg_url: str) -> None:
    result = run(music_plan(tmp_path, pg_url))

    assert [o.line() for o in result.schema_objects if o.kind == "trigger"] == [
        "trigger track_touch: not carried (triggers are not carried: recreate it in the "
        "target after the move if the app needs it)"
    ]
    assert pg_rows(pg_url, "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal") == [(0,)]


@pytest.mark.pg
def test_a_trigger_the_app_made_in_the_target_is_named_there(tmp_path: Path, pg_url: str) -> None:
    # MLflow makes its own prevent_secrets_aad_mutation on PostgreSQL (`mlflow db upgrade`);
    # "recreate it in the target" sent the operator after a trigger that was there
    pg_exec(
        pg_url,
        "CREATE TABLE genre (id integer PRIMARY KEY, name text NOT NULL);"
        "CREATE TABLE songs (id integer PRIMARY KEY, genre_id integer REFERENCES genre (id),"
        " title text, added timestamp);"
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
        "CREATE TRIGGER track_touch BEFORE UPDATE ON songs FOR EACH ROW EXECUTE FUNCTION touch()",
    )

    result = run(music_plan(tmp_path, pg_url))

    assert [o.line() for o in result.schema_objects if o.kind == "trigger"] == [
        "trigger track_touch: carried (in the target already)"
    ]


@pytest.mark.pg
def test_a_second_run_keeps_the_views_it_made(tmp_path: Path, pg_url: str) -> None:
    plan = music_plan(tmp_path, pg_url)
    run(plan)

    again = run(plan)

    assert [(o.name, o.detail) for o in again.schema_objects if o.status == "carried"] == [
        ("rock_tracks", "in the target already (kept as it is)"),
        ("tracks_per_year", "in the target already (kept as it is)"),
    ]
    assert pg_rows(pg_url, "SELECT count(*) FROM rock_tracks") == [(2,)]


@pytest.mark.pg
def test_a_view_the_target_refuses_is_not_carried_and_the_run_goes_on(
    tmp_path: Path, pg_url: str
) -> None:
    sqlite_exec(
        tmp_path / "music.db",
        "CREATE TABLE n (id INTEGER PRIMARY KEY, word TEXT);"
        "INSERT INTO n VALUES (1, 'one');"
        # sqlglot passes an unknown function through; the server refuses it.
        "CREATE VIEW odd AS SELECT nosuchfunction(word) AS w FROM n;",
    )
    plan = plan_from_dict(
        {
            "target": {"url": pg_url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "music.db"}],
            "tables": [{"name": "n", "source": "app.n"}],
        },
        tmp_path,
    )

    result = run(plan)

    (view,) = [o for o in result.schema_objects if o.kind == "view"]
    assert (view.name, view.status) == ("odd", "not carried")
    assert view.detail.startswith("the target refused its translation: ")
    assert pg_rows(pg_url, "SELECT word FROM n") == [("one",)]


@pytest.mark.pg
def test_a_rollback_drops_the_views_with_the_tables_the_run_made(
    tmp_path: Path, pg_url: str
) -> None:
    plan = music_plan(tmp_path, pg_url)
    asyncio.run(create_backup(plan, pg_method="copy"))
    run(plan)

    asyncio.run(rollback(plan))

    assert (
        pg_rows(
            pg_url,
            "SELECT relname FROM pg_class WHERE relname IN ('genre', 'songs', 'rock_tracks')",
        )
        == []
    )
