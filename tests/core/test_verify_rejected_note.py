"""`ferry verify` says PASS and names the rows the last run rejected. Found moving a Prefect
server: 408 rows were rejected (and named by migrate's output only), and verify printed
`PASS … the target matches.`, which a new user read as every row being there. Real files, a
real SQLite target, the real CLI."""

from __future__ import annotations

from pathlib import Path

from draftkit import ferry

PLAN = """name = "app"

[target]
url = "sqlite:///out.db"

[[sources]]
name = "items"
kind = "json"
path = "items.json"

[[tables]]
name = "items"
source = "items"
key = ["id"]

[tables.types]
id = "integer"
n = "integer"
"""


def test_a_pass_names_the_rows_the_last_run_rejected(tmp_path: Path) -> None:
    (tmp_path / "items.json").write_text('[{"id": 1, "n": 5}, {"id": 2, "n": "five"}]')
    (tmp_path / "ferry.toml").write_text(PLAN)
    assert ferry("migrate", tmp_path / "ferry.toml").exit_code == 0

    verified = ferry("verify", tmp_path / "ferry.toml")

    flat = " ".join(verified.output.split())
    assert verified.exit_code == 0, verified.output
    assert "PASS 1 table, 0 assertions against" in flat
    assert "the target matches, but for the 1 source row the last run rejected" in flat


def test_a_rejected_change_to_a_row_is_said_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "items.json").write_text('[{"id": 1, "n": 5}, {"id": 2, "n": 6}]')
    (tmp_path / "ferry.toml").write_text(PLAN)
    assert ferry("migrate", tmp_path / "ferry.toml").exit_code == 0
    (tmp_path / "items.json").write_text('[{"id": 1, "n": 5}, {"id": 2, "n": "six"}]')
    assert ferry("migrate", tmp_path / "ferry.toml").exit_code == 0

    verified = ferry("verify", tmp_path / "ferry.toml")

    flat = " ".join(verified.output.split())
    assert verified.exit_code == 0, verified.output
    assert "not in the target" not in flat
    assert "a changed one was left as it was" in flat
