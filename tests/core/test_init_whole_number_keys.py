"""A JSON object keyed by whole numbers (TinyDB's layout: ``{"users": {"1": {...}}}``) drafts
its key as an integer, so the app's other tables' ``user_id`` compare equal to it and ids sort
as numbers (found drafting a TinyDB file: ``id`` was text, and on PostgreSQL a join of
``orders.user_id`` with ``users.id`` was an error); any other key text stays text."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

from click.testing import CliRunner, Result
from pgkit import pg_rows

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def tinydb(folder: Path, user_keys: list[str]) -> None:
    folder.mkdir()
    users = {k: {"name": f"user {k}"} for k in user_keys}
    orders = {str(n): {"user_id": int(user_keys[n % 2]), "total": n * 1.5} for n in range(1, 12)}
    (folder / "db.json").write_text(json.dumps({"users": users, "orders": orders}))


def drafted(tmp_path: Path, target: str) -> tuple[Path, dict[str, dict[str, object]]]:
    plan = tmp_path / "plan.toml"
    result = ferry("init", tmp_path / "app", "--target", target, "-o", plan)
    assert result.exit_code == 0, result.output
    tables = {t["name"]: t for t in tomllib.loads(plan.read_text())["tables"]}
    return plan, tables


def test_whole_number_keys_are_drafted_as_integers_and_join(tmp_path: Path, pg_url: str) -> None:
    tinydb(tmp_path / "app", ["2", "10"])
    plan, tables = drafted(tmp_path, pg_url)
    assert tables["users"]["types"]["id"] == "integer"
    assert "every value is a whole number written as text" in tables["users"]["notes"][0]
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT id FROM users ORDER BY id") == [(2,), (10,)]
    joined = "SELECT count(*) FROM orders o JOIN users u ON o.user_id = u.id"
    assert pg_rows(pg_url, joined) == [(11,)]


def test_a_key_with_a_leading_zero_stays_text(tmp_path: Path) -> None:
    tinydb(tmp_path / "app", ["7", "007"])
    _, tables = drafted(tmp_path, f"sqlite:///{tmp_path / 'out.db'}")
    assert tables["users"]["types"]["id"] == "text"
    assert tables["orders"]["types"]["id"] == "integer"


def test_a_sqlite_text_key_of_digits_keeps_its_declared_type(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / "app.db") as conn:
        conn.execute("CREATE TABLE code (id TEXT PRIMARY KEY, label TEXT)")
        conn.execute("INSERT INTO code VALUES ('1', 'a'), ('2', 'b')")
    conn.close()
    _, tables = drafted(tmp_path, f"sqlite:///{tmp_path / 'out.db'}")
    assert tables["code"]["types"]["id"] == "text"


def test_an_empty_collection_is_left_out_of_the_draft(tmp_path: Path) -> None:
    """TinyDB keeps an empty ``_default: {}``: drafted as a table of no columns, it stopped
    every check and run (``CREATE TABLE default ()``: a syntax error)."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "db.json").write_text(json.dumps({"users": {"1": {"name": "a"}}, "_default": {}}))
    plan, tables = drafted(tmp_path, f"sqlite:///{tmp_path / 'out.db'}")
    assert list(tables) == ["users"]
    assert "left out default: an empty collection (no record to take columns from)" in (
        plan.read_text()
    )
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
