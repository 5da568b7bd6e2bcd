"""Shared by the tests that draft a plan for a small SQLite app file with ``ferry init`` and
run it through the command line (real files, the real CLI)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.plan import Plan, plan_from_dict


def ferry(*args: str | Path) -> Result:
    """``ferry ARGS`` through click's runner."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def draft(tmp_path: Path, schema: str, target: str, file: str = "app.db") -> Path:
    """A SQLite app file made by ``schema`` in ``tmp_path/app`` and the plan ``ferry init``
    drafts for that folder into ``target`` (``tmp_path/plan.toml``)."""
    folder = tmp_path / "app"
    folder.mkdir()
    with sqlite3.connect(folder / file) as conn:
        conn.executescript(schema)
    conn.close()
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", target, "-o", plan)
    assert result.exit_code == 0, result.output
    return plan


def one_table_plan(tmp_path: Path, table: str, url: str = "sqlite:///new.db") -> Plan:
    """A plan moving ``table`` of the SQLite file ``tmp_path/app.db`` (source ``app``) into
    ``url`` (a new SQLite file beside it by default), under the same name."""
    return plan_from_dict(
        {
            "version": 1,
            "name": "app",
            "target": {"url": url},
            "sources": [{"name": "app", "kind": "sqlite", "path": "app.db"}],
            "tables": [{"name": table, "source": f"app.{table}"}],
        },
        base_dir=tmp_path,
    )
