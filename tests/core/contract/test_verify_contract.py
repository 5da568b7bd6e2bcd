"""Verification after a real migration, the same on SQLite and PostgreSQL (ferry.verify.run).

Each test runs once per dialect (``target``: tests/core/contract/conftest.py): JSON Lines
written in the test's folder are migrated into the target, then verified. Differences only
one dialect can hold (SQLite's loose storage, PostgreSQL's typed values) and the command's
other exit codes are in test_verify.py and test_verify_postgres.py.
"""

from __future__ import annotations

import json

import pytest
from targetkit import Target
from test_verify import ferry, items_plan, migrated, only

from ferry.verify.run import verify


async def test_a_migrated_target_passes(target: Target) -> None:
    plan = await migrated(items_plan(target.folder, url=target.url))
    result = await verify(plan)
    assert result.verdict == "PASS", result.to_dict()
    table = only(result)
    assert (table.expected_rows, table.target_rows, table.matched) == (3, 3, 3)
    assert (table.mismatched, table.missing, table.extra, table.rejected, table.kept) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert table.source_checksum == table.target_checksum
    assert len(table.source_checksum) == 32 and table.checksum == "PASS"
    assert table.mismatches == [] and table.orphans == 0
    assert result.warnings == []
    assert result.migration_run_id is not None


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        ("UPDATE items SET note = NULL WHERE id = 1", "id=1", "note: source '', target NULL"),
        ("UPDATE items SET qty = 2 WHERE id = 2", "id=2", "qty: source 1, target 2"),
        ("UPDATE items SET done = false WHERE id = 1", "id=1", "done: source true, target false"),
        ("DELETE FROM items WHERE id = 1", "id=1", "missing from the target"),
        ("DELETE FROM items WHERE id = 3", "id=3", "missing from the target"),
    ],
)
async def test_each_real_difference_fails_naming_the_key(
    target: Target, change: str, key: str, problem: str
) -> None:
    plan = await migrated(items_plan(target.folder, url=target.url))
    target.exec(change)
    result = await verify(plan)
    assert result.verdict == "FAIL"
    table = only(result)
    assert table.verdict == "FAIL"
    assert table.mismatched + table.missing == 1
    assert table.mismatches[0]["key"] == key
    assert problem in table.mismatches[0]["problem"]
    if table.mismatched:
        assert table.checksum == "FAIL"
        assert table.source_checksum != table.target_checksum


async def test_rows_only_the_target_holds_are_extra_not_a_failure(target: Target) -> None:
    plan = await migrated(items_plan(target.folder, url=target.url))
    target.exec("INSERT INTO items (id, name) VALUES (99, 'the app''s own')")
    table = only(result := await verify(plan))
    assert result.verdict == "PASS"
    assert (table.extra, table.target_rows, table.expected_rows) == (1, 4, 3)


async def test_a_table_missing_in_the_target_fails(target: Target) -> None:
    plan = await migrated(items_plan(target.folder, url=target.url))
    target.exec("DROP TABLE items")
    result = await verify(plan)
    table = only(result)
    assert result.verdict == table.verdict == table.checksum == "FAIL"
    assert table.mismatches[0] == {"key": "(table)", "problem": "table missing"}
    assert (table.expected_rows, table.target_rows, table.missing) == (3, 0, 3)
    assert any("missing in the target" in w for w in result.warnings)


def test_the_command_exits_7_naming_the_key_of_a_difference(target: Target) -> None:
    items_plan(target.folder, url=target.url)
    plan_file = target.folder / "ferry.toml"
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    passed = ferry("verify", plan_file, "--json")
    assert passed.exit_code == 0, passed.output
    assert json.loads(passed.stdout)["verdict"] == "PASS"
    target.exec("UPDATE items SET qty = 2 WHERE id = 2")
    failed = ferry("verify", plan_file)
    assert failed.exit_code == 7
    assert "id=2" in failed.stdout and "qty: source 1, target 2" in failed.stdout
    failed_json = ferry("verify", plan_file, "--json")
    assert failed_json.exit_code == 7
    assert json.loads(failed_json.stdout)["tables"][0]["mismatches"][0]["key"] == "id=2"
