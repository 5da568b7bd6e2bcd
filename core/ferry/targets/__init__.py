"""Target databases: SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from ..plan import TargetSpec
from ..shape.identifiers import quote
from .base import MergeCounts, Stage, Target


def open_target(spec: TargetSpec, base_dir: Path) -> Target:
    """The target object for a plan's ``[target]`` (not yet connected: call ``open()``)."""
    if spec.is_sqlite:
        from .sqlite import SqliteTarget

        return SqliteTarget(spec, base_dir)
    from .postgres import PostgresTarget

    return PostgresTarget(spec, base_dir)


__all__ = ["MergeCounts", "Stage", "Target", "open_target", "quote"]
