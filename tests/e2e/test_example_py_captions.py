"""examples/py-captions end to end, entirely through the ``ferry`` CLI (seed 000).

Its JSON and text state go into the deployment guide's SQLite schema, every table; a verified
run leaves the legacy files as ``NAME.migrated`` (as the app did), and a rollback brings back
both the files and the absent database. The flow runs once; each test checks one promise.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from examplekit import Flow, generate, reasons, run_flow

SEED_TABLES = [
    "settings",
    "executions",
    "execution_steps",
    "manual_queue",
    "progress",
    "polling_cache",
    "heartbeats",
]


@dataclass
class Run:
    flow: Flow
    data: Path
    settings_json: dict[str, Any]
    #: what the database held after the migration (before the rollback)
    seen: dict[str, Any] = field(default_factory=dict)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("py-captions") / "app"
    plan = generate("py-captions", folder, rows=40)
    data = folder / "data"
    settings_json = json.loads((data / "settings.json").read_text(encoding="utf-8"))
    db = data / "py_captions.db"
    seen: dict[str, Any] = {}

    def while_loaded(flow: Flow) -> None:
        seen["migrated"] = sorted(p.name for p in data.glob("*.migrated"))
        seen["counts"] = {t: rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in SEED_TABLES}
        seen["settings"] = {
            key: (value, kind)
            for key, value, kind in rows(db, "SELECT key, value, value_type FROM settings")
        }
        seen["fk"] = rows(db, "PRAGMA foreign_key_check")

    flow = run_flow(plan, "cli", while_loaded=while_loaded)
    return Run(flow, data, settings_json, seen)


def test_every_table_of_the_seed_schema_is_filled(run: Run) -> None:
    assert all(count > 0 for count in run.seen["counts"].values()), run.seen["counts"]
    assert run.seen["fk"] == []


def test_settings_json_wins_over_env_per_key(run: Run) -> None:
    settings = run.seen["settings"]
    assert set(run.settings_json) < set(settings)
    assert settings["dry_run"] == ("false", "bool")  # .env says DRY_RUN=true
    assert settings["whisper_model"] == ("medium", "string")  # .env says small
    assert settings["whisper_device"] == ("cuda", "string")  # only in .env


def env_keys(path: Path) -> set[str]:
    """The setting names a .env file gives, lower-cased as the plan's key_ops do."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {
        line.split("=", 1)[0].removeprefix("export ").lower()
        for line in lines
        if "=" in line and not line.startswith("#")
    }


def test_the_merge_reports_what_each_settings_file_gave(run: Run) -> None:
    (merge,) = run.flow.preview["merges"]
    given = {i["table"]: (i["rows"], i["only_here"]) for i in merge["inputs"]}
    from_json, from_env = set(run.settings_json), env_keys(run.data / ".env")

    assert given["settings_json"] == (len(from_json), len(from_json - from_env))
    assert given["env_defaults"] == (len(from_env), len(from_env - from_json))
    assert merge["inputs"][0]["won"] > 0  # settings.json over .env: whisper_model, dry_run
    assert merge["rows"] == len(from_json | from_env) == len(run.seen["settings"])


def test_settings_get_the_type_names_settings_service_reads(run: Run) -> None:
    settings = run.seen["settings"]
    assert settings["poll_interval_seconds"] == ("120", "int")
    assert settings["silence_threshold_db"] == ("-35.5", "float")
    assert settings["keep_original"] == ("true", "bool")
    assert settings["caption_languages"][1] == "json"
    assert settings["last_cleanup"] == ("", "string")  # null in settings.json


def test_a_verified_run_renames_the_legacy_files_and_rollback_restores_them(run: Run) -> None:
    assert "executions.json.migrated" in run.seen["migrated"]
    assert "heartbeat_polling.txt.migrated" in run.seen["migrated"]
    assert ".env.migrated" in run.seen["migrated"]
    assert not list(run.data.glob("*.migrated"))
    assert (run.data / "executions.json").is_file()
    assert not (run.data / "py_captions.db").exists()  # it did not exist before


def test_broken_rows_are_rejected_with_their_reasons(run: Run) -> None:
    flow = run.flow
    assert any("'started_at'" in r and "not a timestamp" in r for r in reasons(flow, "executions"))
    assert any("executions.title" in r for r in reasons(flow, "executions"))
    steps = reasons(flow, "execution_steps")
    assert any("execution_steps.status" in r for r in steps)
    assert any("FOREIGN KEY" in r for r in steps)  # steps of the rejected executions
    assert any("'maybe' is not a boolean" in r for r in reasons(flow, "manual_queue"))
    assert any("'n/a'" in r for r in reasons(flow, "progress"))
    assert any("polling_cache.yielded_at" in r for r in reasons(flow, "polling_cache"))


def test_duplicates_are_counted_and_the_last_one_wins(run: Run) -> None:
    assert run.flow.table(run.flow.first, "executions")["duplicates"] == 3
    assert run.flow.table(run.flow.first, "manual_queue")["duplicates"] == 1  # trailing space
