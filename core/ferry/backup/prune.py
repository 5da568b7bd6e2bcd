"""Pruning a plan's backups: keep the newest N, delete the older ones (``ferry backups prune``).

Only folders that are provably this plan's backups are ever deleted: a folder directly under
the plan's ``[backup] dir`` named like a backup id (not a symbolic link), whose manifest is
readable, signed under one of this user's keys (:mod:`ferry.safety.signing`) and names this plan's
target. Anything else there is listed as skipped with the reason and left alone; it also does
not count towards the N kept.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import PlanError
from ..plan import Plan
from ..safety.signing import check_signature
from .check import _ID_RE, read_manifest
from .create import backup_root
from .layout import target_location

Action = Literal["keep", "delete", "skip"]


@dataclass
class PruneEntry:
    """One folder under the backup dir and what pruning does with it."""

    id: str
    path: Path
    created_at: str
    size: int
    action: Action
    reason: str = ""


def folder_size(path: Path) -> int:
    """Bytes of the regular files under ``path`` (symbolic links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def prune_plan(plan: Plan, keep: int) -> list[PruneEntry]:
    """What :func:`prune_backups` would do, newest first; nothing is changed."""
    if keep < 0:
        raise PlanError(f"--keep must be 0 or more (got {keep})", hint="Use --keep 3, say.")
    root = backup_root(plan)
    if not root.is_dir():
        return []
    kind, location = target_location(plan)
    mine: list[PruneEntry] = []
    others: list[PruneEntry] = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
        if folder.is_symlink() or not folder.is_dir() or not _ID_RE.match(folder.name):
            continue  # not a backup folder at all: not even listed
        size = folder_size(folder)
        manifest = read_manifest(folder)
        if isinstance(manifest, str):
            others.append(PruneEntry(folder.name, folder, "", size, "skip", manifest))
            continue
        created = str(manifest.get("created_at", ""))
        signature = check_signature(manifest)
        target = manifest.get("target") or {}
        reason = signature.short("the manifest") if not signature.valid else ""
        if not reason and manifest.get("backup_id") != folder.name:
            reason = f"the manifest names backup {manifest.get('backup_id')!r}, not this folder"
        if not reason and (target.get("kind"), target.get("location")) != (kind, location):
            reason = (
                f"a backup of {target.get('kind')} target {target.get('location')}, "
                f"not this plan's {kind} {location}"
            )
        if reason:
            others.append(PruneEntry(folder.name, folder, created, size, "skip", reason))
        else:
            mine.append(PruneEntry(folder.name, folder, created, size, "keep"))
    mine.sort(key=lambda e: (e.created_at, e.id), reverse=True)
    for entry in mine[keep:]:
        entry.action = "delete"
    return mine + others


def prune_backups(plan: Plan, keep: int, *, dry_run: bool = False) -> list[PruneEntry]:
    """Delete all but the newest ``keep`` of the plan's signed backups of its target; with
    ``dry_run`` only say so. Returns every folder considered, newest first."""
    entries = prune_plan(plan, keep)
    if not dry_run:
        for entry in entries:
            if entry.action == "delete":
                shutil.rmtree(entry.path)
    return entries
