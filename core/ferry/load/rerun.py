"""Re-runs on unchanged data: a table whose source and target are as the last run left them.

A completed run journals, for each PostgreSQL table it loaded from one SQLite source table
with nothing rejected, repeated, skipped or in conflict, a *fingerprint*: the state of the
source's files (size, modification and change times, inode; the ``-wal`` file too) and the
table's row count with the transaction ids (``xmin``) its rows carry. Any insert, update or
delete since gives a row another ``xmin`` or changes the count; any write to the source file
changes its times. A later run of the same plan that finds both as journaled knows the merge
would count every row unchanged, so it reads nothing of that table and counts it unchanged.
Anything else — another plan, a missing or older journal, a changed file, another database
state — takes the normal path.
"""

from __future__ import annotations

import json
from typing import Any

from ..results import TableResult
from ..shape.identifiers import quote
from ..targets import Target
from .journal import read_journal

#: journaled per table under this key, beside the counts
FINGERPRINT = "fingerprint"


async def completed_migrations(target: Target) -> list[dict[str, Any]]:
    """The journal's completed migrations, oldest first."""
    return [
        r
        for r in await read_journal(target)
        if r.get("status") == "completed" and r.get("mode") == "migrate"
    ]


def loaded_before(runs: list[dict[str, Any]]) -> set[str]:
    """The tables (of table specs) any of the completed migrations ``runs`` loaded."""
    return {name for run in runs for name in run.get("tables") or {}}


def last_fingerprints(
    target: Target, runs: list[dict[str, Any]], plan_hash: str
) -> dict[str, dict[str, Any]]:
    """Fingerprints of the tables of the last of the completed migrations ``runs``, if it ran
    this plan."""
    if not target.capabilities.table_fingerprints:
        return {}
    if not runs or runs[-1].get("plan_hash") != plan_hash:
        return {}
    found = {}
    for name, counts in runs[-1]["tables"].items():
        fingerprint = counts.get(FINGERPRINT) if isinstance(counts, dict) else None
        if isinstance(fingerprint, dict):
            found[name] = fingerprint
    return found


async def table_state(target: Target, table: str) -> tuple[int, list[str]]:
    """The table's row count and the distinct transaction ids of its rows."""
    rows = await target.fetch_dicts(
        f"SELECT xmin::text AS x, count(*) AS n FROM {quote(table)} GROUP BY 1",
        f"reading the row versions of {table}",
    )
    return sum(int(r["n"]) for r in rows), sorted(str(r["x"]) for r in rows)


async def loaded_state(target: Target, table: str, rows: int) -> tuple[int, list[str]]:
    """:func:`table_state` of a table this run filled from empty in one write (a direct
    load): its ``rows`` rows all carry the transaction id of the first, read without a scan.
    Rows of another transaction, if any, make the next run's check fail: the safe way."""
    first = await target.scalar(
        f"SELECT xmin::text FROM {quote(table)} LIMIT 1", f"reading the row versions of {table}"
    )
    return rows, [] if first is None else [str(first)]


async def still_unchanged(
    target: Target, table: str, fingerprint: dict[str, Any], files: list[list[Any]] | None
) -> bool:
    """True when the source files and the target table are as ``fingerprint`` says."""
    if files is None or json.loads(json.dumps(files)) != fingerprint.get("files"):
        return False
    return await rows_as_left(target, table, fingerprint)


async def rows_as_left(target: Target, table: str, state: dict[str, Any]) -> bool:
    """True when ``table`` holds ``state["rows"]`` rows, all of them still carrying one of the
    row versions (PostgreSQL ``xmin``) in ``state["xmins"]``: nobody wrote to it since."""
    xmins = [str(x) for x in state.get("xmins", [])]
    if not all(x.isdigit() for x in xmins):
        return False
    # compared as xid, not as text: no text made per row (a scan 40% faster)
    found = await target.fetch_dicts(
        f"SELECT count(*) AS n, count(*) FILTER (WHERE NOT (xmin = ANY(CAST("
        f"'{{{','.join(xmins)}}}' AS xid[])))) AS other FROM {quote(table)}",
        f"reading the row versions of {table}",
    )
    return bool(found) and count_as_left(int(found[0]["n"]), int(found[0]["other"]), state)


def count_as_left(rows: int, others: int, state: dict[str, Any]) -> bool:
    """:func:`rows_as_left`'s verdict from its counts: ``rows`` rows, ``others`` of them
    carrying a row version ``state`` does not keep."""
    return rows == state.get("rows") and not others


def may_fingerprint(result: TableResult) -> bool:
    """A table whose last run left nothing out: a re-run of unchanged data changes nothing."""
    return not (result.rejected or result.duplicates or result.skipped or result.conflicts)


def skipped_result(result: TableResult, fingerprint: dict[str, Any]) -> None:
    """Count a skipped table as a full re-run would: every row read and unchanged."""
    rows = int(fingerprint["rows"])
    result.rows_read = int(fingerprint.get("read", rows))
    result.unchanged = rows
    result.fingerprint = fingerprint


__all__ = [
    "FINGERPRINT",
    "count_as_left",
    "last_fingerprints",
    "loaded_state",
    "may_fingerprint",
    "skipped_result",
    "still_unchanged",
    "table_state",
]
