"""``ferry undo`` killed (SIGKILL) mid-way leaves the target exactly as before the undo (its
one transaction never commits half), and the next undo completes (issue 20 item 8)."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

from faultkit import FerryProcess, pg_query
from sqlalchemy import create_engine, text

from ferry.api import undo
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan

ROWS = 60_000

PLAN = """name = "shop"

[target]
url = "{url}"

[[sources]]
name = "app"
kind = "sqlite"
path = "app.db"

[[tables]]
name = "customers"
source = "app.customers"
"""


def make_plan(folder: Path, url: str) -> Plan:
    db = sqlite3.connect(folder / "app.db")
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)")
    db.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)", ((i, f"name {i}", i / 4) for i in range(ROWS))
    )
    db.commit()
    db.close()
    (folder / "ferry.toml").write_text(PLAN.format(url=url), encoding="utf-8")
    return load_plan(folder / "ferry.toml")


def target_rows(plan: Plan) -> list[tuple[Any, ...]]:
    url = plan.target.url
    if url.startswith("sqlite:///"):
        url = f"sqlite:///{plan.base_dir / url.removeprefix('sqlite:///')}"
    else:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text("SELECT * FROM customers ORDER BY id"))]
    engine.dispose()
    return found


def test_a_killed_undo_leaves_the_target_as_before_and_the_next_one_completes(
    tmp_path: Path, target_url: str
) -> None:
    plan = make_plan(tmp_path, target_url)
    asyncio.run(migrate(plan))
    first = target_rows(plan)
    db = sqlite3.connect(tmp_path / "app.db")
    db.execute("UPDATE customers SET name = name || ' v2', score = score + 1")
    db.commit()
    db.close()
    asyncio.run(migrate(plan))  # every row updated: the undo has 60,000 rows to put back
    second = target_rows(plan)
    proc = FerryProcess(["undo", str(tmp_path / "ferry.toml"), "--yes"], cwd=tmp_path)

    if target_url.startswith("sqlite"):  # the undo's first write to the file
        journal = tmp_path / "target.db-journal"
        assert proc.wait_until(journal.exists, "the target's rollback journal")
    else:  # the undo's statements are running on the server
        url = target_url

        def undoing() -> bool:
            rows = pg_query(
                url,
                "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND "
                "query LIKE 'UPDATE \"customers\" AS t SET%'",
            )
            return bool(rows)

        assert proc.wait_until(undoing, "the undo's UPDATE on the server")
    assert proc.signal(signal.SIGKILL)
    proc.wait()

    assert target_rows(plan) == second  # nothing of the undo is left
    done = asyncio.run(undo(plan))
    assert done.verdict == "PASS"
    assert target_rows(plan) == first
