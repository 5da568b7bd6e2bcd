"""A small app folder for the backup and rollback tests, and helpers to look inside it.

``make_app(folder)`` writes a plan (``ferry.toml``) with three kinds of source — a JSON file,
a SQLite database and two text files matched by a glob — and an existing SQLite target
``app.db`` holding two jobs. ``pg_plan`` writes the same plan with a PostgreSQL target.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from ferry.backup.create import Backup, create_backup
from ferry.cli.backup import register
from ferry.cli.command import cli
from ferry.plan import Plan, load_plan
from ferry.safety.signing import sign

JOBS_JSON = '[{"id": 1, "name": "probe"}, {"id": 3, "name": "publish"}]\n'

PLAN = """name = "jobs"

[target]
url = "{url}"

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[sources]]
name = "state"
kind = "sqlite"
path = "state.db"

[[sources]]
name = "beats"
kind = "text"
path = "heartbeat_*.txt"
key_pattern = 'heartbeat_(?P<key>.+)\\.txt'

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
{extra}"""


def write_sources(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jobs.json").write_text(JOBS_JSON, encoding="utf-8")
    (folder / "heartbeat_a.txt").write_text("2026-11-21T07:00:00Z\n", encoding="utf-8")
    (folder / "heartbeat_b.txt").write_text("2026-11-21T07:00:05Z\n", encoding="utf-8")
    conn = sqlite3.connect(folder / "state.db")
    conn.execute("CREATE TABLE progress (id INTEGER PRIMARY KEY, pct REAL)")
    conn.executemany("INSERT INTO progress VALUES (?, ?)", [(1, 0.5), (2, 1.0)])
    conn.commit()
    conn.close()


def make_app(folder: Path, extra: str = "") -> Path:
    """The app folder with a SQLite target holding jobs 1 and 2; returns the plan file."""
    write_sources(folder)
    conn = sqlite3.connect(folder / "app.db")
    conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.executemany("INSERT INTO jobs VALUES (?, ?)", [(1, "old"), (2, "mux")])
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(PLAN.format(url="sqlite:///app.db", extra=extra), encoding="utf-8")
    return plan


def pg_plan(folder: Path, url: str, extra: str = "") -> Path:
    """The app folder's sources with a PostgreSQL target; returns the plan file."""
    write_sources(folder)
    plan = folder / "ferry.toml"
    plan.write_text(PLAN.format(url=url, extra=extra), encoding="utf-8")
    return plan


def load(plan_file: Path) -> Plan:
    return load_plan(plan_file)


def backup(plan: Plan, **kwargs: Any) -> Backup:
    return asyncio.run(create_backup(plan, **kwargs))


def dump(db: Path) -> list[str]:
    """Every statement that recreates a SQLite database (schema and rows)."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def sqlite_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def sqlite_exec(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return data


def rewrite_manifest(folder: Path, data: dict[str, Any], *, resign: bool = True) -> None:
    """Write ``data`` as the manifest, signed again with this user's key (the checks behind
    the signature must hold even for someone holding the key) unless ``resign`` is False."""
    if resign:
        data = sign(data)
    (folder / "manifest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


def flip_byte(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def ferry(*args: str | Path, input: str | None = None) -> Result:
    register(cli)
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)
