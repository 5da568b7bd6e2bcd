"""The README's "Quick start on your own data", command for command, with the installed ``ferry``.

    ferry init path/to/app-state -o ferry.toml
    ferry check ferry.toml
    ferry preview ferry.toml
    ferry migrate ferry.toml

A second ``ferry migrate`` on unchanged data changes nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from ferry.journal import journal_tables
from ferry.plan import load_plan

#: Ferry's journal in this test's target (ferry.journal)
RUNS = journal_tables("sqlite")[0]


def ferry_command() -> list[str]:
    """The ``ferry`` script installed beside this Python, else the module."""
    script = Path(sys.executable).parent / ("ferry.exe" if sys.platform == "win32" else "ferry")
    if script.exists():
        return [str(script)]
    found = shutil.which("ferry")
    return [found] if found else [sys.executable, "-m", "ferry.cli"]


def ferry(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [*ferry_command(), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def make_app_state(folder: Path) -> None:
    write_json(
        folder / "users.json",
        [
            {"id": 1, "name": "Ada", "email": "ada@example.org", "joined": "2024-03-01T10:00:00Z"},
            {"id": 2, "name": "Bob", "email": None, "joined": "2024-05-17 08:30:00"},
            {
                "id": 3,
                "name": "Cy",
                "email": "cy@example.org",
                "joined": "2024-06-01T02:00:00+02:00",
            },
        ],
    )
    write_json(
        folder / "jobs.json",
        {
            "job-1": {
                "title": "Nightly",
                "done": True,
                "steps": [{"name": "probe", "seconds": 4}, {"name": "mux", "seconds": 9}],
            },
            "job-2": {"title": "Weekly", "done": False, "steps": [{"name": "probe", "seconds": 5}]},
        },
    )
    write_json(folder / "settings.json", {"theme": "dark", "retries": 3, "beta": False})


def test_quick_start_on_a_folder_of_json_files(tmp_path: Path) -> None:
    make_app_state(tmp_path / "path" / "to" / "app-state")
    db = tmp_path / "ferry.db"

    init = ferry(tmp_path, "init", "path/to/app-state", "-o", "ferry.toml")

    assert init.returncode == 0, init.stderr
    assert "Wrote ferry.toml (3 sources, 4 tables)" in init.stdout
    plan = load_plan(tmp_path / "ferry.toml")
    assert plan.target.url == "sqlite:///ferry.db"
    assert [(s.name, s.path) for s in plan.sources] == [
        ("jobs", "path/to/app-state/jobs.json"),
        ("settings", "path/to/app-state/settings.json"),
        ("users", "path/to/app-state/users.json"),
    ]
    assert [(t.name, t.source, t.key) for t in plan.tables] == [
        ("jobs", "jobs", ["id"]),
        ("jobs_steps", "jobs.steps", ["jobs_id", "position"]),
        ("settings", "settings", ["key"]),
        ("users", "users", ["id"]),
    ]
    assert plan.tables[3].types == {
        "id": "integer",
        "name": "text",
        "email": "text",
        "joined": "timestamp",
    }

    check = ferry(tmp_path, "check", "ferry.toml")

    assert check.returncode == 0, check.stdout + check.stderr
    assert "FAIL" not in check.stdout
    assert "ok   table users: will be created from the source data" in check.stdout
    assert not db.exists()

    preview = ferry(tmp_path, "preview", "ferry.toml")

    assert preview.returncode == 0, preview.stderr
    assert 'CREATE TABLE "users"' in preview.stdout
    assert f"Preview only: {db} is unchanged." in preview.stdout
    assert not db.exists()

    migrate = ferry(tmp_path, "migrate", "ferry.toml")

    assert migrate.returncode == 0, migrate.stderr
    assert re.search(r"Migrated into .*ferry\.db in [\d.]+ s: 11 rows changed", migrate.stdout)
    assert rows(db, "SELECT id, name, email, joined FROM users ORDER BY id") == [
        (1, "Ada", "ada@example.org", "2024-03-01 10:00:00.000000"),
        (2, "Bob", None, "2024-05-17 08:30:00.000000"),
        (3, "Cy", "cy@example.org", "2024-06-01 00:00:00.000000"),
    ]
    assert rows(db, "SELECT id, title, done FROM jobs ORDER BY id") == [
        ("job-1", "Nightly", 1),
        ("job-2", "Weekly", 0),
    ]
    assert rows(db, "SELECT jobs_id, position, name, seconds FROM jobs_steps ORDER BY 1, 2") == [
        ("job-1", 0, "probe", 4),
        ("job-1", 1, "mux", 9),
        ("job-2", 0, "probe", 5),
    ]
    assert rows(db, "SELECT key, value, value_type FROM settings ORDER BY key") == [
        ("beta", "false", "boolean"),
        ("retries", "3", "integer"),
        ("theme", "dark", "string"),
    ]
    assert rows(db, f"SELECT count(*) FROM {RUNS}") == [(1,)]

    again = ferry(tmp_path, "migrate", "ferry.toml")

    assert again.returncode == 0, again.stderr
    assert re.search(r"Migrated into .*ferry\.db in [\d.]+ s: 0 rows changed", again.stdout)
    assert rows(db, "SELECT count(*) FROM users") == [(3,)]
    assert rows(db, f"SELECT count(*) FROM {RUNS}") == [(2,)]
