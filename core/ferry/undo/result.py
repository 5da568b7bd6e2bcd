"""What an undo did (or, previewed, would do), and why one is refused."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..errors import FerryError

#: journal ``mode`` and report kind of an undo; the journal status of an undone run
UNDO = "undo"
UNDONE = "undone"
#: the exit code of a refused undo (10 is the wizard's missing Qt libraries, 11 a refused cutover)
EXIT_UNDO_REFUSED = 12


class UndoRefused(FerryError):
    """The run cannot be undone as asked: the app changed rows it wrote (and
    ``keep_app_changes`` was not given), later runs built on it, or it recorded no changeset.
    The target is unchanged."""

    exit_code = EXIT_UNDO_REFUSED

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        app_changes: list[dict[str, Any]] | None = None,
        later_runs: list[str] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        #: ``{"table", "key", "action"}`` of rows the app changed since the run
        self.app_changes = app_changes or []
        #: later runs that changed rows of this one (undo them first)
        self.later_runs = later_runs or []


@dataclass
class UndoTable:
    """One table's part of an undo."""

    name: str
    #: rows the run inserted, deleted now
    deleted: int = 0
    #: rows the run updated, given their before-images back
    reverted: int = 0
    #: rows the run deleted, put back
    restored: int = 0
    #: rows the app changed since the run, left as they are (``keep_app_changes``)
    kept: int = 0
    #: the run created the table and it held nothing else: dropped
    dropped: bool = False
    #: the proof: fingerprints of the before-images and of the rows now (a SHA-256 each)
    expected_checksum: str = ""
    actual_checksum: str = ""
    #: the run's inserted rows still there (only kept ones may be)
    inserted_left: int = 0
    verdict: str = "PASS"

    def counts(self) -> dict[str, int]:
        """The counts the journal keeps (``inserted`` is rows put back, as ``ferry runs``
        reads it)."""
        return {
            "inserted": self.restored,
            "updated": self.reverted,
            "deleted": self.deleted,
            "unchanged": 0,
            "kept": self.kept,
        }


@dataclass
class UndoResult:
    """The result of :func:`ferry.undo.undo`."""

    run_id: str
    #: the run undone
    undone_run: str
    plan_name: str
    plan_hash: str
    target: str
    #: ``completed`` or ``previewed`` (nothing changed)
    status: str
    started_at: datetime
    finished_at: datetime
    tables: list[UndoTable] = field(default_factory=list)
    #: ``{"table", "key", "action"}`` of rows the app changed since the run, kept
    app_changes: list[dict[str, Any]] = field(default_factory=list)
    #: up to a few keys per table and action (what a preview lists)
    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    report_path: str | None = None
    mode: str = UNDO

    @property
    def verdict(self) -> str:
        """PASS when every table's affected rows equal their before-images."""
        return "PASS" if all(t.verdict == "PASS" for t in self.tables) else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the report and ``--json``."""
        data = asdict(self)
        data["verdict"] = self.verdict
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        data["undone_runs"] = [self.undone_run]
        return data


__all__ = ["EXIT_UNDO_REFUSED", "UNDO", "UNDONE", "UndoRefused", "UndoResult", "UndoTable"]
