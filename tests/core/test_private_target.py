"""A new SQLite target made from a source file only its owner may read is owner-only too
(Home Assistant's ``.storage/auth``: password hashes and refresh tokens, mode 0600)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli

PLAN = """version = 1
name = "auth"
[target]
url = "sqlite:///out.db"
[[sources]]
name = "tokens"
kind = "json"
path = "auth.json"
[[tables]]
name = "tokens"
source = "tokens"
key = ["id"]
"""


def test_a_target_made_from_an_owner_only_source_is_owner_only(tmp_path: Path) -> None:
    source = tmp_path / "auth.json"
    source.write_text(json.dumps([{"id": "t1", "token": "a" * 64}]), encoding="utf-8")
    source.chmod(0o600)
    (tmp_path / "ferry.toml").write_text(PLAN, encoding="utf-8")

    result = CliRunner().invoke(cli, ["migrate", str(tmp_path / "ferry.toml")])

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "out.db").stat().st_mode) == 0o600
    assert "out.db is created readable by its owner only (mode 0600)" in result.output
