"""The result of a verification: per table spec, per assertion, and the verdict.

:class:`VerifyResult` is what :func:`ferry.verify.run.verify` returns; ``to_dict`` gives the plain
data that ``--json`` and the report are made of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

PASS, FAIL = "PASS", "FAIL"


@dataclass
class TableCheck:
    """The verification of one table spec (one source feeding one target table)."""

    name: str
    source: str
    expected_rows: int = 0
    target_rows: int = 0
    matched: int = 0
    mismatched: int = 0
    missing: int = 0
    extra: int = 0
    rejected: int = 0
    kept: int = 0
    source_checksum: str = ""
    target_checksum: str = ""
    checksum: str = PASS
    mismatches: list[dict[str, str]] = field(default_factory=list)
    orphans: int = 0
    verdict: str = PASS

    def to_dict(self) -> dict[str, Any]:
        """Plain data, in the report's order."""
        return {
            "name": self.name,
            "source": self.source,
            "expected_rows": self.expected_rows,
            "target_rows": self.target_rows,
            "matched": self.matched,
            "mismatched": self.mismatched,
            "missing": self.missing,
            "extra": self.extra,
            "rejected": self.rejected,
            "kept": self.kept,
            "source_checksum": self.source_checksum,
            "target_checksum": self.target_checksum,
            "checksum": self.checksum,
            "mismatches": [dict(m) for m in self.mismatches],
            "orphans": self.orphans,
            "verdict": self.verdict,
        }


@dataclass
class AssertionCheck:
    """One plan assertion run on the target."""

    name: str
    sql: str
    op: str
    expect: Any
    actual: Any
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the actual value as JSON can hold it)."""
        return {
            "name": self.name,
            "sql": self.sql,
            "op": self.op,
            "expect": self.expect,
            "actual": _plain(self.actual),
            "verdict": self.verdict,
        }


@dataclass
class VerifyResult:
    """The outcome of a verification: PASS only when every table and assertion passes."""

    run_id: str
    plan_name: str
    target: str
    started_at: datetime
    finished_at: datetime
    tables: list[TableCheck] = field(default_factory=list)
    assertions: list[AssertionCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the journaled run whose rejected rows were taken into account (None: no run)
    migration_run_id: str | None = None
    #: that run's HTML report and the backup taken before it, as its journal entry names them
    migration_report: str | None = None
    migration_backup_id: str | None = None
    #: the HTML report, when one was written
    report_path: str | None = None

    @property
    def verdict(self) -> str:
        """PASS or FAIL."""
        parts = [t.verdict for t in self.tables] + [a.verdict for a in self.assertions]
        return PASS if all(p == PASS for p in parts) else FAIL

    @property
    def passed(self) -> bool:
        """True on PASS."""
        return self.verdict == PASS

    def table(self, name: str, source: str | None = None) -> TableCheck:
        """The check of table ``name`` (fed from ``source`` when the table has several)."""
        return next(
            t for t in self.tables if t.name == name and (source is None or t.source == source)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the report."""
        return {
            "verdict": self.verdict,
            "run_id": self.run_id,
            "plan_name": self.plan_name,
            "target": self.target,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "tables": [t.to_dict() for t in self.tables],
            "assertions": [a.to_dict() for a in self.assertions],
            "warnings": list(self.warnings),
            "migration_run_id": self.migration_run_id,
            "migration_report": self.migration_report,
            "migration_backup_id": self.migration_backup_id,
        }


def _plain(value: Any) -> Any:
    """A query result as JSON holds it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


__all__ = ["FAIL", "PASS", "AssertionCheck", "TableCheck", "VerifyResult"]
