"""``ignore`` leaves source fields out of every table, the ones Ferry creates too; and the hint
for a field whose name cannot be a column leads to a plan that runs, followed to the letter."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner, Result

from ferry.cli.command import cli

ITEMS = [
    {"id": 1, "name": "a", "secret": "s1"},
    {"id": 2, "name": "b", "secret": "s2"},
]


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def columns_of(db: Path, table: str) -> list[str]:
    return [row[1] for row in rows(db, f"PRAGMA table_info({table})")]


def items_plan(folder: Path, records: list[dict[str, Any]], extra: str = "") -> Path:
    (folder / "items.json").write_text(json.dumps(records), encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""[target]
url = "sqlite:///app.db"

[[sources]]
name = "items"
kind = "json"
path = "items.json"

[[tables]]
name = "items"
source = "items"
{extra}""",
        encoding="utf-8",
    )
    return plan


def test_an_ignored_field_gets_no_column_in_a_table_ferry_creates(tmp_path: Path) -> None:
    plan = items_plan(tmp_path, ITEMS, 'ignore = ["secret"]\n')

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    assert columns_of(tmp_path / "app.db", "items") == ["id", "name"]
    assert ferry("verify", plan).exit_code == 0


def test_an_ignored_field_leaves_an_existing_column_of_its_name_alone(tmp_path: Path) -> None:
    plan = items_plan(tmp_path, ITEMS, 'ignore = ["secret"]\n')
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, secret TEXT)")
    conn.close()

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "app.db", "SELECT * FROM items") == [(1, "a", None), (2, "b", None)]
    assert ferry("verify", plan).exit_code == 0


def test_an_ignored_column_of_a_sqlite_source_is_not_created(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, secret TEXT)")
        conn.execute("INSERT INTO items VALUES (1, 'a', 's1')")
    conn.close()
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        """[target]
url = "sqlite:///app.db"

[[sources]]
name = "old"
kind = "sqlite"
path = "old.db"

[[tables]]
name = "items"
source = "old.items"
ignore = ["secret"]
""",
        encoding="utf-8",
    )

    result = ferry("migrate", plan, "--no-backup")

    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "app.db", "SELECT * FROM items") == [(1, "a")]


def hinted_lines(output: str) -> tuple[str, str]:
    """The plan line the hint gives, and the value it says to add to ``ignore``."""
    hint = " ".join(output.split())
    line = re.search(r"Add `([^`]+)` to the \[\[tables\]\] entry", hint)
    ignored = re.search(r"or add (.+) to its `ignore` list", hint)
    assert line is not None and ignored is not None, output
    return line.group(1), ignored.group(1)


def after_source_line(plan: Path, line: str) -> None:
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace('source = "items"\n', f'source = "items"\n{line}\n'), "utf-8")


def test_following_the_hint_for_an_empty_json_key_gives_a_plan_that_runs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "items.json").write_text(
        json.dumps([{"id": 1, "": "x", "name": "a"}, {"id": 2, "": "y", "name": "b"}]),
        encoding="utf-8",
    )
    plan = tmp_path / "ferry.toml"
    assert ferry("init", state, "-o", plan).exit_code == 0
    checked = ferry("check", plan)
    line, _ = hinted_lines(checked.output)

    after_source_line(plan, line)
    result = ferry("migrate", plan, "--no-backup")

    assert checked.exit_code == 1
    assert line == 'columns.unnamed_field = { from = "" }'
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "ferry.db", "SELECT id, name, unnamed_field FROM items") == [
        (1, "a", "x"),
        (2, "b", "y"),
    ]
    assert ferry("verify", plan).exit_code == 0


def test_following_the_hint_to_ignore_an_empty_json_key_gives_a_plan_that_runs(
    tmp_path: Path,
) -> None:
    plan = items_plan(tmp_path, [{"id": 1, "": "x", "name": "a"}])
    checked = ferry("migrate", plan, "--no-backup")
    _, ignored = hinted_lines(checked.output)

    after_source_line(plan, f"ignore = [{ignored}]")
    result = ferry("migrate", plan, "--no-backup")

    assert checked.exit_code == 3
    assert result.exit_code == 0, result.output
    assert columns_of(tmp_path / "app.db", "items") == ["id", "name"]


def test_a_key_too_long_for_postgres_is_carried_under_a_shortened_name(
    tmp_path: Path, pg_url: str
) -> None:
    long_key = "measurement of the " + "very " * 12 + "long label"
    plan = items_plan(tmp_path, [{"id": 1, long_key: 2.5}])
    plan.write_text(
        plan.read_text(encoding="utf-8").replace('"sqlite:///app.db"', json.dumps(pg_url)),
        encoding="utf-8",
    )
    checked = ferry("check", plan)
    result = ferry("migrate", plan, "--no-backup")

    assert checked.exit_code == 0, checked.output
    assert result.exit_code == 0, result.output
    with psycopg.connect(pg_url) as conn:
        found = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'items' "
            "ORDER BY ordinal_position"
        ).fetchall()
        assert found == [
            ("id",),
            ("measurement of the very very very very very very very _c2f30927",),
        ]
        assert conn.execute("SELECT * FROM items").fetchall() == [(1, 2.5)]
