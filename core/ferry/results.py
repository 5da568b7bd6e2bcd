"""What a migrate or preview run reports: per-table counts, rejected rows, warnings, DDL."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from . import __version__
from .load.decide import LoadDecision
from .load.diff import RowDiff, RowInsert
from .safety.sourcewatch import SourceChange
from .shape.carried import SchemaObject


@dataclass
class Reject:
    """One row that was not loaded."""

    table: str
    key: str
    reason: str
    row: dict[str, Any]
    #: ``transform`` (a cast or hook refused it; ``row`` is the source row), ``constraint``
    #: (the database refused it; ``row`` holds the mapped values) or ``duplicate``
    kind: str = "transform"
    #: the target key columns' values (for a transform reject: the source fields mapped to them)
    key_values: dict[str, Any] = field(default_factory=dict)


@dataclass
class TableResult:
    """What happened (or would happen, in a preview) to one target table."""

    name: str
    source: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    rejected: int = 0
    duplicates: int = 0
    skipped: int = 0
    deleted: int = 0
    created: bool = False
    seconds: float = 0.0
    #: rows SQLite mapped itself (:mod:`ferry.native.load`); the rest went through Python
    mapped_by_sqlite: int = 0
    #: what a re-run compares to skip the table when nothing changed (:mod:`ferry.load.rerun`)
    fingerprint: dict[str, Any] | None = None
    #: the plan's ``mode`` for the table: ``merge`` (by key), ``append`` or ``replace``
    load_mode: str = "merge"
    #: how the run loaded the rows and why (:mod:`ferry.load.decide`: unchanged, native,
    #: direct, compare-first or staged); None for a result not made by a run
    decision: LoadDecision | None = None

    def counts(self) -> dict[str, int]:
        """The row counts by kind."""
        return {
            "read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "deleted": self.deleted,
        }


@dataclass
class RunResult:
    """The outcome of a migrate or preview run."""

    run_id: str
    plan_name: str
    plan_hash: str
    mode: str
    status: str
    target: str
    started_at: datetime
    finished_at: datetime
    ferry_version: str = __version__
    tables: list[TableResult] = field(default_factory=list)
    ddl: list[str] = field(default_factory=list)
    #: every schema object the run created, translated or did not carry (:mod:`ferry.shape.carried`)
    schema_objects: list[SchemaObject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    rejected_total: int = 0
    backup_id: str | None = None
    report_path: str | None = None
    #: row-level diffs of updates and conflicts (previews asked for them)
    diffs: list[RowDiff] = field(default_factory=list)
    #: per table, the first rows the run inserts (when diffs were asked for, same limit)
    inserts: list[RowInsert] = field(default_factory=list)
    #: rows read per source table when the preview sampled; None for a full run
    sample: int | None = None
    #: what stopped a failed or cancelled run (its report says it; the target is unchanged)
    error: str | None = None
    #: source files that changed while they were read (the application kept writing)
    source_changes: list[SourceChange] = field(default_factory=list)
    #: per merge source: what each input gave and which rows were taken for deletions
    merges: list[dict[str, Any]] = field(default_factory=list)
    #: the first keys, per table, of conflicting rows kept as the target had them
    #: (conflict rule insert or newer): ``{"table", "key"}``
    kept_conflicts: list[dict[str, str]] = field(default_factory=list)

    @property
    def noteworthy(self) -> bool:
        """A row changed, was rejected, or a warning: what a sync cycle writes a report for."""
        changed = any(t.inserted or t.updated or t.deleted for t in self.tables)
        return bool(changed or self.rejected_total or self.warnings)

    @property
    def seconds(self) -> float:
        """Wall time of the run."""
        return (self.finished_at - self.started_at).total_seconds()

    def table(self, name: str) -> TableResult:
        """The result for one target table."""
        return next(t for t in self.tables if t.name == name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` output and reports."""
        from .values.transform import json_default

        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        data["seconds"] = round(self.seconds, 3)
        for table in data["tables"]:
            table["seconds"] = round(table["seconds"], 3)

        def plain(value: Any) -> Any:
            if value is None or isinstance(value, str | int | float | bool | list | dict):
                return value
            return json_default(value)

        for reject in data["rejects"]:
            reject["row"] = {k: plain(v) for k, v in reject["row"].items()}
            reject["key_values"] = {k: plain(v) for k, v in reject["key_values"].items()}
        for insert in data["inserts"]:
            insert["values"] = {k: plain(v) for k, v in insert["values"].items()}
        for diff in data["diffs"]:
            for change in diff["changes"]:
                change["before"], change["after"] = plain(change["before"]), plain(change["after"])
        return data
