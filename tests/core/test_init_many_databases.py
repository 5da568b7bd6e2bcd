"""A folder of several unrelated SQLite databases that each keep a table of the same name.

Found drafting a Chromium profile: fourteen of its databases keep a ``meta`` table (key,
value: their schema versions). ``ferry init`` took them for fourteen copies of one table that
drifted apart, drafted one merge source and asked which copy's ``value`` wins; the other
tables of the same name were numbered (``urls_2``, ``meta_13``). Now databases are copies only
when most of their tables are the same, and a second database's table is named after its
database (``cookies_meta``). Real files, the real CLI."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

from draftkit import ferry

SCHEMAS = {
    "History": "CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT);"
    "INSERT INTO urls VALUES (1, 'https://a');",
    "Cookies": "CREATE TABLE cookies (host TEXT, name TEXT, value TEXT, PRIMARY KEY (host, name));"
    "INSERT INTO cookies VALUES ('a', 'x', '1');",
    "Favicons": "CREATE TABLE favicons (id INTEGER PRIMARY KEY, url TEXT);",
}


def _profile(tmp_path: Path) -> dict:
    folder = tmp_path / "Default"
    folder.mkdir()
    for at, (name, schema) in enumerate(SCHEMAS.items()):
        with sqlite3.connect(folder / name) as db:
            db.executescript(
                "CREATE TABLE meta (key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, "
                "value LONGVARCHAR);"
                f"INSERT INTO meta VALUES ('version', '{20 + at}'), ('mmap_status', '-1');" + schema
            )
        db.close()
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "-o", plan)
    assert result.exit_code == 0, result.output
    return tomllib.loads(plan.read_text(encoding="utf-8"))


def test_a_table_every_database_keeps_is_no_copy(tmp_path: Path) -> None:
    drafted = _profile(tmp_path)

    assert [s for s in drafted["sources"] if s["kind"] == "merge"] == []
    assert "questions" not in drafted


def test_a_second_databases_table_is_named_after_it(tmp_path: Path) -> None:
    drafted = _profile(tmp_path)

    metas = sorted(t["name"] for t in drafted["tables"] if t["source"].endswith(".meta"))
    assert metas == ["favicons_meta", "history_meta", "meta"]
