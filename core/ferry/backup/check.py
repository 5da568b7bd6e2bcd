"""Re-reading a backup, and refusing a tampered, incomplete or escaping one; finding backups.

:func:`verify_backup` re-reads every file a backup's ``manifest.json`` lists and compares its
size and SHA-256 with the manifest; a folder without a manifest (an interrupted backup), an
entry lacking what a rollback needs, or a stored path that is absolute, climbs out with ``..``
or leaves through a symbolic link is refused. :mod:`ferry.rollback` uses a backup only once
that check has passed. :func:`list_backups` and :func:`find_backup` find a plan's complete
backups (see :mod:`ferry.backup.create` for how one is made).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from ..plan import Plan
from ..safety.inputlimits import MAX_MANIFEST_BYTES, mib, read_up_to
from ..safety.signing import SignatureCheck, check_signature
from .create import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    Backup,
    _reason,
    backup_root,
)
from .faults import BackupError
from .files import file_sha256
from .layout import target_location

_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


@dataclass
class BackupCheck:
    """What :func:`verify_backup` found: ``problems`` is empty for an intact backup."""

    path: Path
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    #: files re-read and matched
    checked: int = 0
    total_bytes: int = 0
    #: the manifest's signature (None when the manifest could not be read)
    signature: SignatureCheck | None = None
    #: accepted but worth saying (an unsigned backup accepted with ``trust_unsigned``)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file is present and matches its size and SHA-256."""
        return not self.problems and self.manifest is not None

    @property
    def id(self) -> str:
        """The backup's id (the folder name when the manifest is unreadable)."""
        if self.manifest is not None and isinstance(self.manifest.get("backup_id"), str):
            return str(self.manifest["backup_id"])
        return self.path.name

    def raise_if_bad(self, action: str) -> None:
        """Raise a BackupError naming the first problem (all of them in ``details``)."""
        if self.ok:
            return
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        first = self.problems[0] if self.problems else "the manifest is not usable"
        raise BackupError(
            f"backup {self.path} is refused for {action}: {first}{more}",
            hint="Nothing was changed. Use another backup (`ferry backups PLAN` lists them); "
            "`ferry backup verify FOLDER` shows every problem.",
            details="\n".join(self.problems),
        )


def read_manifest(folder: Path) -> dict[str, Any] | str:
    """The manifest of a backup folder, or why there is none usable."""
    path = folder / MANIFEST_NAME
    if path.is_symlink():
        return f"{MANIFEST_NAME} is a symbolic link"
    if not path.is_file():
        return (
            f"incomplete: there is no {MANIFEST_NAME} (the backup was interrupted, or this "
            "is not a Ferry backup)"
        )
    try:
        raw = read_up_to(path, MAX_MANIFEST_BYTES)
        if raw is None:
            return f"{MANIFEST_NAME} is larger than {mib(MAX_MANIFEST_BYTES)}, Ferry's limit"
        data = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"{MANIFEST_NAME} cannot be read: {exc}"
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return f"{MANIFEST_NAME} is not a Ferry manifest (no list of items)"
    if data.get("format") != MANIFEST_FORMAT:
        return (
            f"{MANIFEST_NAME} has format {data.get('format')!r}; this Ferry reads {MANIFEST_FORMAT}"
        )
    for key in ("backup_id", "created_at", "target"):
        if key not in data:
            return f"{MANIFEST_NAME} lacks {key!r}"
    return data


def unsafe_entry(root: Path, stored: Any) -> str | None:
    """Why a manifest's stored path would leave the backup folder, or None when it stays in."""
    if not isinstance(stored, str) or not stored:
        return "not a file name"
    if "\\" in stored or "\0" in stored:
        return "holds a backslash or NUL (not a path Ferry writes)"
    if PurePosixPath(stored).is_absolute() or PureWindowsPath(stored).drive:
        return "is an absolute path outside the backup folder"
    if ".." in PurePosixPath(stored).parts:
        return "climbs out of the backup folder (..)"
    path = root / stored
    if path.is_symlink():
        return "is a symbolic link"
    if not path.resolve().is_relative_to(root):
        return "leads outside the backup folder (through a symbolic link)"
    return None


# The keys rollback relies on, per kind of manifest entry.
_NEEDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "source": {"original": str, "stored": str, "size": int, "sha256": str, "method": str},
    "file": {"original": str, "stored": str, "size": int, "sha256": str, "content_sha256": str},
    "table": {
        "schema": str,
        "relname": str,
        "stored": str,
        "size": int,
        "sha256": str,
        "format": str,
        "columns": list,
        "rows": int,
        "checksum": str,
        "sequences": list,
    },
}


def _label(item: dict[str, Any]) -> str:
    return str(item.get("original") or item.get("table") or item.get("stored") or "?")


def _shape_problem(item: dict[str, Any]) -> str | None:
    """What a manifest entry lacks for a rollback, or None."""
    if item["role"] == "source":
        kind = "source"
    elif "table" in item:
        kind = "table"
        if not isinstance(item["table"], str):
            return "has no table name"
    elif isinstance(item.get("original"), str):
        kind = "file"
    else:
        return "names neither a file nor a table"
    if item.get("state") == "absent" and item["role"] == "target":
        return None
    for key, types in _NEEDS[kind].items():
        if not isinstance(item.get(key), types):
            return f"lacks {key!r} or it has the wrong type"
    if kind == "table" and not all(
        isinstance(c, dict) and isinstance(c.get("name"), str) for c in item["columns"]
    ):
        return "has a column without a name"
    return None


def _foreign_target(target: Any, item: dict[str, Any]) -> str | None:
    """Why a target entry names a file other than the backup's own target, or None. Rollback
    writes (or, for an ``absent`` entry, deletes) that file: it must be the target itself."""
    if item["role"] != "target" or "original" not in item:
        return None
    kind = target.get("kind") if isinstance(target, dict) else None
    if kind != "sqlite":
        return f"names a file, but the backup's target is {kind or 'not named'}"
    if item["original"] != target.get("location"):
        return (
            f"is not the backup's target {target.get('location')}: a rollback would write or "
            "remove another file"
        )
    return None


def verify_backup(path: str | Path, *, trust_unsigned: bool = False) -> BackupCheck:
    """Re-read every stored file and compare size and SHA-256 with the manifest.

    Also refused: a folder without a manifest (incomplete), a manifest whose signature does
    not verify under this user's keys (:mod:`ferry.safety.signing`), a manifest entry whose path is
    absolute, climbs out with ``..`` or leaves through a symbolic link, a missing file. An
    unsigned manifest, or one signed with a key this user lacks, is refused too unless
    ``trust_unsigned`` (then accepted with a warning); a signature that does not verify under
    a key this user has is refused always.
    """
    folder = Path(os.path.abspath(path))
    check = BackupCheck(folder)
    if not folder.is_dir():
        check.problems.append(f"{folder} is not a folder")
        return check
    manifest = read_manifest(folder)
    if isinstance(manifest, str):
        check.problems.append(manifest)
        return check
    check.manifest = manifest
    check.signature = check_signature(manifest)
    problem = check.signature.problem(MANIFEST_NAME)
    if problem and trust_unsigned and check.signature.state in ("unsigned", "unknown-key"):
        check.warnings.append(
            f"{check.signature.short(MANIFEST_NAME)} (accepted: --trust-unsigned)"
        )
    elif problem:
        check.problems.append(problem)
    root = folder.resolve()
    for number, item in enumerate(manifest["items"]):
        if not isinstance(item, dict) or item.get("role") not in ("source", "target"):
            check.problems.append(f"manifest item {number} is not a source or target entry")
            continue
        shape = _shape_problem(item) or _foreign_target(manifest["target"], item)
        if shape is not None:
            check.problems.append(f"manifest item {number} ({_label(item)}) {shape}")
            continue
        stored = item.get("stored")
        if stored is None and item.get("state") == "absent":
            continue
        reason = unsafe_entry(root, stored)
        if reason is not None:
            check.problems.append(f"manifest entry {stored!r} {reason}")
            continue
        assert isinstance(stored, str)
        file = root / stored
        if not file.is_file():
            check.problems.append(f"{stored}: missing (the backup is incomplete)")
            continue
        try:
            size, digest = file_sha256(file)
        except OSError as exc:
            check.problems.append(f"{stored}: cannot be read ({_reason(exc)})")
            continue
        if size != item.get("size"):
            check.problems.append(
                f"{stored}: {size:,} bytes, the manifest says {item.get('size')!r} "
                "(the file was changed after the backup)"
            )
        elif digest != item.get("sha256"):
            check.problems.append(
                f"{stored}: SHA-256 differs from the manifest (the file was changed after "
                "the backup)"
            )
        else:
            check.checked += 1
            check.total_bytes += size
    return check


def list_backups(plan: Plan) -> list[Backup]:
    """The plan's complete backups (those with a manifest), newest first."""
    root = backup_root(plan)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.is_symlink() or not _ID_RE.match(folder.name):
            continue
        manifest = read_manifest(folder)
        if isinstance(manifest, dict):
            total = int(manifest.get("total_bytes") or 0)
            found.append(Backup(str(manifest["backup_id"]), folder, manifest, total))
    found.sort(key=lambda b: (b.created_at, b.id), reverse=True)
    return found


def _damaged_after(root: Path, newest: str) -> tuple[Path, str] | None:
    """A backup folder not older than ``newest`` (ids start with their UTC second; within one
    second the order is unknown, so it counts) holding a manifest that cannot be used, with
    the reason. A folder without any manifest is an interrupted backup: no migration ran
    after it, so it is no reason to stop."""
    if not root.is_dir():
        return None
    later = sorted(
        (
            f
            for f in root.iterdir()
            if _ID_RE.match(f.name) and f.name != newest and f.name[:16] >= newest[:16]
        ),
        reverse=True,
    )
    for folder in later:
        manifest = folder / MANIFEST_NAME
        if folder.is_dir() and (manifest.exists() or manifest.is_symlink()):
            reason = read_manifest(folder)
            if isinstance(reason, str):
                return folder, reason
    return None


def _of_target(plan: Plan, manifest: dict[str, Any]) -> bool:
    """True when the backup's manifest names the plan's target."""
    target = manifest.get("target") or {}
    return (target.get("kind"), target.get("location")) == target_location(plan)


def find_backup(plan: Plan, backup_id: str | None = None) -> Path:
    """The folder of backup ``backup_id`` (when None: the newest complete one of the plan's
    target; backups of other targets in the same folder are passed over)."""
    root = backup_root(plan)
    if backup_id is None:
        # The folder may be shared (a reverse plan is written beside its forward plan, with
        # the same `[backup] dir`): the newest backup there may be of another target.
        every = list_backups(plan)
        backups = [b for b in every if _of_target(plan, b.manifest)]
        newest = backups[0].path.name if backups else ""
        damaged = _damaged_after(root, newest)
        if damaged is not None:
            # A newer backup whose manifest was written but no longer reads: falling back to
            # an older one would silently undo more than the last migration.
            folder, reason = damaged
            raise BackupError(
                f"the newest backup {folder} is damaged ({reason}); Ferry does not fall back "
                "to an older backup on its own",
                hint="Name the backup to restore with --backup ID (`ferry backups PLAN` lists "
                "the complete ones), or move the damaged folder away.",
            )
        if not backups and every:
            raise BackupError(
                f"none of the {len(every)} backup(s) in {root} is of this plan's target "
                f"({' '.join(target_location(plan))}): they are of another plan's target",
                hint="Roll back with the plan a backup was made for, or make one of this "
                "target with `ferry backup PLAN`.",
            )
        if not backups:
            raise BackupError(
                f"there is no complete backup in {root}",
                hint="Make one with `ferry backup PLAN` (migrate makes one before writing).",
            )
        return backups[0].path
    if not _ID_RE.match(backup_id):
        raise BackupError(
            f"{backup_id!r} is not a backup id (they look like 20261121T070102Z-3f9a1c)",
            hint="`ferry backups PLAN` lists the plan's backups.",
        )
    folder = root / backup_id
    if not folder.is_dir():
        raise BackupError(
            f"there is no backup {backup_id} in {root}",
            hint="`ferry backups PLAN` lists the plan's backups.",
        )
    return folder
