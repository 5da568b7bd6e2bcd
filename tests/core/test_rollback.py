"""Rollback to a backup (ferry.rollback) with a SQLite target, source restore and markers.

Each test builds the small app of tests/core/backupkit.py: a JSON file, a SQLite database and
two text files as sources, and an existing SQLite target ``app.db`` holding jobs 1 and 2.

What rollback does the same for a PostgreSQL target is in
tests/core/contract/test_rollback_contract.py, run against both.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from backupkit import (
    JOBS_JSON,
    backup,
    dump,
    ferry,
    flip_byte,
    load,
    make_app,
    manifest,
    rewrite_manifest,
    sqlite_exec,
    sqlite_rows,
)

import ferry.rollback as rollback_module
from ferry.backup.create import BackupError
from ferry.errors import Cancelled, TargetError
from ferry.events import CancelToken
from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.rollback import RollbackResult, mark_migrated, rollback


def roll(plan: Plan, **kwargs: object) -> RollbackResult:
    return asyncio.run(rollback(plan, **kwargs))  # type: ignore[arg-type]


def change_target(db: Path) -> None:
    sqlite_exec(
        db,
        "INSERT INTO jobs VALUES (9, 'new')",
        "UPDATE jobs SET name = 'renamed' WHERE id = 1",
        "DELETE FROM jobs WHERE id = 2",
        "CREATE TABLE extra (x)",
        "INSERT INTO extra VALUES (1)",
    )


# -- the target comes back -------------------------------------------------------------------


def test_rollback_brings_the_sqlite_target_back_after_changes(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    before = dump(tmp_path / "app.db")
    made = backup(plan)
    change_target(tmp_path / "app.db")

    result = roll(plan)

    assert dump(tmp_path / "app.db") == before
    assert result.backup_id == made.id
    assert result.restored == [f"{tmp_path / 'app.db'}: restored from target/app.db"]
    assert result.proof[0].startswith(f"{tmp_path / 'app.db'}: content SHA-256 ")


def test_rollback_removes_a_target_the_migration_created(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "app.db").unlink()
    backup(plan)
    asyncio.run(migrate(plan))
    assert (tmp_path / "app.db").exists()

    result = roll(plan)

    assert not (tmp_path / "app.db").exists()
    assert result.restored == [f"{tmp_path / 'app.db'}: removed (it did not exist at backup time)"]
    assert result.proof == [f"{tmp_path / 'app.db'}: absent, as at backup time"]


def test_rollback_into_a_wal_target_an_open_reader_keeps_reading(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    sqlite_exec(tmp_path / "app.db", "PRAGMA journal_mode=WAL")
    before = sqlite_rows(tmp_path / "app.db", "SELECT * FROM jobs ORDER BY id")
    backup(plan)
    change_target(tmp_path / "app.db")
    reader = sqlite3.connect(tmp_path / "app.db")
    try:
        roll(plan)
        rows = reader.execute("SELECT * FROM jobs ORDER BY id").fetchall()
    finally:
        reader.close()

    assert rows == before == [(1, "old"), (2, "mux")]
    assert sqlite_rows(tmp_path / "app.db", "PRAGMA journal_mode") == [("wal",)]


def test_rollback_replaces_a_target_that_is_no_longer_a_database(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    before = dump(tmp_path / "app.db")
    backup(plan)
    (tmp_path / "app.db").write_bytes(b"garbage" * 1000)

    roll(plan)

    assert dump(tmp_path / "app.db") == before


def test_rollback_uses_the_backup_asked_for(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    first = backup(plan)
    sqlite_exec(tmp_path / "app.db", "DELETE FROM jobs")
    backup(plan)

    result = roll(plan, backup_id=first.id)

    assert result.backup_id == first.id
    assert sqlite_rows(tmp_path / "app.db", "SELECT count(*) FROM jobs") == [(2,)]


def test_rollback_uses_the_newest_backup_by_default(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    backup(plan)
    sqlite_exec(tmp_path / "app.db", "DELETE FROM jobs WHERE id = 1")
    newest = backup(plan)
    sqlite_exec(tmp_path / "app.db", "DELETE FROM jobs")

    result = roll(plan)

    assert result.backup_id == newest.id
    assert sqlite_rows(tmp_path / "app.db", "SELECT id FROM jobs") == [(2,)]


def test_a_restored_source_file_gets_its_original_permissions(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "jobs.json").chmod(0o640)
    backup(plan)
    (tmp_path / "jobs.json").write_text("[]\n", encoding="utf-8")

    roll(plan, restore_sources=True)

    assert (tmp_path / "jobs.json").stat().st_mode & 0o777 == 0o640


# -- markers ---------------------------------------------------------------------------------


def test_mark_migrated_renames_each_source_file(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path, extra="\n[backup]\nrename_migrated = true\n"))

    renamed = mark_migrated(plan)

    assert [(old.name, new.name) for old, new in renamed] == [
        ("jobs.json", "jobs.json.migrated"),
        ("state.db", "state.db.migrated"),
        ("heartbeat_a.txt", "heartbeat_a.txt.migrated"),
        ("heartbeat_b.txt", "heartbeat_b.txt.migrated"),
    ]
    assert not (tmp_path / "jobs.json").exists()
    assert (tmp_path / "jobs.json.migrated").read_text(encoding="utf-8") == JOBS_JSON


def test_mark_migrated_does_nothing_when_the_plan_does_not_ask(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))

    assert mark_migrated(plan) == []
    assert (tmp_path / "jobs.json").exists()


def test_rollback_gives_marked_sources_their_names_back(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path, extra="\n[backup]\nrename_migrated = true\n"))
    backup(plan)
    mark_migrated(plan)

    result = roll(plan)

    assert result.renamed == [
        str(tmp_path / n) for n in ("jobs.json", "state.db", "heartbeat_a.txt", "heartbeat_b.txt")
    ]
    assert (tmp_path / "jobs.json").read_text(encoding="utf-8") == JOBS_JSON
    assert not list(tmp_path.glob("*.migrated"))


def test_a_marked_sqlite_source_takes_its_wal_along_and_back(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path, extra="\n[backup]\nrename_migrated = true\n"))
    backup(plan)
    writer = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO progress VALUES (3, 0.25)")
    mark_migrated(plan)  # the -wal holding row 3 moves with the file
    assert (tmp_path / "state.db.migrated-wal").exists()
    writer.close()

    roll(plan)

    assert sqlite_rows(tmp_path / "state.db", "SELECT id FROM progress ORDER BY id") == [
        (1,),
        (2,),
        (3,),
    ]


# -- refused backups: nothing is touched -----------------------------------------------------


def test_a_tampered_backup_is_refused_naming_the_file_and_nothing_changes(
    tmp_path: Path,
) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")
    flip_byte(made.path / "target/app.db", 2000)

    with pytest.raises(BackupError) as caught:
        roll(plan, restore_sources=True)

    assert caught.value.message == (
        f"backup {made.path} is refused for rollback: target/app.db: SHA-256 differs from "
        "the manifest (the file was changed after the backup)"
    )
    assert dump(tmp_path / "app.db") == changed


def test_a_backup_without_manifest_is_refused_as_incomplete(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    (made.path / "manifest.json").unlink()

    with pytest.raises(BackupError) as caught:
        roll(plan, backup_id=made.id)

    assert caught.value.message == (
        f"backup {made.path} is refused for rollback: incomplete: there is no manifest.json "
        "(the backup was interrupted, or this is not a Ferry backup)"
    )


def test_a_backup_with_a_missing_file_is_refused(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    (made.path / "sources/001-state.db").unlink()

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message.endswith(
        "is refused for rollback: sources/001-state.db: missing (the backup is incomplete)"
    )


def test_a_manifest_entry_pointing_at_etc_passwd_is_refused(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    data = manifest(made.path)
    data["items"][-1]["stored"] = "../../etc/passwd"
    rewrite_manifest(made.path, data)
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message == (
        f"backup {made.path} is refused for rollback: manifest entry '../../etc/passwd' "
        "climbs out of the backup folder (..)"
    )
    assert dump(tmp_path / "app.db") == changed


def test_a_manifest_restoring_a_source_outside_the_plan_is_refused(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    victim = tmp_path / "elsewhere" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("keep me\n", encoding="utf-8")
    data = manifest(made.path)
    data["items"][0]["original"] = str(victim)
    rewrite_manifest(made.path, data)
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")

    with pytest.raises(BackupError) as caught:
        roll(plan, restore_sources=True)

    assert caught.value.message == (
        f"backup {made.id} would restore {victim}, which none of the plan's sources reads"
    )
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert dump(tmp_path / "app.db") == changed


def test_rollback_without_any_backup_says_so(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message == (f"there is no complete backup in {tmp_path / 'ferry-backups'}")


def test_a_backup_id_that_is_a_path_is_refused(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    backup(plan)

    with pytest.raises(BackupError) as caught:
        roll(plan, backup_id="../../elsewhere")

    assert caught.value.message == (
        "'../../elsewhere' is not a backup id (they look like 20261121T070102Z-3f9a1c)"
    )


def test_a_backup_of_another_target_is_refused(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    plan.target.url = "sqlite:///other.db"

    with pytest.raises(BackupError) as caught:
        roll(plan, backup_id=made.id)

    assert caught.value.message.endswith(
        f"was taken of sqlite target {tmp_path / 'app.db'}, but the plan's target is sqlite "
        f"{tmp_path / 'other.db'}"
    )
    assert not (tmp_path / "other.db").exists()


def test_with_only_another_targets_backups_the_newest_is_not_taken(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    backup(plan)
    plan.target.url = "sqlite:///other.db"

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message == (
        f"none of the 1 backup(s) in {tmp_path / 'ferry-backups'} is of this plan's target "
        f"(sqlite {tmp_path / 'other.db'}): they are of another plan's target"
    )
    assert not (tmp_path / "other.db").exists()


def test_the_newest_backup_of_the_plans_own_target_is_restored(tmp_path: Path) -> None:
    """A reverse plan beside its forward plan shares its backup folder: the forward plan's
    rollback passes over the reverse plan's newer backup (of the old file)."""
    plan = load(make_app(tmp_path))
    mine = backup(plan)
    expected = dump(tmp_path / "app.db")
    change_target(tmp_path / "app.db")
    other = plan.model_copy(deep=True)
    other.target.url = "sqlite:///other.db"
    sqlite_exec(tmp_path / "other.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    backup(other)  # newer, of another target, in the same folder

    result = roll(plan)

    assert result.backup_id == mine.id
    assert dump(tmp_path / "app.db") == expected


def test_a_target_locked_by_a_writer_is_reported_and_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load(make_app(tmp_path))
    backup(plan)
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")
    monkeypatch.setattr(rollback_module, "BUSY_TIMEOUT_SECONDS", 0.1)
    writer = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TargetError) as caught:
            roll(plan)
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert caught.value.message == (
        f"cannot restore the target {tmp_path / 'app.db'}: database is locked"
    )
    assert caught.value.hint == "Another program is writing it: stop it and roll back again."
    assert dump(tmp_path / "app.db") == changed


def test_a_cancel_before_the_target_is_touched_changes_nothing(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    backup(plan)
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")
    cancel = CancelToken()
    cancel.cancel()

    with pytest.raises(Cancelled) as caught:
        roll(plan, cancel=cancel)

    assert caught.value.message == "Cancelled: nothing was restored; the target is unchanged."

    assert dump(tmp_path / "app.db") == changed


# -- the command -----------------------------------------------------------------------------


def test_ferry_rollback_yes_restores_and_prints_the_proof(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)
    before = dump(tmp_path / "app.db")
    made = backup(load(plan_file))
    change_target(tmp_path / "app.db")

    result = ferry("rollback", plan_file, "--yes")

    assert result.exit_code == 0, result.output
    assert dump(tmp_path / "app.db") == before
    lines = result.stdout.splitlines()
    assert lines[0] == f"Rolled back {tmp_path / 'app.db'} to backup {made.id}"
    assert lines[1] == f"  restored: {tmp_path / 'app.db'}: restored from target/app.db"
    assert lines[2].startswith(f"  proof: {tmp_path / 'app.db'}: content SHA-256 ")


def test_ferry_rollback_asks_first_and_a_no_changes_nothing(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")

    result = ferry("rollback", plan_file, input="n\n")

    assert result.exit_code == 1
    assert f"with backup {made.id}? Everything written since that backup is lost" in (result.stderr)
    assert dump(tmp_path / "app.db") == changed


def test_ferry_rollback_sources_restores_the_source_files(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)
    backup(load(plan_file))
    (tmp_path / "jobs.json").write_text("[]\n", encoding="utf-8")

    result = ferry("rollback", plan_file, "--sources", "--yes")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "jobs.json").read_text(encoding="utf-8") == JOBS_JSON
    assert (
        f"  restored: {tmp_path / 'jobs.json'}: restored from sources/000-jobs.json (hash checked)"
        in result.stdout.splitlines()
    )


def test_ferry_rollback_to_a_tampered_backup_exits_8_naming_the_file(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    flip_byte(made.path / "sources/000-jobs.json")

    result = ferry("rollback", plan_file, "--backup", made.id, "--yes")

    assert result.exit_code == 8
    assert "sources/000-jobs.json: SHA-256 differs from the manifest" in result.stderr


# -- rollback acts only on the plan's own target ---------------------------------------------


def other_database(folder: Path) -> Path:
    """A SQLite file that is no part of the plan, with its own journal beside it."""
    other = folder / "elsewhere" / "other.db"
    other.parent.mkdir()
    sqlite_exec(other, "CREATE TABLE mine (x)", "INSERT INTO mine VALUES ('keep me')")
    Path(f"{other}-journal").write_bytes(b"")
    return other


def point_target_entry_at(made_path: Path, other: Path) -> int:
    """Edit the manifest's target entry to name ``other``; the entry's number."""
    data = manifest(made_path)
    number = next(n for n, i in enumerate(data["items"]) if i["role"] == "target")
    data["items"][number]["original"] = str(other)
    rewrite_manifest(made_path, data)
    return number


def test_a_manifest_whose_target_entry_names_another_file_is_refused(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    made = backup(plan)
    other = other_database(tmp_path)
    before_other = other.read_bytes()
    number = point_target_entry_at(made.path, other)
    change_target(tmp_path / "app.db")
    changed = dump(tmp_path / "app.db")

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert caught.value.message == (
        f"backup {made.path} is refused for rollback: manifest item {number} ({other}) is not "
        f"the backup's target {tmp_path / 'app.db'}: a rollback would write or remove another "
        "file"
    )
    assert other.read_bytes() == before_other
    assert dump(tmp_path / "app.db") == changed


def test_an_absent_target_entry_naming_another_file_deletes_nothing(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "app.db").unlink()
    made = backup(plan)  # the target is absent: rollback would remove it
    asyncio.run(migrate(plan))
    other = other_database(tmp_path)
    point_target_entry_at(made.path, other)

    with pytest.raises(BackupError) as caught:
        roll(plan)

    assert "a rollback would write or remove another file" in caught.value.message
    assert other.exists() and Path(f"{other}-journal").exists()
    assert sqlite_rows(other, "SELECT x FROM mine") == [("keep me",)]
    assert (tmp_path / "app.db").exists()  # the plan's target is left as the migration made it


def test_ferry_rollback_to_a_backup_naming_another_file_exits_8_and_says_no_rolled_back(
    tmp_path: Path,
) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    other = other_database(tmp_path)
    before_other = other.read_bytes()
    point_target_entry_at(made.path, other)

    result = ferry("rollback", plan_file, "--yes")

    assert result.exit_code == 8
    assert "Rolled back" not in result.stdout
    assert "a rollback would write or remove another file" in result.stderr
    assert other.read_bytes() == before_other


def test_ferry_backup_verify_does_not_call_a_backup_naming_another_file_intact(
    tmp_path: Path,
) -> None:
    made = backup(load(make_app(tmp_path)))
    other = other_database(tmp_path)
    number = point_target_entry_at(made.path, other)

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 8
    assert result.stderr.splitlines()[:2] == [
        f"not intact: {made.path}",
        f"  manifest item {number} ({other}) is not the backup's target {tmp_path / 'app.db'}: "
        "a rollback would write or remove another file",
    ]


def test_ferry_backup_verify_with_the_plan_refuses_a_backup_moved_to_another_target(
    tmp_path: Path,
) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    other = other_database(tmp_path)
    data = manifest(made.path)  # target entry and target location edited together
    data["target"]["location"] = str(other)
    point_target_entry_at(made.path, other)
    data["items"] = manifest(made.path)["items"]
    rewrite_manifest(made.path, data)
    assert ferry("backup", "verify", made.path).exit_code == 0  # consistent in itself

    result = ferry("backup", "verify", made.path, "--plan", plan_file)

    assert result.exit_code == 8
    assert (
        f"  the backup was taken of sqlite target {other}, but the plan's target is sqlite "
        f"{tmp_path / 'app.db'}"
    ) in result.stderr.splitlines()
    assert ferry("rollback", plan_file, "--yes").exit_code == 8
    assert sqlite_rows(other, "SELECT x FROM mine") == [("keep me",)]
