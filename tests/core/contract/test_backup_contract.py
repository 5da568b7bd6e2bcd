"""Backups, the same for a SQLite and a PostgreSQL target (ferry.backup.create, .check).

Each test runs once per dialect (``target``: tests/core/contract/conftest.py) on the app of
tests/core/backupkit.py: four source files stored first, then the target (the SQLite file; the
PostgreSQL tables ``jobs`` and ``steps``). How each dialect's target is stored is in
test_backup.py and test_backup_pg.py.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from backupkit import JOBS_JSON, backup, flip_byte, load, make_app, pg_plan
from targetkit import Target
from test_backup_pg import SCHEMA, STEPS

from ferry.backup.check import list_backups, verify_backup
from ferry.backup.create import create_backup
from ferry.errors import Cancelled
from ferry.events import CancelToken, Event, StepStarted

#: Files a backup of the app stores: four sources and the SQLite file, or two PG tables.
STORED = {"sqlite": 5, "postgresql": 6}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def app(target: Target) -> Path:
    if target.is_sqlite:
        return make_app(target.folder)
    target.exec(*SCHEMA)
    return pg_plan(target.folder, target.url, extra=STEPS)


def test_the_source_files_are_stored_first_and_the_backup_verifies(
    app: Path, target: Target
) -> None:
    made = backup(load(app), **({} if target.is_sqlite else {"pg_method": "copy"}))

    first = made.manifest["items"][0]
    assert (first["role"], first["original"], first["size"], first["sha256"]) == (
        "source",
        str(target.folder / "jobs.json"),
        len(JOBS_JSON),
        hashlib.sha256(JOBS_JSON.encode()).hexdigest(),
    )
    items = made.manifest["items"]
    files = [i for i in items if "stored" in i]  # not every PostgreSQL entry is a file
    if target.is_sqlite:
        assert files == items
    for item in files:
        stored = made.path / item["stored"]
        assert (item["size"], item["sha256"]) == (stored.stat().st_size, sha256(stored))
    assert made.total_bytes == sum(i["size"] for i in files)
    check = verify_backup(made.path)
    assert (check.ok, check.problems, check.checked, check.id) == (
        True,
        [],
        STORED[target.dialect],
        made.id,
    )


def test_a_flipped_byte_is_found_naming_the_file(app: Path) -> None:
    made = backup(load(app))
    flip_byte(made.path / "sources/000-jobs.json", 5)

    check = verify_backup(made.path)

    assert check.problems == [
        "sources/000-jobs.json: SHA-256 differs from the manifest (the file was changed after "
        "the backup)"
    ]


def test_cancel_in_the_middle_of_a_backup_removes_its_folder(app: Path, target: Target) -> None:
    plan = load(app)
    cancel = CancelToken()
    started: list[str] = []
    backups = target.folder / "ferry-backups"

    def emit(event: Event) -> None:
        if isinstance(event, StepStarted) and event.detail.startswith("source"):
            started.append(event.detail)
            if len(started) == 2:
                assert len(list(backups.iterdir())) == 1
                cancel.cancel()

    with pytest.raises(Cancelled) as caught:
        asyncio.run(create_backup(plan, emit=emit, cancel=cancel))

    assert caught.value.message == (
        "Cancelled: the unfinished backup was removed; nothing was written."
    )
    assert len(started) == 2
    assert not backups.exists()


def test_list_backups_gives_complete_backups_newest_first(app: Path) -> None:
    plan = load(app)
    first = backup(plan)
    second = backup(plan)
    broken = backup(plan)
    (broken.path / "manifest.json").unlink()

    assert [b.id for b in list_backups(plan)] == [second.id, first.id]
