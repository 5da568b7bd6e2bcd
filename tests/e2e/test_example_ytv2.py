"""examples/ytv2 end to end on the real PostgreSQL server, through the ``ferry`` command:
two diverged SQLite copies merged into seed 003's schema — backup, preview, migrate, verify,
a second run that changes nothing, cascading deletes, rollback to the empty database."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ytv2"
VIDEOS = 120


@dataclass
class Ytv2:
    folder: Path
    url: str
    expected: dict[str, Any]

    def ferry(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "ferry", *args],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if ok:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def run_json(self, *args: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.ferry(*args, "--json", "ferry.toml").stdout)
        return result

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def ytv2(tmp_path: Path, pg_url: str) -> Iterator[Ytv2]:
    folder = tmp_path / "ytv2"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "generate.py"), str(folder), "--videos", str(VIDEOS)],
        check=True,
        capture_output=True,
    )
    plan = (folder / "ferry.toml").read_text()
    plan = re.sub(r'(?m)^url = "postgresql://[^"]*"', f'url = "{pg_url}"', plan, count=1)
    (folder / "ferry.toml").write_text(plan)
    expected = json.loads((folder / "data" / "expected.json").read_text())
    yield Ytv2(folder, pg_url, expected)


def _counts(result: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {
        t["name"]: (t["inserted"], t["updated"], t["unchanged"], t["rejected"])
        for t in result["tables"]
    }


def test_preview_shows_what_each_copy_gives_and_the_deletions(ytv2: Ytv2) -> None:
    result = ytv2.run_json("preview")
    (merge,) = result["merges"]
    nas, dashboard = merge["inputs"]
    assert (nas["table"], nas["rows"]) == ("nas.content", ytv2.expected["nas_rows"])
    assert dashboard["rows"] == ytv2.expected["dashboard_rows"]
    assert dashboard["won"] == ytv2.expected["enhanced"]  # curated analysis beats the NAS
    assert merge["deleted"] == len(ytv2.expected["deleted"])
    assert sorted(re.findall(r"'([^']+)'", " ".join(merge["deleted_keys"]))) == sorted(
        ytv2.expected["deleted"]
    )
    assert ytv2.sql("SELECT to_regclass('content')") == [(None,)]  # a preview changes nothing


def test_migration_loads_merged_rows_and_rejects_check_violations(ytv2: Ytv2) -> None:
    result = ytv2.run_json("migrate")
    expected = ytv2.expected
    assert _counts(result) == {
        "content": (expected["content"], 0, 0, expected["rejected_content"]),
        "content_summaries": (expected["content_summaries"], 0, 0, expected["rejected_summaries"]),
    }
    reasons = " ".join(r["reason"] for r in result["rejects"])
    assert "valid_video_id" in reasons and "valid_language" in reasons
    malformed = [w for w in result["warnings"] if "analysis_json" in w and "used {}" in w]
    assert len(malformed) == expected["malformed_analysis"]
    deleted = expected["deleted"]
    assert ytv2.sql(f"SELECT count(*) FROM content WHERE video_id = ANY(ARRAY{deleted})") == [(0,)]
    assert ytv2.sql("SELECT count(*) FROM content WHERE language !~ '^[a-z]{2}$'") == [(0,)]


def test_verify_passes_with_the_plans_assertions(ytv2: Ytv2) -> None:
    ytv2.ferry("migrate", "-q", "ferry.toml")
    done = ytv2.ferry("verify", "--json", "ferry.toml")
    result = json.loads(done.stdout)
    assert result["verdict"] == "PASS"
    names = {a["name"]: a["verdict"] for a in result["assertions"]}
    assert names["the 67 hand-enhanced categorisations survive"] == "PASS"


def test_a_second_run_changes_nothing_and_adds_no_revision(ytv2: Ytv2) -> None:
    ytv2.ferry("migrate", "-q", "ferry.toml")
    before = ytv2.sql("SELECT video_id, revision, updated_at FROM content_summaries ORDER BY 1")
    again = ytv2.run_json("migrate")
    expected = ytv2.expected
    assert _counts(again) == {
        "content": (0, 0, expected["content"], expected["rejected_content"]),
        "content_summaries": (0, 0, expected["content_summaries"], expected["rejected_summaries"]),
    }
    after = ytv2.sql("SELECT video_id, revision, updated_at FROM content_summaries ORDER BY 1")
    assert after == before  # no new revision, and the updated_at trigger never fired


def test_deleting_a_video_cascades_to_its_summaries(ytv2: Ytv2) -> None:
    ytv2.ferry("migrate", "-q", "ferry.toml")
    ((video_id,),) = ytv2.sql("SELECT video_id FROM content_summaries LIMIT 1")
    ytv2.sql(f"DELETE FROM content WHERE video_id = '{video_id}'")
    assert ytv2.sql(f"SELECT count(*) FROM content_summaries WHERE video_id = '{video_id}'") == [
        (0,)
    ]


def test_rollback_restores_the_database_as_it_was(ytv2: Ytv2) -> None:
    ytv2.sql("CREATE TABLE dashboard_notes (id int PRIMARY KEY, body text)")
    ytv2.sql("INSERT INTO dashboard_notes VALUES (1, 'kept through the rollback')")
    ytv2.ferry("migrate", "-q", "ferry.toml")  # backs up first
    ytv2.ferry("migrate", "-q", "ferry.toml")  # a second backup, of the migrated database
    backups = sorted(p.name for p in (ytv2.folder / "ferry-backups").iterdir() if p.is_dir())
    ytv2.ferry("rollback", "--yes", "--backup", backups[0], "ferry.toml")
    tables = ytv2.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    assert tables == [("dashboard_notes",)]
    assert ytv2.sql("SELECT body FROM dashboard_notes") == [("kept through the rollback",)]
    functions = "SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    assert ytv2.sql(functions) == [(0,)]  # schema.sql's set_updated_at() went too
