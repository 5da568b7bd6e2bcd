"""A table ``ferry init`` drafts from a JSON file gets the key the database numbers and the
foreign keys its data shows (found moving an app's ``db.json`` of users and posts into
PostgreSQL: the app's first ``INSERT INTO users (name)`` failed with ``null value in column
"id"``, and a post could point at a user that did not exist)."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from draftkit import ferry
from pgkit import pg_exec, pg_rows

from ferry.errors import PlanError
from ferry.plan import plan_from_dict


def _app(tmp_path: Path, post_users: list[int] | None = None) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    users = [{"id": i, "name": f"u{i}"} for i in (1, 2, 3)]
    posts = [
        {"id": i, "user_id": u, "title": f"t{i}"} for i, u in enumerate(post_users or [1, 2, 2], 1)
    ]
    (folder / "db.json").write_text(json.dumps({"users": users, "posts": posts}), encoding="utf-8")
    return folder


def _drafted(tmp_path: Path, folder: Path, target: str) -> tuple[Path, dict[str, Any]]:
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", target, "-o", plan)
    assert result.exit_code == 0, result.output
    tables = tomllib.loads(plan.read_text(encoding="utf-8"))["tables"]
    return plan, {t["name"]: t for t in tables}


def test_init_drafts_the_identity_and_the_reference(tmp_path: Path) -> None:
    _, tables = _drafted(tmp_path, _app(tmp_path), f"sqlite:///{tmp_path / 'out.db'}")
    assert [tables["users"].get("identity"), tables["posts"].get("identity")] == ["id", "id"]
    assert tables["posts"]["references"] == {"user_id": "users.id"}


def test_a_value_that_is_no_key_leaves_the_reference_to_the_operator(tmp_path: Path) -> None:
    folder = _app(tmp_path, post_users=[1, 9])
    _, tables = _drafted(tmp_path, folder, f"sqlite:///{tmp_path / 'out.db'}")
    assert "references" not in tables["posts"]
    assert any(
        "1 of its 2 values are no key there (first: 9)" in n for n in tables["posts"]["notes"]
    )


def test_a_column_none_of_whose_values_is_a_key_is_no_reference(tmp_path: Path) -> None:
    folder = _app(tmp_path, post_users=[8, 9])
    _, tables = _drafted(tmp_path, folder, f"sqlite:///{tmp_path / 'out.db'}")
    assert "references" not in tables["posts"]
    assert not any("user_id" in n for n in tables["posts"]["notes"])


def test_a_made_up_position_key_is_not_numbered(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "events.jsonl").write_text('{"msg": "a"}\n{"msg": "b"}\n', encoding="utf-8")
    _, tables = _drafted(tmp_path, folder, f"sqlite:///{tmp_path / 'out.db'}")
    assert "identity" not in tables["events"]


def test_an_external_id_is_not_numbered(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    guilds = [{"id": 1182374659871234567 + i, "name": f"g{i}"} for i in range(3)]
    (folder / "guilds.json").write_text(json.dumps(guilds), encoding="utf-8")
    _, tables = _drafted(tmp_path, folder, f"sqlite:///{tmp_path / 'out.db'}")
    assert "identity" not in tables["guilds"]


def test_the_app_inserts_without_an_id_on_postgres(tmp_path: Path, pg_url: str) -> None:
    plan, _ = _drafted(tmp_path, _app(tmp_path), pg_url)
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    assert pg_rows(pg_url, "INSERT INTO users (name) VALUES ('new') RETURNING id") == [(4,)]


def test_postgres_refuses_a_post_of_no_user(tmp_path: Path, pg_url: str) -> None:
    plan, _ = _drafted(tmp_path, _app(tmp_path), pg_url)
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        pg_exec(pg_url, "INSERT INTO posts (user_id, title) VALUES (9, 'x')")


def test_the_app_inserts_without_an_id_on_sqlite(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan, _ = _drafted(tmp_path, _app(tmp_path), f"sqlite:///{target}")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    with sqlite3.connect(target) as conn:
        new = conn.execute("INSERT INTO posts (user_id, title) VALUES (3, 'x') RETURNING id")
        assert new.fetchall() == [(4,)]
    conn.close()


def test_an_identity_that_is_not_the_key_is_refused(tmp_path: Path) -> None:
    spec = {"name": "users", "source": "users", "key": ["id"], "identity": "name"}
    with pytest.raises(
        (PlanError, ValueError), match="identity 'name' must be the table's one key"
    ):
        plan_from_dict(
            {"sources": [{"name": "users", "kind": "json", "path": "u.json"}], "tables": [spec]},
            tmp_path,
        )


def test_check_names_the_identity_and_the_reference(tmp_path: Path) -> None:
    plan, _ = _drafted(tmp_path, _app(tmp_path), f"sqlite:///{tmp_path / 'out.db'}")
    check = " ".join(ferry("check", plan).output.split())
    assert (
        "table posts: will be created from the source data (id numbered by the database; "
        "user_id references users)"
    ) in check


def test_a_reference_without_its_column_is_refused(tmp_path: Path) -> None:
    spec = {"name": "posts", "source": "posts", "references": {"user_id": "users"}}
    sources = [{"name": "posts", "kind": "json", "path": "p.json"}]
    with pytest.raises((PlanError, ValueError), match="write the table and column it references"):
        plan_from_dict({"sources": sources, "tables": [spec]}, tmp_path)


def test_a_reference_from_a_missing_column_stops_before_any_write(tmp_path: Path) -> None:
    plan, _ = _drafted(tmp_path, _app(tmp_path), f"sqlite:///{tmp_path / 'out.db'}")
    text = plan.read_text(encoding="utf-8").replace('user_id = "users.id"', 'writer = "users.id"')
    plan.write_text(text, encoding="utf-8")
    result = ferry("migrate", "--no-backup", plan)
    assert result.exit_code != 0
    assert "references.writer: the table has no column 'writer'" in " ".join(result.output.split())
    assert not (tmp_path / "out.db").exists() or not _tables(tmp_path / "out.db")


def _tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    conn.close()
    return [n for (n,) in names if not n.startswith("_ferry")]
