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


def _copies_beside(tmp_path: Path, other: str) -> dict:
    """Two copies of one app's database (``meta`` and ``videos`` in each, drifted apart) in a
    folder with a third database ``meta.db`` made by ``other``."""
    folder = tmp_path / "app"
    folder.mkdir()
    for name, extra in (("nas", "(3, 'c')"), ("dash", "(4, 'd')")):
        with sqlite3.connect(folder / f"{name}.db") as db:
            db.executescript(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                "INSERT INTO meta VALUES ('version', '1');"
                "CREATE TABLE videos (id INTEGER PRIMARY KEY, title TEXT);"
                f"INSERT INTO videos VALUES (1, 'a'), (2, 'b'), {extra};"
            )
        db.close()
    with sqlite3.connect(folder / "meta.db") as db:
        db.executescript(other)
    db.close()
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "-o", plan)
    assert result.exit_code == 0, result.output
    return tomllib.loads(plan.read_text(encoding="utf-8"))


def test_merged_copies_are_named_after_their_table_beside_a_source_of_that_name(
    tmp_path: Path,
) -> None:
    # the merge source is meta_2 (the database meta.db is the source meta); its table was too
    drafted = _copies_beside(
        tmp_path,
        "CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT); INSERT INTO settings "
        "VALUES ('a', '1');",
    )
    merges = {s["name"]: s["inputs"] for s in drafted["sources"] if s["kind"] == "merge"}
    assert merges["meta_2"] == ["dash.meta", "nas.meta"]
    tables = {t["name"]: t["source"] for t in drafted["tables"]}
    assert tables == {"meta": "meta_2", "settings": "meta.settings", "videos": "videos"}


def test_the_drafts_header_names_a_merge_sources_inputs(tmp_path: Path) -> None:
    _copies_beside(tmp_path, "CREATE TABLE settings (k TEXT PRIMARY KEY);")
    header = (tmp_path / "plan.toml").read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#   merges dash.meta, nas.meta: meta_2 (" in header
    assert "found None" not in header


def test_merged_copies_are_numbered_where_a_table_has_their_name(tmp_path: Path) -> None:
    drafted = _copies_beside(
        tmp_path, "CREATE TABLE meta (id INTEGER PRIMARY KEY); INSERT INTO meta VALUES (1);"
    )
    merged = next(t for t in drafted["tables"] if t["source"] == "meta_2")
    assert merged["name"] == "meta_2"
    assert (
        "named meta_2, not meta: another table of the plan is already called meta"
        in (merged["notes"])
    )
