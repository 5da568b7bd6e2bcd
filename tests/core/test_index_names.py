"""An index whose name is taken in the target (by a table, by PostgreSQL's own primary-key
index, by another source's index once names are folded to lower case) is created under a
deterministic name of its own, and check, the preview and the report say so. Real SQLite
files, the real PostgreSQL server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result
from pgkit import pg_rows

from ferry.cli.command import cli

TAKEN = """
CREATE TABLE "Play List" (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE track (id INTEGER PRIMARY KEY, name TEXT, album TEXT);
CREATE INDEX play_list ON track (name);
CREATE INDEX track_pkey ON track (album DESC, id);
INSERT INTO track VALUES (1, 'One', 'A'), (2, 'Two', 'B');
"""

RENAMED = [
    "index track.play_list: translated (created as track_name_idx: name taken by table play_list)",
    "index track.track_pkey: translated (created as track_album_id_idx: name taken by index "
    "track_pkey)",
]


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def draft(folder: Path, files: dict[str, str], target: str) -> Path:
    """SQLite files made by ``files`` (name -> schema) and the plan ``ferry init`` drafts."""
    folder.mkdir(exist_ok=True)
    for name, schema in files.items():
        with sqlite3.connect(folder / name) as conn:
            conn.executescript(schema)
        conn.close()
    plan = folder.parent / "plan.toml"
    result = ferry("init", folder, "--target", target, "-o", plan)
    assert result.exit_code == 0, result.output
    return plan


def indexes(url: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(table))
        for name, table in pg_rows(
            url,
            "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY indexname",
        )
    ]


def test_an_index_named_like_a_table_is_created_under_a_name_of_its_own(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path / "app", {"app.db": TAKEN}, pg_url)
    result = ferry("migrate", plan, "-q")
    assert result.exit_code == 0, result.output
    assert indexes(pg_url) == [
        ("play_list_pkey", "play_list"),
        ("track_album_id_idx", "track"),
        ("track_name_idx", "track"),
        ("track_pkey", "track"),
    ]


def test_check_names_each_index_created_under_another_name(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path / "app", {"app.db": TAKEN}, pg_url)
    result = ferry("check", plan)
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines() if "created as" in line]
    assert lines == [
        "ok index track.play_list: translated: created as track_name_idx: name taken by table "
        "play_list",
        "ok index track.track_pkey: translated: created as track_album_id_idx: name taken by "
        "index track_pkey",
    ]


def test_the_preview_shows_the_new_names_in_its_ddl_and_says_why(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path / "app", {"app.db": TAKEN}, pg_url)
    result = ferry("preview", plan)
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if "created as" in line] == RENAMED
    assert 'CREATE INDEX "track_name_idx" ON "track" ("name")' in result.output
    assert 'CREATE INDEX "track_album_id_idx" ON "track" ("album" DESC, "id")' in result.output


def test_the_report_lists_each_renamed_index(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path / "app", {"app.db": TAKEN}, pg_url)
    assert ferry("migrate", plan, "-q").exit_code == 0
    report = json.loads(next((tmp_path / "ferry-reports").glob("*.json")).read_text())
    renamed = [o for o in report["result"]["schema_objects"] if o["kind"] == "index"]
    assert [(o["name"], o["status"], o["detail"]) for o in renamed] == [
        (
            "track.play_list",
            "translated",
            "created as track_name_idx: name taken by table play_list",
        ),
        (
            "track.track_pkey",
            "translated",
            "created as track_album_id_idx: name taken by index track_pkey",
        ),
    ]


def two_files(title_index: tuple[str, str]) -> dict[str, str]:
    """Two app files, each with an index on its title column named as given."""
    first, second = title_index
    return {
        "films.db": "CREATE TABLE film (id INTEGER PRIMARY KEY, title TEXT);"
        f"CREATE INDEX {first} ON film (title); INSERT INTO film VALUES (1, 'Up');",
        "songs.db": "CREATE TABLE song (id INTEGER PRIMARY KEY, title TEXT);"
        f"CREATE INDEX {second} ON song (title); INSERT INTO song VALUES (1, 'Go');",
    }


def test_two_indexes_whose_names_fold_alike_both_reach_postgres(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path / "app", two_files(("IX_Title", "ix_title")), pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert (
        "index song.ix_title: translated (created as song_title_idx: name taken by index ix_title)"
        in result.output
    )
    assert [i for i in indexes(pg_url) if not i[0].endswith("_pkey")] == [
        ("ix_title", "film"),
        ("song_title_idx", "song"),
    ]


def test_two_sources_with_one_index_name_both_reach_a_sqlite_target(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path / "app", two_files(("by_title", "BY_TITLE")), f"sqlite:///{target}")
    result = ferry("migrate", plan, "-q")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        found = conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name IN ('film', 'song') ORDER BY name"
        ).fetchall()
    conn.close()
    assert found == [("by_title", "film"), ("song_title_idx", "song")]


def test_an_index_name_longer_than_postgres_takes_is_shortened_and_named(
    tmp_path: Path, pg_url: str
) -> None:
    long_name = "track_by_" + "x" * 60
    schema = (
        "CREATE TABLE track (id INTEGER PRIMARY KEY, name TEXT);"
        f"CREATE INDEX {long_name} ON track (name);"
    )
    plan = draft(tmp_path / "app", {"app.db": schema}, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    made = [name for name, _ in indexes(pg_url) if name.startswith("track_by_")]
    assert len(made) == 1 and len(made[0].encode()) == 63
    assert (
        f"index track.{long_name}: translated (created as {made[0]}: longer than PostgreSQL's "
        "63 bytes)"
    ) in " ".join(result.output.split()).replace("( ", "(")
