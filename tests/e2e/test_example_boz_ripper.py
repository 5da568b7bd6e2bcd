"""examples/boz-ripper end to end through the Python API (seed 002): one dump of the server's
in-memory state into seven tables with foreign keys. TV season state survives, deleting a
disc cascades to its titles (and a season to its episodes), ``PRAGMA foreign_key_check`` is
empty. The flow runs once; each test checks one promise."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from examplekit import Flow, generate, reasons, run_flow

TABLES = ("jobs", "agents", "workers", "discs", "titles", "tv_seasons", "tv_episodes")


@dataclass
class Run:
    flow: Flow
    state: dict[str, Any]
    #: what the database held after the migration (before the rollback)
    seen: dict[str, Any] = field(default_factory=dict)


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def cascade(db: Path, parent: str, key: str, child: str, value: str) -> tuple[int, int]:
    """Children of ``value`` before and after deleting it (rolled back: nothing changes)."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        count = f"SELECT count(*) FROM {child} WHERE {key} = ?"
        before = conn.execute(count, (value,)).fetchone()[0]
        conn.execute(f"DELETE FROM {parent} WHERE {key} = ?", (value,))
        after = conn.execute(count, (value,)).fetchone()[0]
        conn.execute("ROLLBACK")
        return before, after
    finally:
        conn.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("boz-ripper") / "server"
    plan = generate("boz-ripper", folder, rows=40)
    state = json.loads((folder / "data" / "server_state.json").read_text(encoding="utf-8"))
    db = folder / "database" / "boz_ripper.db"
    seen: dict[str, Any] = {}

    def while_loaded(flow: Flow) -> None:
        seen["fk_check"] = query(db, "PRAGMA foreign_key_check")
        seen["seasons"] = set(
            query(db, "SELECT season_id, last_episode_assigned, last_disc_id FROM tv_seasons")
        )
        seen["disc"] = cascade(db, "discs", "disc_id", "titles", "disc-0001")
        season = state["tv_seasons"][0]["season_id"]
        seen["season"] = cascade(db, "tv_seasons", "season_id", "tv_episodes", season)
        seen["counts"] = {t: query(db, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

    return Run(run_flow(plan, "api", while_loaded=while_loaded), state, seen)


def test_tv_season_state_survives(run: Run) -> None:
    assert run.seen["seasons"] == {
        (s["season_id"], s["last_episode_assigned"], s["last_disc_id"])
        for s in run.state["tv_seasons"]
    }


def test_deleting_a_disc_cascades_to_its_titles(run: Run) -> None:
    before, after = run.seen["disc"]
    assert before > 0 and after == 0


def test_deleting_a_season_cascades_to_its_episodes(run: Run) -> None:
    before, after = run.seen["season"]
    assert before > 0 and after == 0


def test_foreign_key_check_is_empty_and_every_table_is_filled(run: Run) -> None:
    assert run.seen["fk_check"] == []
    assert all(run.seen["counts"].values()), run.seen["counts"]


def test_the_re_registered_agent_is_one_row(run: Run) -> None:
    assert run.seen["counts"]["agents"] == 3
    assert run.flow.table(run.flow.first, "agents")["duplicates"] == 1
    assert run.flow.table(run.flow.first, "titles")["duplicates"] == 1


def test_broken_rows_are_rejected_with_their_reasons(run: Run) -> None:
    flow = run.flow
    assert any("'unknown' is not a timestamp" in r for r in reasons(flow, "discs"))
    titles = reasons(flow, "titles")
    assert any("'1:02:33'" in r for r in titles), titles
    assert any("FOREIGN KEY" in r for r in titles), titles  # titles of the rejected disc
    assert any("episode_number" in r for r in reasons(flow, "tv_episodes"))
    assert any("jobs.job_type" in r for r in reasons(flow, "jobs"))
