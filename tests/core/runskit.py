"""A plan whose runs ``ferry runs`` lists (tests/core/test_runs.py, test_rollback_history.py).

``history_plan(folder, url)`` writes ``app.db`` (20 items; item 4's qty is no number, so a
run rejects it) and ``ferry.toml`` moving it into ``url``; ``migrate_with_backup`` runs it as
``ferry migrate`` does (a backup first, journaled with the run).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from ferry.backup.create import create_backup
from ferry.cli.command import cli
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.results import RunResult

ROWS = 20

PLAN = """name = "history"

[target]
url = "{url}"

[[sources]]
name = "app"
kind = "sqlite"
path = "app.db"

[[tables]]
name = "items"
source = "app.items"
types = {{ qty = "integer" }}
"""


def history_plan(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty TEXT)")
    with db:
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?)",
            [(i, f"item {i}", "lots" if i == 4 else str(i)) for i in range(1, ROWS + 1)],
        )
    db.close()
    path = folder / "ferry.toml"
    path.write_text(PLAN.format(url=url), encoding="utf-8")
    return path


def change_source(folder: Path) -> None:
    """One row changed, one new."""
    db = sqlite3.connect(folder / "app.db")
    with db:
        db.execute("UPDATE items SET name = 'renamed' WHERE id = 1")
        db.execute("INSERT INTO items VALUES (21, 'item 21', '21')")
    db.close()


def load(path: Path) -> Plan:
    return load_plan(path)


def migrate_with_backup(plan: Plan) -> RunResult:
    made = asyncio.run(create_backup(plan))
    return asyncio.run(migrate(plan, backup=made.to_dict()))


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def runs_json(plan_file: Path) -> dict[str, Any]:
    done = ferry("runs", plan_file, "--json")
    assert done.exit_code == 0, done.output
    data: dict[str, Any] = json.loads(done.stdout)
    return data
