"""Backups taken before the first write: what is stored, how, and the manifest naming it all.

A backup is a folder ``<plan.backup.dir>/<backup_id>/`` holding a copy of every source file and
of the target, plus ``manifest.json`` listing each stored file with its role, where it came
from, its size and SHA-256. SQLite files (sources and the target) are copied through SQLite's
online backup API, so the copy is consistent even while the application writes; a PostgreSQL
target is dumped table by table in one snapshot (see :mod:`ferry.backup.pgdump`).

The manifest is written last and atomically (``.tmp``, fsync, rename): a folder without one is
an interrupted backup and is never taken for a good one. A failed or cancelled backup removes
its folder. Everything is created owner-only (files 0600, folders 0700).
:mod:`ferry.backup.check` re-reads a backup and finds a plan's backups; :mod:`ferry.rollback`
uses a backup only once that check has passed. Where backups live and the source files they
copy are in :mod:`ferry.backup.layout`; the steps go through the run context
(:mod:`ferry.runcontext`).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import re
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import Cancelled, FerryError
from ..events import CancelToken, Emit, ignore_events
from ..plan import Plan
from ..runcontext import RunContext
from ..safety.logfile import log_exception, logged
from ..safety.signing import sign
from .faults import BackupError, source_fault, sqlite_target_fault
from .files import copy_file, file_sha256, fsync_path, private_dir, private_file

# (re-exported: ``from ferry.backup.create import backup_root`` predates the layout module)
from .layout import MANIFEST_FORMAT as MANIFEST_FORMAT
from .layout import MANIFEST_NAME as MANIFEST_NAME
from .layout import SourceFile as SourceFile
from .layout import backup_root as backup_root
from .layout import new_backup_id as new_backup_id
from .layout import source_files as source_files
from .sqlitecopy import sqlite_copy, sqlite_digest

if TYPE_CHECKING:  # psycopg and the dump's modules load for a PostgreSQL target only
    from .pgdump import PgBackupSession

_log = logging.getLogger(__name__)


@dataclass
class Backup:
    """A complete backup: its folder and its manifest."""

    id: str
    path: Path
    manifest: dict[str, Any]
    total_bytes: int

    @property
    def created_at(self) -> str:
        """When the backup was taken (ISO 8601, UTC)."""
        return str(self.manifest.get("created_at", ""))

    @property
    def files(self) -> int:
        """How many files the backup stores (the manifest excluded)."""
        return sum(1 for item in self.manifest.get("items", []) if item.get("stored"))

    @property
    def manifest_sha256(self) -> str:
        """SHA-256 of ``manifest.json`` (it names the hash of every stored file)."""
        return file_sha256(self.path / MANIFEST_NAME)[1]

    def to_dict(self) -> dict[str, Any]:
        """What a run report says about the backup."""
        return {
            "id": self.id,
            "path": str(self.path),
            "manifest_sha256": self.manifest_sha256,
            "total_bytes": self.total_bytes,
            "files": self.files,
        }


# -- paths and files ------------------------------------------------------------------------


def copy_sqlite(source: Path, dest: Path) -> None:
    """:func:`~ferry.backup.sqlitecopy.sqlite_copy` into the new owner-only file ``dest``,
    flushed."""
    os.close(private_file(dest))
    sqlite_copy(source, dest)
    fsync_path(dest)


# -- making a backup ------------------------------------------------------------------------


async def create_backup(
    plan: Plan,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    *,
    pg_method: str = "auto",
) -> Backup:
    """Back up every source file and the target before a migration writes anything.

    ``pg_method`` (PostgreSQL targets): ``auto`` uses ``pg_dump`` when it is on PATH and not
    older than the server, else Ferry's own ``COPY`` dump; ``pg_dump`` or ``copy`` force one.
    Raises BackupError (no space, folder not writable), SourceError / TargetError for a fault
    of the file copied (missing, locked, not a database: :mod:`ferry.backup.faults`), Cancelled;
    either way nothing is left behind.
    """
    root = backup_root(plan)
    _log.info("backup of plan %s into %s started", plan.name, root)
    ctx = RunContext(plan, logged(emit, _log), cancel, "backup")
    try:
        backup = await _create_backup(ctx, root, pg_method)
    except BaseException as exc:
        log_exception(_log, "backup", exc)
        raise
    _log.info("backup %s written to %s: %d byte(s)", backup.id, backup.path, backup.total_bytes)
    return backup


async def _create_backup(ctx: RunContext, root: Path, pg_method: str) -> Backup:
    plan, cancel = ctx.plan, ctx.cancel
    started = ctx.step_started("backup", str(root))
    sources = await asyncio.to_thread(source_files, plan)
    for item in sources:
        if not item.path.is_file():
            # the reader names the fault as a run without a backup would (exit 4)
            fault = await asyncio.to_thread(source_fault, plan, item.source)
            if fault is not None:
                raise fault
            raise BackupError(
                f"cannot back up source {item.source!r}: {item.path} does not exist or is "
                "not a file",
                hint="Fix the source's path in the plan; nothing was written.",
            )
    session: PgBackupSession | None = None
    target_path: Path | None = None
    try:
        estimate = sum(item.path.stat().st_size for item in sources)
        if plan.target.is_sqlite:
            from ..targets.sqlite import sqlite_path

            target_path = Path(os.path.abspath(sqlite_path(plan.target, plan.base_dir)))
            estimate += sum(
                p.stat().st_size for p in (target_path, Path(f"{target_path}-wal")) if p.is_file()
            )
        else:
            from .pgdump import PgBackupSession

            session = await asyncio.to_thread(PgBackupSession.open, plan, pg_method)
            estimate += session.estimate
        check_free_space(root, estimate)
        cancel.raise_if_cancelled()
        created = make_folders(root)
        backup_id, folder = created[-1].name, created[-1]
        try:
            items: list[dict[str, Any]] = []
            for index, source in enumerate(sources):
                cancel.raise_if_cancelled()
                ctx.step_detail("backup", f"source {source.path}")
                items.append(await asyncio.to_thread(_store_source, folder, index, source, plan))
            cancel.raise_if_cancelled()
            if target_path is not None:
                ctx.step_detail("backup", f"target {target_path}")
                items.append(
                    await asyncio.to_thread(_store_sqlite_target, folder, target_path, plan)
                )
                target = {"kind": "sqlite", "location": str(target_path)}
            else:
                assert session is not None
                for index, table in enumerate(session.tables):
                    cancel.raise_if_cancelled()
                    ctx.step_detail("backup", f"table {table.name}")
                    items.append(await asyncio.to_thread(session.dump, folder, index, table))
                items += [{"role": "target", "table": name, "state": "absent"}
                          for name in session.absent]  # fmt: skip
                target = {"kind": "postgresql", **session.describe()}
            cancel.raise_if_cancelled()
            total = sum(int(item.get("size", 0)) for item in items)
            manifest = {
                "format": MANIFEST_FORMAT,
                "ferry_version": __version__,
                "backup_id": backup_id,
                "plan_name": plan.name,
                "plan_hash": plan.digest(),
                "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "target": target,
                "total_bytes": total,
                "items": items,
            }
            # signed with the user's key (kept out of the backup): see ferry.safety.signing
            manifest = await asyncio.to_thread(sign, manifest)
            await asyncio.to_thread(write_manifest, folder, manifest)
        except BaseException:
            for path in reversed(created):
                shutil.rmtree(path, ignore_errors=True)
            raise
    except Cancelled:
        raise Cancelled(
            "Cancelled: the unfinished backup was removed; nothing was written."
        ) from None
    except OSError as exc:
        raise BackupError(
            f"cannot write the backup into {root}: {exc.strerror or exc} ({exc.filename or root})",
            hint="Make [backup] dir a writable folder with room for the copy, or change it.",
        ) from None
    finally:
        if session is not None:
            await asyncio.to_thread(session.close)
    ctx.step_done("backup", started, backup_id)
    return Backup(backup_id, folder, manifest, total)


def check_free_space(root: Path, needed: int) -> None:
    """Raise BackupError when the disk holding ``root`` has less than ``needed`` bytes free."""
    existing = root
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise BackupError(
            f"not enough disk space for the backup in {root}: it needs about {needed:,} bytes, "
            f"only {free:,} bytes are free",
            hint="Free some space or point [backup] dir at a disk with room; nothing was written.",
        )


def make_folders(root: Path) -> list[Path]:
    """Create the backup folder ``root/<new id>`` (and ``root`` when missing), owner-only.

    Returns the folders created, outermost first; the last one is the backup's folder."""
    created: list[Path] = []
    missing = [p for p in [root, *root.parents] if not p.exists()]
    try:
        for path in reversed(missing):
            private_dir(path)
            created.append(path)
        for _attempt in range(5):
            folder = root / new_backup_id()
            try:
                private_dir(folder)
            except FileExistsError:
                continue
            created.append(folder)
            for sub in ("sources", "target"):
                private_dir(folder / sub)
            return created
        raise BackupError(f"cannot find a free backup id in {root}")
    except BaseException:
        for path in reversed(created):
            shutil.rmtree(path, ignore_errors=True)
        raise


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")[:80] or "file"


def _store_source(folder: Path, index: int, source: SourceFile, plan: Plan) -> dict[str, Any]:
    stored = f"sources/{index:03d}-{_safe_name(source.path.name)}"
    dest = folder / stored
    item: dict[str, Any] = {
        "role": "source",
        "source": source.source,
        "kind": source.kind,
        "original": str(source.path),
        "stored": stored,
    }
    try:
        item["mode"] = stat.S_IMODE(source.path.stat().st_mode)
        if source.kind == "sqlite":
            copy_sqlite(source.path, dest)
            item["method"] = "sqlite-backup"
            item["content_sha256"] = sqlite_digest(dest, immutable=True)
        else:
            copy_file(source.path, dest)
            item["method"] = "copy"
    except (OSError, sqlite3.Error) as exc:
        error: FerryError = _store_error(
            f"cannot back up source {source.source!r} file {source.path}",
            folder,
            exc,
            "Check that the file is readable (and, for SQLite, a database); nothing was written.",
        )
        if not _about_destination(exc) and _about_file(exc, source.path):
            # a lock, not a database, unreadable: the source's fault, told as its reader does
            error = source_fault(plan, source.source, exc) or error
        raise error from None
    item["size"], item["sha256"] = file_sha256(dest)
    return item


def _store_sqlite_target(folder: Path, path: Path, plan: Plan) -> dict[str, Any]:
    item: dict[str, Any] = {"role": "target", "original": str(path)}
    if not path.exists():
        item["state"] = "absent"  # rollback removes the file the migration creates
        return item
    stored = f"target/{_safe_name(path.name)}"
    try:
        copy_sqlite(path, folder / stored)
        item["content_sha256"] = sqlite_digest(folder / stored, immutable=True)
    except (OSError, sqlite3.Error) as exc:
        if isinstance(exc, sqlite3.Error) and not _about_destination(exc):
            # a lock, not a database: the target's fault, told as opening it would (exit 5)
            raise sqlite_target_fault(plan, exc) from None
        raise _store_error(
            f"cannot back up the target {path}",
            folder,
            exc,
            "Check that the file is readable; nothing was written.",
        ) from None
    item.update(state="present", stored=stored, method="sqlite-backup")
    item["size"], item["sha256"] = file_sha256(folder / stored)
    return item


def _about_destination(exc: BaseException) -> bool:
    """A full or read-only backup disk: the fault is the backup's, not the copied file's."""
    text = str(exc).lower()
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    return full or "disk is full" in text or "readonly" in text


def _about_file(exc: BaseException, path: Path) -> bool:
    """A SQLite error while copying (the destination is a fresh empty file), or an OSError
    naming the copied file itself."""
    if isinstance(exc, sqlite3.Error):
        return True
    return isinstance(exc, OSError) and exc.filename is not None and Path(exc.filename) == path


def _store_error(what: str, folder: Path, exc: BaseException, hint: str) -> BackupError:
    """A full or read-only backup disk is about the destination, not the file copied: the
    message then names the backup folder and says what to free."""
    if _about_destination(exc):
        return BackupError(
            f"{what} into {folder}: {_reason(exc)}",
            hint="Free space in the backup folder, or set [backup] dir to a writable disk "
            "with room; the unfinished backup was removed.",
        )
    return BackupError(f"{what}: {_reason(exc)}", hint=hint)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` last and atomically: ``.tmp``, fsync, rename, fsync folder."""
    for sub in ("sources", "target"):
        fsync_path(folder / sub)
    tmp = folder / (MANIFEST_NAME + ".tmp")
    with os.fdopen(private_file(tmp), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / MANIFEST_NAME)
    fsync_path(folder)
