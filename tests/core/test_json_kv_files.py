"""A glob of JSON settings files read with ``shape = "kv"``: one table ``(scope, key, value,
value_type)`` (ferry.sources.jsonkvfiles). Real files, the real CLI."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from draftkit import ferry

from ferry.api import migrate
from ferry.plan import plan_from_dict


def _store(tmp_path: Path) -> None:
    for name, value in {
        "state/alpha/settings.json": {"on": True},
        "state/beta/settings.json": {"on": False, "level": 3},
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(json.dumps(value), encoding="utf-8")


def test_key_pattern_names_the_scope(tmp_path: Path) -> None:
    _store(tmp_path)
    source = {"name": "state", "kind": "json", "path": "state/*/*.json", "shape": "kv"}
    plan = plan_from_dict(
        {
            "name": "kv",
            "target": {"url": "sqlite:///out.db"},
            "sources": [{**source, "key_pattern": r"^(?P<key>[^/]+)/"}],
            "tables": [{"name": "state", "source": "state"}],
        },
        tmp_path,
    )

    assert asyncio.run(migrate(plan, write_reports=False)).status == "completed"

    with sqlite3.connect(tmp_path / "out.db") as conn:
        rows = conn.execute("SELECT scope, key FROM state ORDER BY 1, 2").fetchall()
    conn.close()
    assert rows == [("alpha", "on"), ("beta", "level"), ("beta", "on")]


def test_a_key_column_named_scope_is_refused(tmp_path: Path) -> None:
    _store(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'version = 1\nname = "kv"\n[[sources]]\nname = "state"\nkind = "json"\n'
        'path = "state/*/*.json"\nshape = "kv"\nkey_column = "scope"\n'
        '[target]\nurl = "sqlite:///out.db"\n[[tables]]\nname = "state"\nsource = "state"\n'
    )

    result = ferry("check", plan)

    said = " ".join(result.output.split())
    assert result.exit_code != 0
    assert "key_column 'scope' is the column naming each file" in said
