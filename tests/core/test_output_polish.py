"""What the commands print says what happens: counts that match the lines under them, and
no promise the run would not keep."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli

PLAN = """name = "jobs"

[target]
url = "sqlite:///app.db"

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""


def test_rows_replaced_by_a_repeated_key_are_not_printed_as_rejected(tmp_path: Path) -> None:
    jobs = [{"id": 1, "name": "probe"}, {"id": 2, "name": "mux"}, {"id": 1, "name": "remux"}]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    (tmp_path / "ferry.toml").write_text(PLAN, encoding="utf-8")

    result = CliRunner().invoke(cli, ["migrate", str(tmp_path / "ferry.toml"), "-q", "--no-backup"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("1 rows replaced by a later row with the same key (first ones):")
    assert lines[start + 1] == "  jobs id=1"
    assert not [line for line in lines if "rejected rows" in line]


def test_preview_diff_of_a_conflict_prints_the_kept_value_and_the_source_value_apart(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "ferry.toml"
    plan.write_text(PLAN + 'conflict = "insert"\n', encoding="utf-8")
    (tmp_path / "jobs.json").write_text(json.dumps([{"id": 1, "name": "old"}]), encoding="utf-8")
    assert CliRunner().invoke(cli, ["migrate", str(plan), "-q", "--no-backup"]).exit_code == 0
    (tmp_path / "jobs.json").write_text(json.dumps([{"id": 1, "name": "new"}]), encoding="utf-8")

    result = CliRunner().invoke(cli, ["preview", str(plan), "-q", "--diff", "jobs"])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("jobs id=1: conflict (target kept)")
    assert lines[start + 1] == "    name: 'old' kept (source 'new' not applied)"
