"""Rollback: bring the target (and, when asked, the source files) back to a verified backup.

The backup is verified first (every file re-read against the manifest): a changed, incomplete
or escaping backup is refused before anything is touched. A SQLite target is restored through
SQLite's backup API into its path (or removed, when it did not exist at backup time) and its
content digest compared with the backup's; a PostgreSQL target is restored inside one
transaction that commits only once every table's row count and checksum match (see
:mod:`ferry.backup.pgdump`). Source files come back with ``restore_sources``; files renamed to
``<name>.migrated`` after a run (``[backup] rename_migrated``) always get their names back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import itertools
import logging
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backup.check import find_backup, verify_backup
from .backup.create import source_files
from .backup.faults import BackupError
from .backup.files import file_sha256, fsync_path
from .backup.layout import target_location
from .backup.sqlitecopy import BUSY_TIMEOUT_SECONDS, sqlite_backup, sqlite_digest
from .errors import Cancelled, TargetError
from .events import CancelToken, Emit, ignore_events
from .plan import Plan
from .runcontext import RunContext
from .runhistory import before_restore
from .safety.logfile import log_exception, logged
from .sources.readonly import read_only_uri

_log = logging.getLogger(__name__)

MARKER_SUFFIX = ".migrated"
_SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


@dataclass
class RollbackResult:
    """What a rollback did, and the proof that the target matches the backup."""

    backup_id: str
    target: str
    #: one line per thing brought back (file, table, dropped table)
    restored: list[str] = field(default_factory=list)
    #: one line per check that the target now matches the backup
    proof: list[str] = field(default_factory=list)
    #: source files whose content was restored
    sources: list[str] = field(default_factory=list)
    #: ``name.migrated`` files renamed back
    renamed: list[str] = field(default_factory=list)
    #: the rollback's own run (journaled in the target, :mod:`ferry.runhistory`) and report
    run_id: str = ""
    report_path: str | None = None
    #: runs since the backup, kept in the journal as rolled back
    rolled_back_runs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output and reports."""
        return dict(vars(self))


async def rollback(
    plan: Plan,
    backup_id: str | None = None,
    restore_sources: bool = False,
    emit: Emit = ignore_events,
    cancel: CancelToken | None = None,
    *,
    trust_unsigned: bool = False,
) -> RollbackResult:
    """Restore the target from backup ``backup_id`` (the newest complete one when None).

    A backup whose manifest is not signed with one of this user's keys is refused unless
    ``trust_unsigned`` (:func:`~ferry.backup.check.verify_backup`).

    Raises BackupError when the backup is not intact or does not belong to the plan's target
    (nothing touched), TargetError when the target cannot be reached or refuses (nothing
    changed: a PostgreSQL restore is one transaction), TargetBusyError while another Ferry run
    writes to the target (:mod:`ferry.safety.runlock`), Cancelled before the target is changed.
    """
    from .safety.runlock import hold_target_async

    _log.info("rollback of plan %s to backup %s started", plan.name, backup_id or "(newest)")
    ctx = RunContext(plan, logged(emit, _log), cancel, "rollback")
    try:
        async with hold_target_async(plan.target, plan.base_dir, emit=ctx.emit, cancel=cancel):
            done = await _rollback(ctx, backup_id, restore_sources, trust_unsigned)
    except BaseException as exc:
        log_exception(_log, "rollback", exc)
        raise
    _log.info("rollback finished")
    return done


async def _rollback(
    ctx: RunContext,
    backup_id: str | None,
    restore_sources: bool,
    trust_unsigned: bool = False,
) -> RollbackResult:
    plan, cancel = ctx.plan, ctx.cancel
    folder = await asyncio.to_thread(find_backup, plan, backup_id)
    started = ctx.step_started("rollback", f"verifying backup {folder}")
    check = await asyncio.to_thread(verify_backup, folder, trust_unsigned=trust_unsigned)
    check.raise_if_bad("rollback")
    for warning in check.warnings:
        ctx.warn(warning)
    manifest = check.manifest
    assert manifest is not None
    kind, location = target_location(plan)
    recorded = manifest["target"]
    if (recorded.get("kind"), recorded.get("location")) != (kind, location):
        raise BackupError(
            f"backup {check.id} was taken of {recorded.get('kind')} target "
            f"{recorded.get('location')}, but the plan's target is {kind} {location}",
            hint="Roll back with the plan the backup was made for; nothing was changed.",
        )
    sources = [i for i in manifest["items"] if i.get("role") == "source"]
    # The manifest is data: a source may only come back to a place the plan reads from.
    strays = [i["original"] for i in sources if not _plan_reads(plan, str(i["original"]))]
    if strays and restore_sources:
        raise BackupError(
            f"backup {check.id} would restore {strays[0]}, which none of the plan's sources reads",
            hint="Roll back with the plan the backup was made for; nothing was changed.",
        )
    sources = [i for i in sources if i["original"] not in strays]
    targets = [i for i in manifest["items"] if i.get("role") == "target"]
    if kind == "sqlite" and len(targets) != 1:
        raise BackupError(
            f"backup {check.id} does not hold exactly one target file",
            hint="Use another backup; nothing was changed.",
        )
    result = RollbackResult(check.id, location)
    if cancel.cancelled:
        raise Cancelled("Cancelled: nothing was restored; the target is unchanged.")
    history = await before_restore(plan, check.id, manifest, ctx.emit)  # the journal survives
    if kind == "sqlite":
        item = targets[0]
        ctx.step_detail("rollback", f"target {location}")
        # The plan's path, never the manifest's (which verify_backup found equal to it).
        restored, proof = await asyncio.to_thread(
            _restore_sqlite_target, folder, item, Path(location)
        )
        result.restored.append(restored)
        result.proof.append(proof)
    else:
        await _restore_postgres(ctx, folder, manifest, result)
    await history.after_restore(result, ctx.emit)
    # The target is back: sources follow without stopping half-way (a cancel is not honoured).
    result.renamed = await asyncio.to_thread(_restore_names, sources)
    if restore_sources:
        for item in sources:
            ctx.step_detail("rollback", f"source {item['original']}")
            line = await asyncio.to_thread(_restore_source, folder, item)
            result.sources.append(line)
    history.write_report(result, folder, ctx.emit)
    ctx.step_done("rollback", started, check.id)
    return result


async def _restore_postgres(
    ctx: RunContext, folder: Path, manifest: dict[str, Any], result: RollbackResult
) -> None:
    from .backup.pgdump import PgRestore, pg_params

    cancel = ctx.cancel
    params = pg_params(ctx.plan.target, ctx.plan.base_dir)
    ctx.step_detail("rollback", f"target {params.where}")
    lz4 = ctx.plan.target.compression == "lz4"
    restore = await asyncio.to_thread(PgRestore, params, folder, manifest, lz4)
    try:
        steps = await asyncio.to_thread(restore.prepare)
        cancel.raise_if_cancelled()
        await asyncio.to_thread(restore.drop_created, steps)
        triggers = await asyncio.to_thread(restore.clear, steps)
        result.restored.extend(steps.emptied)
        for item in steps.order:
            cancel.raise_if_cancelled()
            ctx.step_detail("rollback", f"table {item['table']}")
            await asyncio.to_thread(restore.load, item)
            result.restored.append(f"table {item['table']}: {item['rows']} rows put back")
        await asyncio.to_thread(restore.finish_tables, steps, triggers)
        result.proof = await asyncio.to_thread(restore.prove, steps)
        cancel.raise_if_cancelled()
        await asyncio.to_thread(restore.commit)
    except Cancelled:
        raise Cancelled("Cancelled: the rollback was undone; the target is unchanged.") from None
    finally:
        await asyncio.to_thread(restore.close)
    for name in steps.drop:
        result.restored.append(f"table {name}: dropped (it did not exist at backup time)")
    for routine in steps.routines:
        result.restored.append(f"function {routine}: dropped (it did not exist at backup time)")
    for table, columns in steps.extra_columns.items():
        for column in columns:
            result.restored.append(f"table {table}: column {column} dropped (added since)")


# -- SQLite and files -----------------------------------------------------------------------


def _companions(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in _SQLITE_COMPANIONS]


def sqlite_restore(stored: Path, dest: Path) -> None:
    """Write the backed-up database ``stored`` into ``dest`` through the backup API.

    The page copy takes the destination's locks, so a program holding the file open sees the
    restored content (and a WAL destination stays WAL). A destination that is not a database
    at all is replaced by a copy of the backup instead.
    """
    src = sqlite3.connect(read_only_uri(stored, immutable=True), uri=True)
    try:
        dst = sqlite3.connect(dest, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            sqlite_backup(src, dst, BUSY_TIMEOUT_SECONDS)
        except sqlite3.DatabaseError as exc:
            if "not a database" not in str(exc):
                raise
            dst.close()
            _replace_file(stored, dest, None)
            for companion in _companions(dest):
                with contextlib.suppress(FileNotFoundError):
                    companion.unlink()
        finally:
            dst.close()
    finally:
        src.close()


def _replace_file(stored: Path, dest: Path, mode: int | None) -> None:
    """Atomically replace ``dest`` with a copy of ``stored`` (same folder temp, rename)."""
    tmp = dest.with_name(f".{dest.name}.ferry-{secrets.token_hex(4)}")
    try:
        with open(stored, "rb") as reader, open(tmp, "xb") as writer:
            while chunk := reader.read(1 << 20):
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    with contextlib.suppress(OSError):
        fsync_path(dest.parent)


def _restore_sqlite_target(folder: Path, item: dict[str, Any], target: Path) -> tuple[str, str]:
    if item.get("state") == "absent":
        try:
            for path in [target, *_companions(target)]:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        except OSError as exc:
            raise TargetError(
                f"cannot remove the target {target}: {exc.strerror}",
                hint="It did not exist at backup time; remove it by hand.",
            ) from None
        return (
            f"{target}: removed (it did not exist at backup time)",
            f"{target}: absent, as at backup time",
        )
    if not target.parent.is_dir():
        raise TargetError(
            f"the folder of the target {target} is gone", hint="Create it and roll back again."
        )
    try:
        sqlite_restore(folder / str(item["stored"]), target)
        digest = sqlite_digest(target)
    except sqlite3.OperationalError as exc:
        busy = "locked" in str(exc) or "busy" in str(exc)
        raise TargetError(
            f"cannot restore the target {target}: {exc}",
            hint="Another program is writing it: stop it and roll back again."
            if busy
            else "Check the file and its folder are writable, then roll back again.",
        ) from None
    except (OSError, sqlite3.Error) as exc:
        raise TargetError(f"cannot restore the target {target}: {exc}") from None
    if digest != item["content_sha256"]:
        raise BackupError(
            f"rollback not proven: the content of {target} (SHA-256 {digest[:16]}...) differs "
            f"from the backup's ({str(item['content_sha256'])[:16]}...)",
            hint="Another program may have written it during the rollback; roll back again.",
        )
    return (
        f"{target}: restored from {item['stored']}",
        f"{target}: content SHA-256 {digest} (as backed up)",
    )


def outside_plan(plan: Plan, manifest: dict[str, Any]) -> list[str]:
    """What a verified backup's manifest names that is not the plan's: another target, a
    source file none of the plan's sources reads (``ferry backup verify --plan``)."""
    kind, location = target_location(plan)
    recorded = manifest.get("target") or {}
    problems = []
    if (recorded.get("kind"), recorded.get("location")) != (kind, location):
        problems.append(
            f"the backup was taken of {recorded.get('kind')} target {recorded.get('location')}, "
            f"but the plan's target is {kind} {location}"
        )
    for item in manifest.get("items", []):
        original = str(item.get("original", ""))
        if item.get("role") == "source" and not _plan_reads(plan, original):
            problems.append(f"source {original} is none of the plan's sources")
    return problems


def _plan_reads(plan: Plan, original: str) -> bool:
    """True when ``original`` is a file one of the plan's file sources reads (or would: a
    file matched by a text source's folder or glob)."""
    path = Path(original)
    for spec in plan.sources:
        if spec.kind == "postgres" or not spec.path:
            continue
        parts = Path(spec.path).parts
        fixed = list(itertools.takewhile(lambda p: not glob.has_magic(p), parts))
        root = Path(os.path.abspath(plan.resolve(os.path.join(*fixed) if fixed else ".")))
        rest = parts[len(fixed) :]
        if path == root or (spec.kind == "text" and not rest and path.parent == root):
            return True  # the file itself, or a file in a text source's folder
        if rest and path.is_relative_to(root):
            names = path.relative_to(root).parts
            if len(names) == len(rest) and all(map(fnmatch.fnmatchcase, names, rest)):
                return True  # matched by the glob
    return False


def _restore_names(items: list[dict[str, Any]]) -> list[str]:
    renamed = []
    for item in items:
        original = Path(str(item["original"]))
        marker = original.with_name(original.name + MARKER_SUFFIX)
        if original.exists() or not marker.exists():
            continue
        _rename(marker, original, item.get("kind") == "sqlite")
        renamed.append(str(original))
    return renamed


def _rename(old: Path, new: Path, with_companions: bool) -> None:
    try:
        os.replace(old, new)
        if with_companions:
            for companion in _SQLITE_COMPANIONS:
                if Path(f"{old}{companion}").exists():
                    os.replace(f"{old}{companion}", f"{new}{companion}")
    except OSError as exc:
        raise BackupError(f"cannot rename {old} to {new}: {exc.strerror}") from None


def _restore_source(folder: Path, item: dict[str, Any]) -> str:
    original = Path(str(item["original"]))
    stored = folder / str(item["stored"])
    try:
        if item.get("method") == "sqlite-backup":
            sqlite_restore(stored, original)
            if sqlite_digest(original) != item.get("content_sha256"):
                raise BackupError(f"source {original} was restored but its content differs")
        else:
            mode = item.get("mode")
            _replace_file(stored, original, int(mode) if isinstance(mode, int) else None)
            if file_sha256(original)[1] != item["sha256"]:
                raise BackupError(f"source {original} was restored but its SHA-256 differs")
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(
            f"cannot restore source file {original}: {exc}",
            hint=f"The target was already rolled back; copy the file by hand from {stored}.",
        ) from None
    return f"{original}: restored from {item['stored']} (hash checked)"


def mark_migrated(plan: Plan) -> list[tuple[Path, Path]]:
    """Rename each source file to ``<name>.migrated`` (``[backup] rename_migrated``).

    Called by the caller after a verified run; returns (old, new) per file renamed. A SQLite
    source's ``-wal``/``-shm``/``-journal`` files are renamed along. Rollback renames back.
    """
    if not plan.backup.rename_migrated:
        return []
    renamed = []
    for source in source_files(plan):
        if not source.path.is_file():
            continue
        new = source.path.with_name(source.path.name + MARKER_SUFFIX)
        _rename(source.path, new, source.kind == "sqlite")
        renamed.append((source.path, new))
    return renamed
