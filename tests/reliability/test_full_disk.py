"""A full disk or a read-only folder under the backup, the SQLite target or the reports.

The small disks are real tmpfs mounts (2 MiB, or few inodes so a write fails half-way even
though the free-space check passed; remounted read-only for the read-only cases). Every case
runs the real ``ferry`` command and checks the one-line error, the exit code, that no backup
is left that could pass as complete, and that the target is byte for byte as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from faultkit import assert_one_line_error, ferry_run, fill, read_only, sqlite_query

pytestmark = pytest.mark.slow

Mount = Callable[[str, str], Path]

PLAN = """name = "disk"

[target]
url = "sqlite:///{target}"

[backup]
dir = "{backups}"

[report]
dir = "{reports}"

[[sources]]
name = "items"
kind = "json"
path = "items.json"

[[tables]]
name = "items"
source = "items"
key = ["id"]
"""


def app(
    folder: Path, rows: int, target: Path | None = None, backups: Path | None = None, **kw: Path
) -> Path:
    """A plan migrating ``rows`` JSON records into a SQLite target holding two rows."""
    folder.mkdir(parents=True, exist_ok=True)
    items = [{"id": i, "name": f"item {i:08d}", "note": "x" * 40} for i in range(rows)]
    (folder / "items.json").write_text(json.dumps(items), encoding="utf-8")
    target = target or folder / "app.db"
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
    conn.executemany("INSERT INTO items VALUES (?, ?, ?)", [(0, "old", ""), (-1, "kept", "")])
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(
        PLAN.format(
            target=target,
            backups=backups or folder / "ferry-backups",
            reports=kw.get("reports", folder / "ferry-reports"),
        ),
        encoding="utf-8",
    )
    return plan


def no_backup_left(plan: Path, backups: Path) -> None:
    """Nothing in the backup folder, and ``ferry backups`` lists nothing."""
    left = [p for p in backups.iterdir() if p.name != ".filler"] if backups.exists() else []
    assert left == []
    listed = ferry_run("backups", plan, cwd=plan.parent)
    assert listed.returncode == 0, listed.stderr
    assert "ferry-backups" not in listed.stdout and str(backups) not in listed.stdout.split(
        "no backups"
    )[0].replace(str(backups), "")


def test_a_backup_larger_than_the_free_space_is_refused_before_writing(
    tmp_path: Path, small_disk: Mount
) -> None:
    backups = small_disk("backups", "size=2m")
    plan = app(tmp_path / "app", 40_000, backups=backups)  # a 3 MB source

    done = ferry_run("backup", plan, cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 8)
    assert f"not enough disk space for the backup in {backups}" in line
    assert list(backups.iterdir()) == []


def test_a_disk_that_fills_half_way_through_the_backup_leaves_nothing(
    tmp_path: Path, small_disk: Mount
) -> None:
    """Room for the bytes but not for the files (few inodes): the free-space check passes and
    the write fails in the middle."""
    backups = small_disk("backups", "size=8m,nr_inodes=5")
    plan = app(tmp_path / "app", 100, backups=backups)
    before = (tmp_path / "app" / "app.db").read_bytes()

    done = ferry_run("migrate", plan, cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 8)
    assert f"into {backups}/" in line and "No space left on device" in line
    assert list(backups.iterdir()) == []
    assert (tmp_path / "app" / "app.db").read_bytes() == before  # the migration never began


def test_a_half_written_backup_folder_never_passes_as_complete(tmp_path: Path) -> None:
    """What a crash in the middle of a backup leaves (the files, no manifest) is not listed,
    not verified and not used by rollback."""
    plan = app(tmp_path / "app", 100)
    assert ferry_run("backup", plan, cwd=tmp_path).returncode == 0
    (folder,) = (tmp_path / "app" / "ferry-backups").iterdir()
    (folder / "manifest.json").unlink()  # the manifest is written last: a crash had none

    listed = ferry_run("backups", plan, cwd=tmp_path)
    verified = ferry_run("backup", "verify", folder, cwd=tmp_path)
    rolled = ferry_run("rollback", plan, "--yes", cwd=tmp_path)

    assert folder.name not in listed.stdout
    assert verified.returncode == 8
    assert "Traceback" not in verified.stderr
    assert "incomplete: there is no manifest.json" in verified.stdout + verified.stderr
    line = assert_one_line_error(rolled.stderr, rolled.returncode, 8)
    assert "no complete backup" in line.lower() or "incomplete" in line.lower(), line


def test_a_read_only_backup_folder_is_refused_and_nothing_is_left(
    tmp_path: Path, small_disk: Mount
) -> None:
    backups = small_disk("backups", "size=8m")
    read_only(backups)
    plan = app(tmp_path / "app", 100, backups=backups)
    before = (tmp_path / "app" / "app.db").read_bytes()

    done = ferry_run("migrate", plan, cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 8)
    assert f"cannot write the backup into {backups}" in line
    assert "Read-only file system" in line
    assert list(backups.iterdir()) == []
    assert (tmp_path / "app" / "app.db").read_bytes() == before


def test_a_sqlite_target_on_a_full_disk_is_left_as_it_was_and_a_rerun_completes(
    tmp_path: Path, small_disk: Mount
) -> None:
    disk = small_disk("target", "size=1m")
    plan = app(tmp_path / "app", 40_000, target=disk / "app.db")
    before = (disk / "app.db").read_bytes()

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert f"target {disk / 'app.db'}: the disk is full" in line
    assert "nothing was written" in line
    assert sqlite_query(disk / "app.db", "PRAGMA integrity_check") == [("ok",)]
    assert (disk / "app.db").read_bytes() == before
    assert not (disk / "app.db-journal").exists()
    # With room again, the same command completes.
    import subprocess

    subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
    again = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sqlite_query(disk / "app.db", "SELECT count(*) FROM items") == [(40_001,)]


def test_a_read_only_target_folder_is_refused_and_the_target_is_unchanged(
    tmp_path: Path, small_disk: Mount
) -> None:
    disk = small_disk("target", "size=8m")
    plan = app(tmp_path / "app", 100, target=disk / "app.db")
    before = (disk / "app.db").read_bytes()
    read_only(disk)

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert f"target {disk / 'app.db'} cannot be written" in line
    assert (disk / "app.db").read_bytes() == before


def test_a_full_report_folder_is_a_warning_the_migration_still_commits(
    tmp_path: Path, small_disk: Mount
) -> None:
    reports = small_disk("reports", "size=1m")
    fill(reports)
    plan = app(tmp_path / "app", 100, reports=reports)

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"the report could not be written to {reports}" in " ".join(done.stderr.split())
    assert sqlite_query(tmp_path / "app" / "app.db", "SELECT count(*) FROM items") == [(101,)]
    assert [p.name for p in reports.iterdir()] == [".filler"]


def test_a_full_temporary_folder_is_named_not_the_target_disk(
    tmp_path: Path, small_disk: Mount
) -> None:
    temp = small_disk("temp", "size=256k")
    plan = app(tmp_path / "app", 40_000)
    target = tmp_path / "app" / "app.db"
    before = target.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "SQLITE_TMPDIR"}
    env["TMPDIR"] = str(temp)

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path, env=env)

    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert f"SQLite's temporary folder {temp} (chosen by TMPDIR) is full" in line
    assert f"beside the target {target}" in line
    assert "the disk is full" not in line
    assert "SQLITE_TMPDIR" in done.stderr  # the hint: where to point it
    assert target.read_bytes() == before
