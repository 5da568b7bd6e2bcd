"""A delta run's reads begun with the command (ferry.earlydelta, ferry.sources.earlyprep): a
process started before the engine is imported checks the tables' state on the target and
compares their pages with the kept maps, and the run takes what it found only where its own
reads prove it the same. Real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pgkit import migrated as run
from pgkit import pg_exec

import ferry.load.earlyscan
from ferry import earlydelta
from ferry.plan import Plan, plan_from_dict
from ferry.sources.sqlitepages import SideDelta

TABLES = ("parents", "items")
EARLY = "its pages compared as the command started"


def plan_data(folder: Path, url: str) -> dict[str, Any]:
    """The plan (as read from its TOML) moving both tables of ``folder/app.db`` by ``id``."""
    return {
        "name": "early",
        "target": {"url": url},
        "sources": [{"name": "app", "kind": "sqlite", "path": str(folder / "app.db")}],
        "tables": [{"name": t, "source": f"app.{t}", "key": ["id"]} for t in TABLES],
        "options": {"row_prints": True},
    }


def first_run(folder: Path, url: str) -> Plan:
    """Both tables loaded once (their prints and page maps kept), then row 1500 of each
    changed in the source."""
    db = sqlite3.connect(folder / "app.db")
    for table in TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany(
            f"INSERT INTO {table} VALUES (?, ?)", [(i, f"{table} {i}") for i in range(1, 3001)]
        )
    db.commit()
    plan = plan_from_dict(plan_data(folder, url), folder)
    run(plan)
    with db:
        for table in TABLES:
            db.execute(f"UPDATE {table} SET name = 'changed' WHERE id = 1500")
    db.close()
    return plan


def begun(folder: Path, url: str) -> None:
    """The early reads started, and waited for until both tables are compared."""
    assert earlydelta.begin_early_reads(plan_data(folder, url), folder)
    for table in TABLES:
        assert not isinstance(earlydelta.scan_for(table), str | None)


@pytest.fixture(autouse=True)
def _no_leftover() -> Any:
    yield
    earlydelta.discard()


def refuse_own_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Note every state check and side process the run makes itself."""
    own: list[str] = []
    check, start = ferry.load.earlyscan.state_matches, SideDelta.start

    async def checked(target: Any, table: str, columns: list[str], state: Any) -> bool:
        own.append(f"state {table}")
        return await check(target, table, columns, state)

    def started(self: SideDelta) -> None:
        own.append(f"side {','.join(self.tables)}")
        start(self)

    monkeypatch.setattr(ferry.load.earlyscan, "state_matches", checked)
    monkeypatch.setattr(SideDelta, "start", started)
    return own


def test_a_delta_takes_the_early_state_checks_and_page_comparisons(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    begun(tmp_path, pg_url)
    own = refuse_own_work(monkeypatch)
    result = run(plan)
    assert [(t.decision.mode, t.updated) for t in result.tables if t.decision] == [
        ("delta", 1),
        ("delta", 1),
    ]
    assert all(EARLY in t.decision.why for t in result.tables if t.decision)
    assert own == []


def test_a_source_write_after_the_early_comparison_is_not_missed(
    tmp_path: Path, pg_url: str
) -> None:
    plan = first_run(tmp_path, pg_url)
    begun(tmp_path, pg_url)
    with sqlite3.connect(tmp_path / "app.db") as db:  # (a new change counter)
        db.execute("UPDATE items SET name = 'later' WHERE id = 10")
    result = run(plan)
    items = next(t for t in result.tables if t.name == "items")
    assert items.decision is not None and items.decision.mode == "delta"
    assert items.updated == 2
    assert EARLY not in items.decision.why


def test_a_target_write_before_the_command_is_found_by_the_early_check(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    pg_exec(pg_url, "UPDATE items SET name = 'by the app' WHERE id = 7")
    begun(tmp_path, pg_url)
    own = refuse_own_work(monkeypatch)
    result = run(plan)
    modes = {t.name: t.decision.mode for t in result.tables if t.decision}
    assert modes["parents"] == "delta"
    assert modes["items"] != "delta"
    assert "state items" not in own  # (the early check found it: not checked again)


def test_an_entry_kept_since_the_early_reads_is_checked_by_the_run(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    begun(tmp_path, pg_url)
    # as another run's commit would leave it: the early check was of another entry
    pg_exec(
        pg_url, "UPDATE ferry.row_print_tables SET run_id = 'another' WHERE table_name = 'items'"
    )
    own = refuse_own_work(monkeypatch)
    run(plan)
    assert own == ["state items"]


def test_a_changed_kept_map_is_not_taken(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = first_run(tmp_path, pg_url)
    begun(tmp_path, pg_url)
    # the map the run reads is not the one the early process compared with
    pg_exec(
        pg_url,
        "UPDATE ferry.row_prints SET prints = overlay(prints PLACING "
        "'\\x0100000000000000'::bytea FROM 1 FOR 8) WHERE table_name = 'items' AND chunk = -1",
    )
    result = run(plan)
    items = next(t for t in result.tables if t.name == "items")
    assert items.decision is not None and EARLY not in items.decision.why


def test_a_first_run_takes_nothing_and_ends_the_process(tmp_path: Path, pg_url: str) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    for table in TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute(f"INSERT INTO {table} VALUES (1, 'one')")
    db.commit()
    db.close()
    assert earlydelta.begin_early_reads(plan_data(tmp_path, pg_url), tmp_path)
    result = run(plan_from_dict(plan_data(tmp_path, pg_url), tmp_path))
    assert [t.inserted for t in result.tables] == [1, 1]
    assert earlydelta.scan_for("items") is None  # (ended once the run was planned)


def test_only_migrate_and_sync_of_a_postgresql_plan_begin_early(
    tmp_path: Path, pg_url: str
) -> None:
    sqlite3.connect(tmp_path / "app.db").close()
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'name = "early"\n[target]\nurl = "{pg_url}"\n'
        '[[sources]]\nname = "app"\nkind = "sqlite"\npath = "app.db"\n'
        '[[tables]]\nname = "items"\nsource = "app.items"\n'
    )
    assert not earlydelta.begin_early_reads_for_command(["verify", str(plan)])
    assert earlydelta.begin_early_reads_for_command(["sync", "--every", "30s", str(plan)])
    earlydelta.discard()
    assert earlydelta.begin_early_reads_for_command(["migrate", str(plan)])
    earlydelta.discard()
    data = plan_data(tmp_path, "sqlite:///target.db")
    assert not earlydelta.begin_early_reads(data, tmp_path)


def test_the_ferry_command_takes_the_reads_it_began(tmp_path: Path, pg_url: str) -> None:
    db = sqlite3.connect(tmp_path / "app.db")
    for table in TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany(f"INSERT INTO {table} VALUES (?, ?)", [(i, "x") for i in range(1, 3001)])
    db.commit()
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f'name = "early"\n[target]\nurl = "{pg_url}"\n'
        '[[sources]]\nname = "app"\nkind = "sqlite"\npath = "app.db"\n'
        + "".join(f'[[tables]]\nname = "{t}"\nsource = "app.{t}"\nkey = ["id"]\n' for t in TABLES)
        + "[options]\nrow_prints = true\n"
    )
    command = [sys.executable, "-m", "ferry", "migrate", str(plan), "--no-backup", "--json"]
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    with db:
        for table in TABLES:
            db.execute(f"UPDATE {table} SET name = 'changed' WHERE id = 1500")
    db.close()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    tables = json.loads(done.stdout)["tables"]
    assert [(t["decision"]["mode"], t["updated"]) for t in tables] == [("delta", 1), ("delta", 1)]
    assert all(EARLY in t["decision"]["why"] for t in tables)


def test_a_table_the_forked_copy_said_nothing_of_is_not_taken() -> None:
    where = Path(earlydelta.__file__).with_name("sources") / "earlyprep.py"
    spec = importlib.util.spec_from_file_location("earlyprep_under_test", where)
    assert spec is not None and spec.loader is not None
    prep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prep)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # a copy that dies before it says anything
        os._exit(1)
    os.close(write_end)
    said: list[tuple[Any, ...]] = []
    prep._relay(read_end, child, ["parents"], said.append)
    assert said == [("scan-failed", "parents", "the copy of the early process comparing it failed")]


def test_a_delta_reads_first_the_table_whose_pages_are_compared_first() -> None:
    class Comparison:
        tables = TABLES

        def ready(self, table: str) -> bool:
            return table == "items"

    run_view: Any = SimpleNamespace(
        source_tables={f"app.{t}": SimpleNamespace(origin=t) for t in TABLES}
    )
    routes: Any = [
        SimpleNamespace(spec=SimpleNamespace(source=f"app.{t}"), prints=SimpleNamespace(early=None))
        for t in TABLES
    ]
    first = asyncio.run(ferry.load.earlyscan.first_compared(run_view, routes, Comparison()))
    assert first is routes[1]
