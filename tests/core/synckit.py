"""Helpers of the sync and cutover tests: an app's SQLite file and JSON file, an app process
that keeps writing both, the plans that move them, and reading both ends back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from pgkit import pg_rows

from ferry.plan import Plan, plan_from_dict

#: rows each store holds before the app starts writing
START_ROWS = 20

#: the app: one new row in app.db and one in jobs.json every ``pause`` seconds, until the
#: file ``stop`` appears; then it prints how many rows it wrote and exits
_WRITER = """
import json, os, sqlite3, sys, time
pause = float(sys.argv[1])
db = sqlite3.connect("app.db", isolation_level=None, timeout=30)
db.execute("PRAGMA busy_timeout = 30000")
written = 0
print("ready", flush=True)
while not os.path.exists("stop"):
    with open("jobs.json", encoding="utf-8") as handle:
        jobs = json.load(handle)
    new = len(jobs) + 1
    jobs.append({"id": new, "name": f"job {new}"})
    with open("jobs.json.tmp", "w", encoding="utf-8") as handle:
        json.dump(jobs, handle)
    os.replace("jobs.json.tmp", "jobs.json")
    db.execute("INSERT INTO jobs (name) VALUES (?)", (f"job {new}",))
    written += 1
    time.sleep(pause)
db.close()
print(written, flush=True)
"""


def make_stores(folder: Path, rows: int = START_ROWS) -> None:
    """``app.db`` (table ``jobs``) and ``jobs.json`` (a list of records), ``rows`` each."""
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    with db:
        db.executemany(
            "INSERT INTO jobs VALUES (?, ?)", [(i, f"job {i}") for i in range(1, rows + 1)]
        )
    db.close()
    records = [{"id": i, "name": f"job {i}"} for i in range(1, rows + 1)]
    (folder / "jobs.json").write_text(json.dumps(records), encoding="utf-8")


class App:
    """The application process writing both stores until :meth:`stop`."""

    def __init__(self, folder: Path, pause: float = 0.03) -> None:
        self.folder = folder
        (folder / "stop").unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_WRITER), str(pause)],
            cwd=folder,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> int:
        """Stop the app (it finishes its write first); the rows it wrote."""
        (self.folder / "stop").touch()
        out, _ = self.process.communicate(timeout=30)
        return int(out.strip())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def sqlite_plan(folder: Path, target: str) -> Plan:
    """The app's SQLite file into ``target``."""
    return _plan(folder, target, {"name": "app", "kind": "sqlite", "path": "app.db"}, "app.jobs")


def json_plan(folder: Path, target: str) -> Plan:
    """The app's JSON file into ``target``."""
    return _plan(folder, target, {"name": "jobs", "kind": "json", "path": "jobs.json"}, "jobs")


def _plan(folder: Path, target: str, source: dict[str, Any], table: str) -> Plan:
    return plan_from_dict(
        {
            "name": "app-move",
            "target": {"url": target},
            "sources": [source],
            "tables": [{"name": "jobs", "source": table, "key": ["id"]}],
        },
        folder,
    )


def source_rows(folder: Path) -> set[tuple[int, str]]:
    """The SQLite store's jobs (the JSON file holds the same rows)."""
    db = sqlite3.connect(folder / "app.db")
    rows = {(int(i), str(n)) for i, n in db.execute("SELECT id, name FROM jobs")}
    db.close()
    return rows


def json_rows(folder: Path) -> set[tuple[int, str]]:
    data = json.loads((folder / "jobs.json").read_text(encoding="utf-8"))
    return {(int(r["id"]), str(r["name"])) for r in data}


def target_rows(target: str) -> set[tuple[int, str]]:
    """The target's jobs, SQLite URL (``sqlite:////abs``) or PostgreSQL URL."""
    if target.startswith("sqlite"):
        db = sqlite3.connect(target.removeprefix("sqlite:///"))
        rows = {(int(i), str(n)) for i, n in db.execute("SELECT id, name FROM jobs")}
        db.close()
        return rows
    return {(int(i), str(n)) for i, n in pg_rows(target, "SELECT id, name FROM jobs")}


def settle_files(folder: Path) -> None:
    """File times older than the re-run skip's racy window, as after a real pause."""
    old = time.time() - 60
    for name in ("app.db", "jobs.json"):
        path = folder / name
        if path.exists():
            import os

            os.utime(path, (old, old))
