"""ferry init leaves out files named like test fixtures (a generator's expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan


def test_expected_json_beside_the_state_is_skipped_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "jobs.json").write_text(json.dumps([{"id": "j1", "title": "Übersicht"}]))
    (data / "expected.json").write_text(json.dumps({"content": 3}))
    (data / "jobs_expected.json").write_text(json.dumps([{"id": "j1"}]))

    result = CliRunner().invoke(cli, ["init", str(data), "-o", str(tmp_path / "p.toml"), "--json"])

    assert result.exit_code == 0, result.output
    reason = (
        "named like a test fixture (expected results), not the app's state: "
        "add it under [[sources]] if the app reads it"
    )
    assert json.loads(result.stdout)["skipped"] == [
        [str(data / "expected.json"), reason],
        [str(data / "jobs_expected.json"), reason],
    ]
    assert [s.name for s in load_plan(tmp_path / "p.toml").sources] == ["jobs"]
