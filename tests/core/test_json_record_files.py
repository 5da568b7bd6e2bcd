"""A folder of JSON files holding one record each (``users/1.json``, ``users/2.json``) is one
table with a row per file (found running ``ferry init`` on such an app folder: it drafted a
settings table per file, eleven tables for two kinds of records)."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

from click.testing import CliRunner, Result

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def app(folder: Path) -> None:
    (folder / "users").mkdir(parents=True)
    (folder / "posts").mkdir()
    for n in (1, 2, 10):
        user = {"id": n, "name": f"user {n}", "prefs": {"theme": "dark"}}
        (folder / "users" / f"{n}.json").write_text(json.dumps(user))
    for n in (1, 2):
        post = {"title": f"post {n}", "author": n}
        (folder / "posts" / f"post-{n:03d}.json").write_text(json.dumps(post))
    (folder / "state.json").write_text(json.dumps({"version": 3, "theme": "dark"}))


def drafted(tmp_path: Path) -> tuple[Path, Path, dict[str, dict[str, object]]]:
    app(tmp_path / "app")
    target = tmp_path / "out.db"
    plan = tmp_path / "plan.toml"
    result = ferry("init", tmp_path / "app", "--target", f"sqlite:///{target}", "-o", plan)
    assert result.exit_code == 0, result.output
    return plan, target, {t["name"]: t for t in tomllib.loads(plan.read_text())["tables"]}


def rows(target: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(target) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def test_init_drafts_a_table_per_folder_of_record_files(tmp_path: Path) -> None:
    plan, _, tables = drafted(tmp_path)
    assert sorted(tables) == ["posts", "state", "users"]
    sources = {s["name"]: s for s in tomllib.loads(plan.read_text())["sources"]}
    assert sources["users"]["path"].endswith("users/*.json")
    assert tables["users"]["types"] == {"id": "integer", "name": "text", "prefs": "json"}


def test_each_file_is_a_row_keyed_by_its_name(tmp_path: Path) -> None:
    plan, target, _ = drafted(tmp_path)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert rows(target, "SELECT id, name FROM users ORDER BY id") == [
        (1, "user 1"),
        (2, "user 2"),
        (10, "user 10"),
    ]
    assert rows(target, "SELECT id, author FROM posts ORDER BY id") == [
        ("post-001", 1),
        ("post-002", 2),
    ]
    assert ferry("verify", plan).exit_code == 0


def test_a_changed_file_is_updated_on_the_next_run(tmp_path: Path) -> None:
    plan, target, _ = drafted(tmp_path)
    assert ferry("migrate", plan).exit_code == 0
    changed = {"id": 2, "name": "renamed", "prefs": {}}
    (tmp_path / "app" / "users" / "2.json").write_text(json.dumps(changed))
    again = ferry("migrate", plan)
    assert again.exit_code == 0, again.output
    assert rows(target, "SELECT name FROM users WHERE id = 2") == [("renamed",)]


def test_a_record_whose_own_id_differs_from_its_file_name_is_refused(tmp_path: Path) -> None:
    plan, target, _ = drafted(tmp_path)
    (tmp_path / "app" / "users" / "2.json").write_text(json.dumps({"id": 7, "name": "x"}))
    result = ferry("migrate", plan)
    assert result.exit_code != 0
    message = " ".join(result.output.split())
    assert "users/2.json: its own 'id' (7) differs from the 'id' Ferry gives the row" in message
    assert not target.exists() or rows(target, "SELECT count(*) FROM sqlite_master") == [(0,)]


def test_a_broken_record_file_is_named_with_the_place(tmp_path: Path) -> None:
    plan, _, _ = drafted(tmp_path)
    (tmp_path / "app" / "users" / "10.json").write_text('{"id": 10, "name": }')
    result = ferry("migrate", plan)
    assert result.exit_code != 0
    assert "users/10.json: not valid JSON at line 1, column 20" in " ".join(result.output.split())


def test_a_folder_whose_files_are_not_alike_is_not_one_table(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"theme": "dark", "lang": "de"}))
    (folder / "window.json").write_text(json.dumps({"width": 800, "height": 600}))
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", f"sqlite:///{tmp_path / 'out.db'}", "-o", plan)
    assert result.exit_code == 0, result.output
    names = [t["name"] for t in tomllib.loads(plan.read_text())["tables"]]
    assert sorted(names) == ["config", "window"]
