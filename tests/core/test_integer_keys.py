"""A JSON map keyed by id (``{"12": {...}}``) into a table whose key column is an integer: a
key that is an integer as written goes in as that integer; any other key text (``"012"``,
``" 14"``, ``"15.0"``) would change when read as one and could equal another key, so its row
is rejected, naming the key. SQLite and PostgreSQL targets alike."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from ferry.cli.command import cli

ITEMS = {
    "12": {"name": "a"},
    "012": {"name": "b"},
    " 14": {"name": "c"},
    "15.0": {"name": "d"},
    "16": {"id": 16, "name": "e"},  # the record repeats its key as an integer
}


def _migrate(tmp_path: Path, url: str) -> dict[str, Any]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "items.json").write_text(json.dumps(ITEMS), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);", encoding="utf-8"
    )
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'version = 1\nname = "k"\n[target]\nurl = "{url}"\nschema = "schema.sql"\n'
        '[[sources]]\nname = "items"\nkind = "json"\npath = "data/items.json"\n'
        'shape = "keyed"\n[[tables]]\nname = "items"\nsource = "items"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["migrate", str(plan), "--no-backup", "--json"])
    run: dict[str, Any] = json.loads(result.stdout)
    return run


def _reasons(run: dict[str, Any]) -> dict[str, str]:
    return {r["key"]: r["reason"] for r in run["rejects"]}


def test_a_keyed_maps_integer_text_keys_load_and_other_key_texts_are_rejected_by_key(
    tmp_path: Path,
) -> None:
    run = _migrate(tmp_path, "sqlite:///t.db")

    with sqlite3.connect(tmp_path / "t.db") as conn:
        got = conn.execute("SELECT id, typeof(id), name FROM items ORDER BY id").fetchall()
    conn.close()
    assert got == [(12, "integer", "a"), (16, "integer", "e")]
    reasons = _reasons(run)
    assert sorted(reasons) == ["id=' 14'", "id='012'", "id='15.0'"]
    assert reasons["id='012'"] == (
        "column 'id': the key '012' is not an integer as written ('12', not '012', ' 12' or "
        "'12.0'): read as one it would change, and could equal another key"
    )


def test_the_same_keys_into_postgresql(tmp_path: Path, pg_url: str) -> None:
    run = _migrate(tmp_path, pg_url)

    with psycopg.connect(pg_url) as conn:
        got = conn.execute("SELECT id, name FROM items ORDER BY id").fetchall()
    assert got == [(12, "a"), (16, "e")]
    assert sorted(_reasons(run)) == ["id=' 14'", "id='012'", "id='15.0'"]
