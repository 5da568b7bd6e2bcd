"""A tampered backup is refused by ``ferry rollback`` with the reason; the target is untouched.

tests/core/test_rollback.py and test_backup.py cover each fault through the Python API (a
flipped byte, a missing file, ``..`` in a manifest entry, a symlink, a missing manifest);
this file adds what they do not: the same faults through the real command (exit code 8, the
reason on one line), an absolute path in the manifest, and a damaged manifest itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from backupkit import backup, dump, flip_byte, load, make_app, manifest, rewrite_manifest
from faultkit import assert_one_line_error, ferry_run


def flip_stored_target(folder: Path) -> str:
    flip_byte(folder / "target/app.db", 2000)
    return "target/app.db: SHA-256 differs from the manifest"


def remove_a_stored_source(folder: Path) -> str:
    (folder / "sources/001-state.db").unlink()
    return "sources/001-state.db: missing (the backup is incomplete)"


def climb_out(folder: Path) -> str:
    data = manifest(folder)
    data["items"][-1]["stored"] = "../../../etc/passwd"
    rewrite_manifest(folder, data)
    return "manifest entry '../../../etc/passwd' climbs out of the backup folder (..)"


def absolute_entry(folder: Path) -> str:
    data = manifest(folder)
    data["items"][0]["stored"] = "/etc/passwd"
    rewrite_manifest(folder, data)
    return "'/etc/passwd' is an absolute path outside the backup folder"


def cut_manifest(folder: Path) -> str:
    text = (folder / "manifest.json").read_bytes()
    (folder / "manifest.json").write_bytes(text[: len(text) // 2])
    return "manifest.json"


FAULTS: dict[str, Callable[[Path], str]] = {
    "flipped-byte": flip_stored_target,
    "missing-file": remove_a_stored_source,
    "path-traversal": climb_out,
    "absolute-path": absolute_entry,
    "truncated-manifest": cut_manifest,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_ferry_rollback_refuses_a_tampered_backup_with_the_reason(
    fault: str, tmp_path: Path
) -> None:
    plan_file = make_app(tmp_path)
    made = backup(load(plan_file))
    reason = FAULTS[fault](made.path)
    before = dump(tmp_path / "app.db")
    sources = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}

    done = ferry_run("rollback", plan_file, "--sources", "--yes", cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 8)
    assert reason in line, line
    assert dump(tmp_path / "app.db") == before
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == sources


@pytest.mark.parametrize("fault", list(FAULTS))
def test_ferry_backup_verify_names_the_fault(fault: str, tmp_path: Path) -> None:
    made = backup(load(make_app(tmp_path)))
    reason = FAULTS[fault](made.path)

    done = ferry_run("backup", "verify", made.path, cwd=tmp_path)

    assert done.returncode == 8
    assert "Traceback" not in done.stderr
    assert reason in " ".join((done.stdout + done.stderr).split())


def test_a_damaged_newest_backup_is_not_silently_replaced_by_an_older_one(
    tmp_path: Path,
) -> None:
    """Falling back to the backup before would undo more than the last migration."""
    plan_file = make_app(tmp_path)
    older = backup(load(plan_file))
    newer = backup(load(plan_file))
    cut_manifest(newer.path)
    before = dump(tmp_path / "app.db")

    done = ferry_run("rollback", plan_file, "--yes", cwd=tmp_path)
    chosen = ferry_run("rollback", plan_file, "--yes", "--backup", older.id, cwd=tmp_path)

    line = assert_one_line_error(done.stderr, done.returncode, 8)
    assert f"the newest backup {newer.path} is damaged (manifest.json cannot be read" in line
    assert "--backup ID" in done.stderr
    assert dump(tmp_path / "app.db") == before
    assert chosen.returncode == 0, chosen.stderr  # named explicitly, the older one is used


def test_an_interrupted_newest_backup_does_not_block_rollback(tmp_path: Path) -> None:
    """No manifest at all: that backup never finished, so no migration ran after it."""
    plan_file = make_app(tmp_path)
    backup(load(plan_file))
    interrupted = backup(load(plan_file))
    (interrupted.path / "manifest.json").unlink()

    done = ferry_run("rollback", plan_file, "--yes", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
