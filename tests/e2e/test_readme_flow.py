"""The README's "Quick start on your own data" and docs/walkthrough.md's demo walk, command for
command as they are written there, with the installed ``ferry``.

The commands are read from the documents' ``bash`` blocks (``docexamples``), so an edit there is
an edit of what these tests run:

    ferry init path/to/app-state -o ferry.toml
    ferry check ferry.toml
    ferry preview ferry.toml
    ferry migrate ferry.toml
    ferry verify ferry.toml
    ferry rollback ferry.toml

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

from docexamples import DOCS, README, blocks, shell_steps

from ferry.load.journal import journal_tables
from ferry.plan import load_plan

#: Ferry's journal in this test's target (ferry.load.journal)
RUNS = journal_tables("sqlite")[0]


def ferry_command() -> list[str]:
    """The ``ferry`` script installed beside this Python, else the module."""
    script = Path(sys.executable).parent / ("ferry.exe" if sys.platform == "win32" else "ferry")
    if script.exists():
        return [str(script)]
    found = shutil.which("ferry")
    return [found] if found else [sys.executable, "-m", "ferry.cli.command"]


def ferry(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``ferry``; a confirmation it asks for (rollback) is answered yes."""
    proc = subprocess.run(
        [*ferry_command(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        input="y\n",
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


def quick_start() -> list[list[str]]:
    """The README's quick start: the ``ferry`` commands of its one bash block, in order."""
    (block,) = blocks(README, "bash", "Quick start on your own data")
    steps = shell_steps(block)
    others = [s.words for s in steps if not s.words or s.words[0] not in ("ferry", "$EDITOR")]
    assert others == [], f"the quick start holds a step this test cannot run: {others}"
    return [s.words[1:] for s in steps if s.words[0] == "ferry"]


def test_quick_start_runs_init_check_preview_migrate_verify_rollback() -> None:
    assert [args[0] for args in quick_start()] == [
        "init",
        "check",
        "preview",
        "migrate",
        "verify",
        "rollback",
    ]


def test_quick_start_on_a_folder_of_json_files(tmp_path: Path) -> None:
    commands = iter(quick_start())
    init_args = next(commands)
    make_app_state(tmp_path / init_args[1])
    plan_file = init_args[init_args.index("-o") + 1]
    db = tmp_path / "ferry.db"

    init = ferry(tmp_path, *init_args)

    assert init.returncode == 0, init.stderr
    assert f"Wrote {plan_file} (3 sources, 4 tables)" in init.stdout
    plan = load_plan(tmp_path / plan_file)
    assert plan.target.url == "sqlite:///ferry.db"
    assert [(s.name, s.path) for s in plan.sources] == [
        ("jobs", f"{init_args[1]}/jobs.json"),
        ("settings", f"{init_args[1]}/settings.json"),
        ("users", f"{init_args[1]}/users.json"),
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

    check = ferry(tmp_path, *next(commands))

    assert check.returncode == 0, check.stdout + check.stderr
    assert "FAIL" not in check.stdout
    assert "ok   table users: will be created from the source data" in check.stdout
    assert not db.exists()

    preview = ferry(tmp_path, *next(commands))

    assert preview.returncode == 0, preview.stderr
    assert 'CREATE TABLE "users"' in preview.stdout
    assert f"Preview only: {db} is unchanged." in preview.stdout
    assert not db.exists()

    migrate_args = next(commands)
    migrate = ferry(tmp_path, *migrate_args)

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

    again = ferry(tmp_path, *migrate_args)

    assert again.returncode == 0, again.stderr
    assert re.search(r"Migrated into .*ferry\.db in [\d.]+ s: 0 rows changed", again.stdout)
    assert rows(db, "SELECT count(*) FROM users") == [(3,)]
    assert rows(db, f"SELECT count(*) FROM {RUNS}") == [(2,)]

    verify = ferry(tmp_path, *next(commands))

    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "PASS" in verify.stdout

    rollback = ferry(tmp_path, *next(commands))

    # back to the backup the second migrate took: the history survives, that run is marked
    # rolled back, and the rollback is journaled as a run of its own
    assert rollback.returncode == 0, rollback.stdout + rollback.stderr
    assert "Rolled back" in rollback.stdout
    assert rows(db, f"SELECT mode, status FROM {RUNS} ORDER BY started_at") == [
        ("migrate", "completed"),
        ("migrate", "rolled_back"),
        ("rollback", "completed"),
    ]
    assert rows(db, "SELECT count(*) FROM users") == [(3,)]


WALK_HEADING = "Backup → preview → migrate → verify → rollback, on the bundled demo"


def titles(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT id, title FROM executions"))  # type: ignore[arg-type]


def test_demo_walkthrough_runs_as_written(tmp_path: Path) -> None:
    """docs/walkthrough.md's commands in order; its comment line is the edit the test makes."""
    (block,) = blocks(DOCS / "walkthrough.md", "bash", WALK_HEADING)
    cwd, backup_id, done = tmp_path, "", {}
    for step in shell_steps(block):
        if step.comment:
            assert "change a job title in data/executions.json" in step.comment, step.comment
            data_file = cwd / "data" / "executions.json"
            executions = json.loads(data_file.read_text(encoding="utf-8"))
            first = next(iter(executions))
            before = titles(cwd / "app.db")[first]
            executions[first]["title"] = "Retitled by the operator"
            data_file.write_text(json.dumps(executions, indent=2), encoding="utf-8")
            continue
        if step.words[0] == "cd":
            cwd = cwd / step.words[1]
            continue
        assert Path(step.words[0]).name == "ferry", step.words
        args = [word.replace("<ID>", backup_id) for word in step.words[1:]]
        proc = ferry(cwd, *args)
        assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout}{proc.stderr}"
        if args[0] == "backup" and len(args) == 2:
            backup_id = re.search(r"Backup (\S+)", proc.stdout)[1]  # type: ignore[index]
        done[args[0]] = proc.stdout

    assert set(done) == {"demo", "backup", "backups", "preview", "migrate", "verify", "rollback"}
    assert "Retitled by the operator" in done["preview"]
    assert "PASS" in done["verify"]
    # rollback went to the backup migrate took: the title as it was before the edit
    assert titles(cwd / "app.db")[first] == before
