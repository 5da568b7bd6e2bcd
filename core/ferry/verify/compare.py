"""Comparing the two sides of one table spec: counts, checksums, listed problems, verdict.

:func:`compare` classifies the keys the hash store holds (matched, mismatched, missing, extra,
rejected, kept) into the check's :class:`~ferry.verify.result.TableCheck` and describes the
first few problems; :func:`finish_table` adds the foreign-key orphans and sets the verdict.
"""

from __future__ import annotations

import time

from ..events import Emit, TableFinished
from ..values.logical import LogicalType
from .checksum import UNREADABLE, HashStore, Problem, checksum_hex, decode_key
from .read import SpecCheck
from .result import FAIL, PASS

#: keys listed per table (failures first, then orphans, then rows explained by the journal)
MAX_LISTED = 10
TABLE_MISSING = {"key": "(table)", "problem": "table missing"}
_SHOWN_CHARS = 60


def compare(
    check: SpecCheck, checks: list[SpecCheck], store: HashStore, run_id: str | None
) -> list[str]:
    """Classify the keys of one check and fill its result (in a worker thread: the
    warnings are returned, to be emitted from the event loop)."""
    warnings = []
    later = [
        c.number
        for c in checks
        if c.number > check.number
        and c.spec.name == check.spec.name
        and c.mapper.key == check.mapper.key
        and c.exists
    ]
    found = store.compare(
        check.number,
        check.spec.conflict,
        later,
        MAX_LISTED,
        newer=bool(check.spec.newer_by),
    )
    result, counts = check.result, found.counts
    result.expected_rows = found.expected_rows
    result.target_rows = found.target_rows
    result.matched = counts["matched"]
    result.mismatched = counts["mismatched"]
    result.missing = counts["missing"]
    result.extra = found.extra
    result.rejected = counts["rejected"] + check.transform_rejected
    result.kept = counts["kept"] + counts["superseded"]
    result.source_checksum = checksum_hex(found.source_checksum)
    result.target_checksum = checksum_hex(found.target_checksum)
    result.checksum = PASS if found.source_checksum == found.target_checksum else FAIL
    result.mismatches = [_problem(check, p, run_id) for p in found.problems]
    if not check.exists:
        result.checksum = FAIL
        result.mismatches.insert(0, dict(TABLE_MISSING))
        del result.mismatches[MAX_LISTED:]
    if counts["superseded"]:
        warnings.append(
            f"{check.label}: {counts['superseded']} rows hold the values of a later "
            f"source of table {check.spec.name} (counted as kept)",
        )
    if check.skipped:
        warnings.append(
            f"{check.label}: {check.skipped} source rows skipped by the plan "
            "(skip_when_null or hook) are not expected in the target",
        )
    if found.duplicate_target_keys:
        warnings.append(
            f"table {check.spec.name}: {found.duplicate_target_keys} target rows repeat "
            f"the key of another row ({', '.join(check.mapper.key)})",
        )
    return warnings


def _problem(check: SpecCheck, problem: Problem, run_id: str | None) -> dict[str, str]:
    key = _show_key(check, problem.key)
    if problem.status == "missing":
        return {"key": key, "problem": "missing from the target"}
    if problem.status == "rejected":
        what = "not in the target" if problem.target is None else "left unchanged"
        return {
            "key": key,
            "problem": f"{what}: rejected by run {run_id} ({problem.reason}); not a failure",
        }
    target = problem.target or {}
    differing = [
        c for c in check.compared if problem.source.get(c) != target.get(c)
    ] or check.compared
    parts = [
        f"{c}: source {_show(problem.source.get(c), check.type_of(c))}, "
        f"target {_show(target.get(c), check.type_of(c))}"
        for c in differing[:3]
    ]
    if len(differing) > 3:
        parts.append(f"and {len(differing) - 3} more columns")
    return {"key": key, "problem": "differs: " + "; ".join(parts)}


def finish_table(
    check: SpecCheck, orphans: int, examples: list[dict[str, str]], emit: Emit
) -> None:
    """Set the table's orphans and verdict, and report it finished."""
    result = check.result
    result.orphans = orphans
    if examples:
        failing = [m for m in result.mismatches if "not a failure" not in m["problem"]]
        rest = [m for m in result.mismatches if "not a failure" in m["problem"]]
        result.mismatches = (failing + examples + rest)[:MAX_LISTED]
    failed = (
        not check.exists
        or result.mismatched
        or result.missing
        or result.orphans
        or result.checksum != PASS
    )
    result.verdict = FAIL if failed else PASS
    counts = {
        "expected": result.expected_rows,
        "target": result.target_rows,
        "matched": result.matched,
        "mismatched": result.mismatched,
        "missing": result.missing,
        "extra": result.extra,
        "rejected": result.rejected,
        "kept": result.kept,
        "orphans": result.orphans,
    }
    emit(TableFinished(check.label, counts, time.perf_counter() - check.started))


def _show(value: str | None, type_: LogicalType) -> str:
    if value is None:
        return "NULL"
    if type_ in ("integer", "float", "decimal", "boolean", "any") and not value.startswith(
        UNREADABLE
    ):
        return value
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 4] + "...'"


def _show_key(check: SpecCheck, key: bytes) -> str:
    values = decode_key(key)
    return ", ".join(
        f"{k}={_show(v, check.type_of(k))}" for k, v in zip(check.mapper.key, values, strict=False)
    )


__all__ = ["MAX_LISTED", "TABLE_MISSING", "compare", "finish_table"]
