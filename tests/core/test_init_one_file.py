"""`ferry init APP.db --target URL` drafts a plan for that one file (issue 17's "Done means"):
the folder's other files are left out, and the draft runs as written. Real SQLite files, the
real PostgreSQL server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
from click.testing import CliRunner

from ferry.cli.command import cli


def app_folder(folder: Path) -> Path:
    """An app's folder: its database and a settings file beside it."""
    db = sqlite3.connect(folder / "app.db")
    db.executescript(
        """
        CREATE TABLE Artist (ArtistId INTEGER PRIMARY KEY AUTOINCREMENT, Name TEXT NOT NULL);
        CREATE TABLE Album (AlbumId INTEGER PRIMARY KEY, Title TEXT NOT NULL,
            ArtistId INTEGER NOT NULL REFERENCES Artist (ArtistId) ON DELETE CASCADE);
        INSERT INTO Artist (Name) VALUES ('AC/DC'), ('Accept');
        INSERT INTO Album VALUES (1, 'Let There Be Rock', 1), (2, 'Balls to the Wall', 2);
        """
    )
    db.close()
    (folder / "settings.json").write_text(json.dumps({"theme": "dark"}), encoding="utf-8")
    return folder / "app.db"


def init(*args: str | Path) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["init", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{") :])


def test_init_of_one_file_drafts_that_file_alone(tmp_path: Path) -> None:
    found = init(app_folder(tmp_path), "-o", tmp_path / "ferry.toml")
    assert [s["path"] for s in found["sources"]] == ["app.db"]  # type: ignore[index]


def test_the_draft_of_one_database_file_runs_and_the_app_inserts_without_an_id(
    tmp_path: Path, pg_url: str
) -> None:
    database = app_folder(tmp_path)
    init(database, "--target", pg_url, "-o", tmp_path / "ferry.toml")
    result = CliRunner().invoke(cli, ["migrate", str(tmp_path / "ferry.toml"), "-q"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(pg_url) as conn:
        added = conn.execute("INSERT INTO Artist (Name) VALUES ('Queen') RETURNING ArtistId")
        assert added.fetchone() == (3,)
        conn.execute("DELETE FROM Artist WHERE ArtistId = 1")
        assert conn.execute("SELECT Title FROM Album").fetchall() == [("Balls to the Wall",)]
