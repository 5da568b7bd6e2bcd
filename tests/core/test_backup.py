"""Backups (ferry.backup.create): what is stored, how, and the check that refuses a damaged backup.

Each test builds the small app of tests/core/backupkit.py: a JSON file, a SQLite database and
two text files as sources, and an existing SQLite target ``app.db``.

What a backup does the same for a PostgreSQL target is in
tests/core/contract/test_backup_contract.py, run against both.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import stat
from collections import namedtuple
from datetime import UTC, datetime
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

import ferry as ferry_package
from ferry.backup.check import list_backups, verify_backup
from ferry.backup.create import BackupError, new_backup_id, sqlite_digest
from ferry.errors import SourceError
from ferry.events import Event, StepStarted


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- what a backup holds ---------------------------------------------------------------------


def test_a_backup_stores_every_source_file_and_the_target(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))

    made = backup(plan)

    stored = [(i["role"], i.get("original"), i.get("stored")) for i in made.manifest["items"]]
    assert stored == [
        ("source", str(tmp_path / "jobs.json"), "sources/000-jobs.json"),
        ("source", str(tmp_path / "state.db"), "sources/001-state.db"),
        ("source", str(tmp_path / "heartbeat_a.txt"), "sources/002-heartbeat_a.txt"),
        ("source", str(tmp_path / "heartbeat_b.txt"), "sources/003-heartbeat_b.txt"),
        ("target", str(tmp_path / "app.db"), "target/app.db"),
    ]
    assert made.files == 5


def test_the_manifest_names_version_plan_hash_time_and_id(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))

    made = backup(plan)

    data = manifest(made.path)
    assert data["ferry_version"] == ferry_package.__version__
    assert data["plan_name"] == "jobs"
    assert data["plan_hash"] == plan.digest()
    assert data["backup_id"] == made.id == made.path.name
    assert datetime.fromisoformat(data["created_at"]).tzinfo is not None
    assert data["target"] == {"kind": "sqlite", "location": str(tmp_path / "app.db")}


def test_backups_go_into_the_plans_backup_dir_under_their_id(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path, extra='\n[backup]\ndir = "safe/keep"\n'))

    made = backup(plan)

    assert made.path == tmp_path / "safe" / "keep" / made.id


def test_a_backup_id_is_the_utc_time_and_six_hex_digits() -> None:
    backup_id = new_backup_id(datetime(2026, 11, 21, 7, 1, 2, tzinfo=UTC))

    assert re.fullmatch(r"20261121T070102Z-[0-9a-f]{6}", backup_id)


def test_files_and_folders_are_owner_only(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))

    made = backup(plan)

    assert mode(tmp_path / "ferry-backups") == 0o700
    assert [mode(made.path), mode(made.path / "sources"), mode(made.path / "target")] == [0o700] * 3
    files = sorted(p for p in made.path.rglob("*") if p.is_file())
    assert len(files) == 6  # five stored files and the manifest
    assert {mode(p) for p in files} == {0o600}


def test_the_manifest_is_written_last(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    seen: list[bool] = []

    def emit(event: Event) -> None:
        if isinstance(event, StepStarted) and event.detail.startswith("target"):
            folders = list((tmp_path / "ferry-backups").iterdir())
            seen.append((folders[0] / "manifest.json").exists())

    made = backup(plan, emit=emit)

    assert seen == [False]
    assert sorted(p.name for p in made.path.iterdir()) == ["manifest.json", "sources", "target"]


def test_a_sqlite_source_is_copied_with_its_committed_wal_rows_and_without_uncommitted_ones(
    tmp_path: Path,
) -> None:
    plan = load(make_app(tmp_path))
    writer = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO progress VALUES (3, 0.25)")  # committed, still in the WAL
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO progress VALUES (4, 0.75)")  # not committed
    try:
        made = backup(plan)
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    copy = made.path / "sources/001-state.db"
    assert sqlite_rows(copy, "SELECT id, pct FROM progress ORDER BY id") == [
        (1, 0.5),
        (2, 1.0),
        (3, 0.25),
    ]
    assert sqlite_rows(copy, "PRAGMA journal_mode") == [("delete",)]
    assert not Path(f"{copy}-wal").exists()


def test_the_sqlite_target_copy_has_the_targets_content(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))

    made = backup(plan)

    item = made.manifest["items"][-1]
    assert (item["method"], item["state"]) == ("sqlite-backup", "present")
    assert dump(made.path / "target/app.db") == dump(tmp_path / "app.db")
    assert item["content_sha256"] == sqlite_digest(tmp_path / "app.db")


def test_a_target_file_that_does_not_exist_yet_is_recorded_as_absent(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "app.db").unlink()

    made = backup(plan)

    assert made.manifest["items"][-1] == {
        "role": "target",
        "original": str(tmp_path / "app.db"),
        "state": "absent",
    }
    assert list((made.path / "target").iterdir()) == []


def test_the_content_digest_ignores_file_layout_but_not_rows(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    sqlite_exec(db, "CREATE TABLE t (x)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)")
    before = sqlite_digest(db)
    sqlite_exec(db, "VACUUM")
    after_vacuum = sqlite_digest(db)
    sqlite_exec(db, "UPDATE t SET x = 3 WHERE x = 2")

    assert after_vacuum == before
    assert sqlite_digest(db) != before


# -- failures leave nothing behind -----------------------------------------------------------


def test_a_backup_dir_below_a_regular_file_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path, extra='\n[backup]\ndir = "blocker/backups"\n'))
    (tmp_path / "blocker").write_text("not a folder", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())

    with pytest.raises(BackupError) as caught:
        backup(plan)

    assert caught.value.message == (
        f"cannot write the backup into {tmp_path / 'blocker' / 'backups'}: Not a directory "
        f"({tmp_path / 'blocker' / 'backups'})"
    )
    assert "writable folder" in caught.value.hint
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_not_enough_free_space_is_refused_naming_both_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "app.db").unlink()
    for name in ("state.db", "heartbeat_a.txt", "heartbeat_b.txt"):
        (tmp_path / name).write_bytes(b"x" * 1000)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(10_000, 9_000, 2_500))

    with pytest.raises(BackupError) as caught:
        backup(plan)

    assert caught.value.message == (
        f"not enough disk space for the backup in {tmp_path / 'ferry-backups'}: it needs "
        f"about {len(JOBS_JSON) + 3000:,} bytes, only 2,500 bytes are free"
    )
    assert not (tmp_path / "ferry-backups").exists()


def test_a_missing_source_file_is_refused_as_its_reader_would(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "jobs.json").unlink()

    with pytest.raises(SourceError) as caught:
        backup(plan)

    assert caught.value.message == f"{tmp_path / 'jobs.json'}: file not found"
    assert not (tmp_path / "ferry-backups").exists()


def test_a_failure_half_way_removes_the_half_written_folder(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    (tmp_path / "state.db").write_text("this is not a database", encoding="utf-8")

    with pytest.raises(SourceError) as caught:
        backup(plan)

    assert caught.value.message == f"{tmp_path / 'state.db'} is not a SQLite database"
    assert not (tmp_path / "ferry-backups").exists()


def test_a_failure_keeps_an_existing_backup_folder_and_its_backups(tmp_path: Path) -> None:
    plan = load(make_app(tmp_path))
    first = backup(plan)
    (tmp_path / "state.db").write_text("this is not a database", encoding="utf-8")

    with pytest.raises(SourceError):
        backup(plan)

    assert [p.name for p in (tmp_path / "ferry-backups").iterdir()] == [first.id]


# -- verify ----------------------------------------------------------------------------------


def test_a_file_of_another_size_is_found_naming_both_sizes(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    with open(made.path / "sources/002-heartbeat_a.txt", "ab") as handle:
        handle.write(b"!")

    check = verify_backup(made.path)

    assert check.problems == [
        "sources/002-heartbeat_a.txt: 22 bytes, the manifest says 21 (the file was changed "
        "after the backup)"
    ]


def test_a_folder_without_manifest_is_incomplete(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    (made.path / "manifest.json").unlink()

    check = verify_backup(made.path)

    assert (check.ok, check.problems) == (
        False,
        [
            "incomplete: there is no manifest.json (the backup was interrupted, or this is "
            "not a Ferry backup)"
        ],
    )


def test_a_missing_stored_file_is_incomplete(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    (made.path / "target/app.db").unlink()

    check = verify_backup(made.path)

    assert check.problems == ["target/app.db: missing (the backup is incomplete)"]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../../etc/passwd", "climbs out of the backup folder (..)"),
        ("sources/../../x", "climbs out of the backup folder (..)"),
        ("/etc/passwd", "is an absolute path outside the backup folder"),
        ("C:/Windows/win.ini", "is an absolute path outside the backup folder"),
        ("sources\\..\\..\\x", "holds a backslash or NUL (not a path Ferry writes)"),
    ],
)
def test_a_manifest_entry_leaving_the_folder_is_refused(
    tmp_path: Path, entry: str, reason: str
) -> None:
    made = backup(load(make_app(tmp_path)))
    data = manifest(made.path)
    data["items"][0]["stored"] = entry
    rewrite_manifest(made.path, data)

    check = verify_backup(made.path)

    assert check.problems == [f"manifest entry {entry!r} {reason}"]


def test_a_manifest_entry_without_its_hash_is_refused(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    data = manifest(made.path)
    del data["items"][0]["sha256"]
    rewrite_manifest(made.path, data)

    check = verify_backup(made.path)

    assert check.problems == [
        f"manifest item 0 ({tmp_path / 'jobs.json'}) lacks 'sha256' or it has the wrong type"
    ]


def test_a_stored_file_replaced_by_a_symlink_is_refused(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    stored = made.path / "sources/000-jobs.json"
    stored.unlink()
    stored.symlink_to(tmp_path / "jobs.json")  # same bytes, but outside the backup

    check = verify_backup(made.path)

    assert check.problems == ["manifest entry 'sources/000-jobs.json' is a symbolic link"]


def test_a_stored_folder_replaced_by_a_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    outside = tmp_path / "elsewhere"
    shutil.copytree(made.path / "sources", outside)
    shutil.rmtree(made.path / "sources")
    (made.path / "sources").symlink_to(outside, target_is_directory=True)

    check = verify_backup(made.path)

    assert check.problems[0] == (
        "manifest entry 'sources/000-jobs.json' leads outside the backup folder (through a "
        "symbolic link)"
    )
    assert len(check.problems) == 4


# -- listing ---------------------------------------------------------------------------------


def test_list_backups_of_a_plan_without_backups_is_empty(tmp_path: Path) -> None:
    assert list_backups(load(make_app(tmp_path))) == []


# -- the commands ----------------------------------------------------------------------------


def test_ferry_backup_prints_id_folder_size_and_files(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)

    result = ferry("backup", plan_file)

    assert result.exit_code == 0, result.output
    made = list_backups(load(plan_file))[0]
    lines = result.stdout.splitlines()
    assert lines[0] == f"Backup {made.id}"
    assert lines[1] == f"folder: {made.path}"
    assert lines[2].startswith("size: ") and lines[2].endswith(f"({made.total_bytes:,} bytes)")
    assert lines[3] == "files:  5"
    assert f"source {tmp_path / 'jobs.json'} -> sources/000-jobs.json (59 B)" in lines[4]


def test_ferry_backup_verify_exits_0_for_an_intact_backup(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"intact: backup {made.id}, 5 files, ")


def test_ferry_backup_verify_exits_8_naming_the_changed_file(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    flip_byte(made.path / "target/app.db", 100)

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 8
    assert result.stderr.splitlines()[:2] == [
        f"not intact: {made.path}",
        "  target/app.db: SHA-256 differs from the manifest (the file was changed after the "
        "backup)",
    ]


def test_ferry_backup_verify_exits_8_for_a_folder_without_manifest(tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    (made.path / "manifest.json").unlink()

    result = ferry("backup", "verify", made.path)

    assert result.exit_code == 8
    assert "incomplete: there is no manifest.json" in result.stderr


def test_ferry_backup_into_a_blocked_folder_exits_8_with_one_line(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path, extra='\n[backup]\ndir = "blocker/backups"\n')
    (tmp_path / "blocker").write_text("", encoding="utf-8")

    result = ferry("backup", plan_file)

    assert result.exit_code == 8
    assert result.stderr.splitlines()[-2] == (
        f"error: cannot write the backup into {tmp_path / 'blocker' / 'backups'}: Not a "
        f"directory ({tmp_path / 'blocker' / 'backups'})"
    )


def test_ferry_backups_lists_the_plans_backups(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)
    first = backup(load(plan_file))
    second = backup(load(plan_file))

    result = ferry("backups", plan_file)

    assert result.exit_code == 0, result.output
    assert result.stdout.index(second.id) < result.stdout.index(first.id)


def test_ferry_backups_says_when_there_are_none(tmp_path: Path) -> None:
    plan_file = make_app(tmp_path)

    result = ferry("backups", plan_file)

    assert result.stdout == f"No backups in {tmp_path / 'ferry-backups'}\n"


def test_the_backup_files_are_not_readable_by_others_even_with_a_loose_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0)
    try:
        made = backup(load(make_app(tmp_path)))
    finally:
        os.umask(old)

    assert mode(made.path / "manifest.json") == 0o600
    assert mode(made.path / "sources/001-state.db") == 0o600
    assert mode(made.path) == 0o700
