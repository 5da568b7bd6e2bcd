"""A run killed while SQLite copies a table whole into a new file (ferry.targets.sqlitecopy)
leaves nothing of it: the copy runs in the run's one transaction (a savepoint inside it), so
the hot journal rolls the file back to empty, and the next run loads every row.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from faultkit import FerryProcess, docs_and_steps, ferry_run, sqlite_query

from ferry.shape.schema import is_ferry_table

pytestmark = pytest.mark.slow

PARENTS = 60_000
CHILDREN = 240_000


@pytest.fixture(scope="module")
def app_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("whole-source")
    return docs_and_steps(
        folder, PARENTS, CHILDREN, 200, lambda i: f"2024-05-01 10:{i % 60:02d}:00"
    )


def plan_for(folder: Path, source: Path, target: Path) -> Path:
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""
version = 1
name = "whole-kill"
sources = [{{ name = "app", kind = "sqlite", path = "{source}" }}]

[target]
url = "sqlite:///{target}"

[[tables]]
name = "docs"
source = "app.docs"
key = ["id"]

[[tables]]
name = "steps"
source = "app.steps"
key = ["id"]
""",
        encoding="utf-8",
    )
    return plan


def app_tables(db: Path) -> dict[str, int]:
    """Rows per table of the app's (opening the file rolls a hot journal back)."""
    names = [r[0] for r in sqlite_query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        name: sqlite_query(db, f'SELECT count(*) FROM "{name}"')[0][0]
        for name in names
        if not is_ferry_table(name)
    }


# seconds after the schema step began: the copy's check, the copy, the merge and commit
@pytest.mark.parametrize("after", [0.0, 0.1, 0.2, 0.3, 0.45, 0.6])
def test_a_kill_during_a_whole_copy_leaves_no_rows_and_a_rerun_loads_them_all(
    app_db: Path, tmp_path: Path, after: float
) -> None:
    target = tmp_path / "new.db"
    plan = plan_for(tmp_path, app_db, target)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)
    assert proc.wait_for_marker("- schema")
    began = proc.marker_time("- schema") or 0.0
    while proc.elapsed() < began + after and proc.proc.poll() is None:
        time.sleep(0.002)
    struck = proc.signal(signal.SIGKILL)
    code = proc.wait()
    print(f"after {after}: struck={struck} in step {proc.last_step()}")

    assert struck or code == 0, proc.stderr
    if target.exists():
        assert sqlite_query(target, "PRAGMA integrity_check") == [("ok",)]
        found = app_tables(target)
        complete = {"docs": PARENTS, "steps": CHILDREN}
        assert found in ({}, complete) or not any(found.values()), found
    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert app_tables(target) == {"docs": PARENTS, "steps": CHILDREN}
    assert sqlite_query(target, "PRAGMA integrity_check") == [("ok",)]
    assert sqlite_query(target, "PRAGMA foreign_key_check") == []
