"""The run journal: one row per committed run in the target's ``ferry_runs`` table.

The journal row is written inside the run's own transaction, so it exists exactly when the
data it describes does. A failed or cancelled run leaves the target untouched, journal included.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, select
from sqlalchemy import exc as sa_exc

from .transform import json_default

if TYPE_CHECKING:
    from .results import RunResult
    from .targets import Target

JOURNAL_TABLE = "ferry_runs"
REJECTS_TABLE = "ferry_rejects"
#: journaled per table beside the counts: how its rows were loaded, when not merged by key
#: (``append``: a later run refuses to append again, see :mod:`ferry.loadmodes`)
LOAD_MODE = "load_mode"
_metadata = MetaData()
journal = Table(
    JOURNAL_TABLE,
    _metadata,
    Column("run_id", String(32), primary_key=True),
    Column("plan_name", Text, nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("ferry_version", String(32), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("tables", Text, nullable=False),
    Column("warnings", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("backup_id", Text),
    Column("report_path", Text),
)


#: the rejected rows of each run (the first ones; the run's row holds the full count)
rejects = Table(
    REJECTS_TABLE,
    _metadata,
    Column("run_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("table_name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("key_text", Text, nullable=False),
    Column("key_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("row_json", Text, nullable=False),
)


async def ensure_journal(target: Target) -> None:
    """Create ``ferry_runs`` and ``ferry_rejects`` if the target lacks them (inside the run's
    transaction)."""

    def create(sync: Any) -> None:
        journal.create(sync, checkfirst=True)
        rejects.create(sync, checkfirst=True)

    try:
        await target.conn.run_sync(create)
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, "creating the ferry_runs journal") from None


async def write_journal(target: Target, result: RunResult) -> None:
    """Record a run (its per-table counts as JSON)."""
    tables: dict[str, dict[str, Any]] = {t.name: dict(t.counts()) for t in result.tables}
    for table in result.tables:
        if table.fingerprint:  # for re-runs on unchanged data (ferry.rerun)
            tables[table.name]["fingerprint"] = table.fingerprint
        if table.load_mode != "merge":
            tables[table.name][LOAD_MODE] = table.load_mode
    try:
        await target.conn.execute(
            journal.insert().values(
                run_id=result.run_id,
                plan_name=result.plan_name,
                plan_hash=result.plan_hash,
                ferry_version=result.ferry_version,
                mode=result.mode,
                status=result.status,
                started_at=result.started_at,
                finished_at=result.finished_at,
                tables=json.dumps(tables, sort_keys=True),
                warnings=len(result.warnings),
                rejected=result.rejected_total,
                backup_id=result.backup_id,
                report_path=result.report_path,
            )
        )
        if result.rejects:
            await target.conn.execute(
                rejects.insert(),
                [
                    {
                        "run_id": result.run_id,
                        "seq": number,
                        "table_name": reject.table,
                        "kind": reject.kind,
                        "key_text": reject.key,
                        "key_json": json.dumps(reject.key_values, default=json_default),
                        "reason": reject.reason,
                        "row_json": json.dumps(reject.row, default=json_default),
                    }
                    for number, reject in enumerate(result.rejects)
                ],
            )
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, "writing the ferry_runs journal") from None


async def read_journal(target: Target) -> list[dict[str, Any]]:
    """Every journaled run, oldest first (empty when the target has no journal)."""
    tables = await target.reflect()
    if JOURNAL_TABLE not in tables:
        return []
    result = await target.conn.execute(select(journal).order_by(journal.c.started_at))
    rows = []
    for row in result:
        entry = dict(row._mapping)
        entry["tables"] = json.loads(entry["tables"])
        rows.append(entry)
    return rows


async def read_rejects(target: Target, run_id: str) -> list[dict[str, Any]]:
    """The rejected rows journaled for one run, in the order they were met."""
    tables = await target.reflect()
    if REJECTS_TABLE not in tables:
        return []
    result = await target.conn.execute(
        select(rejects).where(rejects.c.run_id == run_id).order_by(rejects.c.seq)
    )
    rows = []
    for row in result:
        entry = dict(row._mapping)
        entry["key_values"] = json.loads(entry.pop("key_json"))
        entry["row"] = json.loads(entry.pop("row_json"))
        rows.append(entry)
    return rows
