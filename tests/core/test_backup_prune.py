"""Pruning backups (ferry.backup.prune, ``ferry backups prune PLAN --keep N [--dry-run]``).

Real backups of ``backupkit``'s app folder; only folders whose signed manifest names this
plan's target are ever deleted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from backupkit import backup, ferry, load, make_app, manifest, rewrite_manifest

from ferry.backup.create import Backup, backup_root
from ferry.backup.prune import prune_backups
from ferry.plan import Plan


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return load(make_app(tmp_path / "app"))


def three(plan: Plan) -> list[Backup]:
    """Three backups, oldest first."""
    return [backup(plan) for _ in range(3)]


def folders(plan: Plan) -> list[str]:
    return sorted(p.name for p in backup_root(plan).iterdir())


def test_prune_keeps_the_newest_n_and_deletes_the_rest(plan: Plan) -> None:
    made = three(plan)
    entries = prune_backups(plan, 1)
    assert [(e.id, e.action) for e in entries] == [
        (made[2].id, "keep"),
        (made[1].id, "delete"),
        (made[0].id, "delete"),
    ]
    assert folders(plan) == [made[2].id]


def test_a_dry_run_lists_and_deletes_nothing(plan: Plan) -> None:
    made = three(plan)
    result = ferry("backups", "prune", plan.base_dir / "ferry.toml", "--keep", "2", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would delete {made[0].id}" in " ".join(result.output.split())
    assert "Dry run: 1 backups" in result.output
    assert folders(plan) == sorted(b.id for b in made)


def test_a_folder_whose_manifest_does_not_verify_is_skipped_with_the_reason(plan: Plan) -> None:
    made = three(plan)
    data = manifest(made[0].path)
    data["total_bytes"] = 1
    rewrite_manifest(made[0].path, data, resign=False)  # edited after Ferry signed it
    entries = {e.id: e for e in prune_backups(plan, 0)}
    assert entries[made[0].id].action == "skip"
    assert entries[made[0].id].reason == (
        "the manifest was changed after Ferry wrote it (its signature does not verify)"
    )
    assert folders(plan) == [made[0].id]


def test_a_backup_of_another_target_is_never_deleted(plan: Plan) -> None:
    made = three(plan)
    data = manifest(made[1].path)
    data["target"]["location"] = "/srv/other/app.db"
    rewrite_manifest(made[1].path, data)  # signed, but of another target
    entries = {e.id: e for e in prune_backups(plan, 0)}
    assert entries[made[1].id].action == "skip"
    assert entries[made[1].id].reason.startswith("a backup of sqlite target /srv/other/app.db")
    assert folders(plan) == [made[1].id]


def test_other_folders_in_the_backup_dir_are_left_alone(plan: Plan) -> None:
    three(plan)
    (backup_root(plan) / "notes").mkdir()
    (backup_root(plan) / "20990101T000000Z-abcdef").mkdir()  # interrupted: no manifest
    ferry("backups", "prune", plan.base_dir / "ferry.toml", "--keep", "0")
    assert folders(plan) == ["20990101T000000Z-abcdef", "notes"]


def test_the_cli_prunes_and_says_what_it_freed(plan: Plan) -> None:
    made = three(plan)
    result = ferry("backups", "prune", plan.base_dir / "ferry.toml", "--keep", "1")
    assert result.exit_code == 0, result.output
    assert "2 backups deleted" in result.output and "1 kept" in result.output
    assert folders(plan) == [made[2].id]
    listed = ferry("backups", plan.base_dir / "ferry.toml")  # listing still works as before
    assert listed.exit_code == 0 and made[2].id in listed.output
