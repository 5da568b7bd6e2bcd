"""Where a plan's backups live and what a backup stores: the backup folder, the ids, the
manifest's name and format, the source files a backup copies.

Kept apart from :mod:`ferry.backup.create` so the report (which names a run's backup and
hashes its source files) and the run context can use them without importing the backup's
making, which itself runs through the run context (:mod:`ferry.runcontext`).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..plan import Plan
from ..sources import open_source

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class SourceFile:
    """One file a plan's source reads."""

    source: str
    kind: str
    path: Path


def backup_root(plan: Plan) -> Path:
    """The folder holding the plan's backups (``[backup] dir``, from the plan's folder)."""
    return Path(os.path.abspath(plan.resolve(plan.backup.dir)))


def target_location(plan: Plan) -> tuple[str, str]:
    """The plan's target as a backup's manifest names it: ``("sqlite", absolute path)`` or
    ``("postgresql", host:port/database)``."""
    if plan.target.is_sqlite:
        from ..targets.sqlite import sqlite_path

        return "sqlite", os.path.abspath(sqlite_path(plan.target, plan.base_dir))
    from .pgdump import pg_params

    return "postgresql", pg_params(plan.target, plan.base_dir).where


def new_backup_id(now: datetime | None = None) -> str:
    """``20261121T070102Z-3f9a1c``: the UTC time and 6 random hex digits."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def source_files(plan: Plan) -> list[SourceFile]:
    """Every file the plan's sources read (each once; PostgreSQL sources have none)."""
    seen: set[Path] = set()
    found: list[SourceFile] = []
    for spec in plan.sources:
        if spec.kind in ("postgres", "merge"):  # a merge's inputs are sources of their own
            continue
        reader = open_source(spec, plan.base_dir)
        try:
            paths = reader.files()
        finally:
            reader.close()
        for path in paths:
            absolute = Path(os.path.abspath(path))
            if absolute not in seen:
                seen.add(absolute)
                found.append(SourceFile(spec.name, spec.kind, absolute))
    return found
