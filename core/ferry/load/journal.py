"""The run journal: one row per committed run (``runs``) and its first rejected rows
(``rejects``), kept in the target apart from the app's tables.

On PostgreSQL they live in their own schema, ``ferry`` (``ferry.runs``, ``ferry.rejects``),
created when missing, so the app's schema (and any check of it) never sees them. In a SQLite
file they are ``_ferry_runs`` and ``_ferry_rejects`` (a leading underscore no table Ferry
drafts starts with). Journals of older versions (``ferry_runs`` and ``ferry_rejects`` in the
app's schema) are still read; new runs are written to the new place.

The journal row is written inside the run's own transaction, so it exists exactly when the
data it describes does. A failed or cancelled run leaves the target untouched, journal included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)
from sqlalchemy import exc as sa_exc

from ..errors import TargetError
from ..values.transform import json_default

if TYPE_CHECKING:
    from ..results import RunResult
    from ..targets import Target

#: PostgreSQL: the schema of Ferry's own tables
JOURNAL_SCHEMA = "ferry"
#: journals of Ferry versions before the ``ferry`` schema (in the app's default schema)
LEGACY_TABLES = ("ferry_runs", "ferry_rejects")
#: SQLite: Ferry's own tables, in the target file
SQLITE_TABLES = ("_ferry_runs", "_ferry_rejects")
#: PostgreSQL: Ferry's own tables, in :data:`JOURNAL_SCHEMA`
POSTGRES_TABLES = ("runs", "rejects")
#: journaled per table beside the counts: how its rows were loaded, when not merged by key
#: (``append``: a later run refuses to append again, see :mod:`ferry.load.modes`)
LOAD_MODE = "load_mode"


def _journal_table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
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


def _rejects_table(name: str, metadata: MetaData) -> Table:
    """The rejected rows of each run (the first ones; the run's row holds the full count)."""
    return Table(
        name,
        metadata,
        Column("run_id", String(32), primary_key=True),
        Column("seq", Integer, primary_key=True, autoincrement=False),
        Column("table_name", Text, nullable=False),
        Column("kind", String(16), nullable=False),
        Column("key_text", Text, nullable=False),
        Column("key_json", Text, nullable=False),
        Column("reason", Text, nullable=False),
        Column("row_json", Text, nullable=False),
    )


@dataclass(frozen=True)
class JournalPlace:
    """Where one journal lives: its two tables, and the schema (None: the default one)."""

    runs: Table
    rejects: Table
    schema: str | None

    @property
    def label(self) -> str:
        """How messages name the runs table (``ferry.runs``, ``_ferry_runs``)."""
        return f"{self.schema}.{self.runs.name}" if self.schema else self.runs.name


def _place(names: tuple[str, str], schema: str | None) -> JournalPlace:
    metadata = MetaData(schema=schema)
    return JournalPlace(
        _journal_table(names[0], metadata), _rejects_table(names[1], metadata), schema
    )


CURRENT_POSTGRES = _place(POSTGRES_TABLES, JOURNAL_SCHEMA)
CURRENT_SQLITE = _place(SQLITE_TABLES, None)
LEGACY = _place(LEGACY_TABLES, None)


def journal_place(dialect: str) -> JournalPlace:
    """Where this version writes the journal on a ``dialect`` target."""
    return CURRENT_POSTGRES if dialect == "postgresql" else CURRENT_SQLITE


def journal_tables(dialect: str) -> tuple[str, str]:
    """The runs and rejects tables as SQL names them on a ``dialect`` target
    (``ferry.runs`` and ``ferry.rejects``; ``_ferry_runs`` and ``_ferry_rejects``)."""
    place = journal_place(dialect)
    prefix = f"{place.schema}." if place.schema else ""
    return prefix + place.runs.name, prefix + place.rejects.name


async def _present(target: Target) -> list[JournalPlace]:
    """The journals the target holds, the legacy one first (older runs first)."""

    def look(sync: Any) -> list[JournalPlace]:
        inspector = inspect(sync)
        return [
            place
            for place in (LEGACY, journal_place(target.dialect_name))
            if inspector.has_table(place.runs.name, schema=place.schema)
        ]

    try:
        found: list[JournalPlace] = await target.conn.run_sync(look)
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, "looking for Ferry's run journal") from None
    return found


async def has_journal(target: Target) -> bool:
    """Whether the target holds a run journal (this version's or an older one)."""
    return bool(await _present(target))


async def ensure_journal(target: Target) -> None:
    """Create the journal's tables (and, on PostgreSQL, the ``ferry`` schema) if the target
    lacks them (inside the run's transaction)."""
    place = journal_place(target.dialect_name)

    def create(sync: Any) -> None:
        if place.schema and not inspect(sync).has_schema(place.schema):
            sync.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{place.schema}"'))
        place.runs.create(sync, checkfirst=True)
        place.rejects.create(sync, checkfirst=True)

    try:
        await target.conn.run_sync(create)
    except sa_exc.ProgrammingError as exc:
        if "permission denied" in str(exc.orig).lower():
            raise TargetError(
                f"cannot create Ferry's journal {place.label}: "
                f"{str(exc.orig).strip().splitlines()[0]}",
                hint=f'Ferry keeps its run journal in the schema "{JOURNAL_SCHEMA}". Let the '
                f"role create it (GRANT CREATE ON DATABASE <db> TO <role>), or create it "
                f"once for the role (CREATE SCHEMA {JOURNAL_SCHEMA} AUTHORIZATION <role>). "
                "The target is unchanged.",
            ) from None
        raise target.wrap(exc, f"creating the {place.label} journal") from None
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, f"creating the {place.label} journal") from None


async def write_journal(target: Target, result: RunResult) -> None:
    """Record a run (its per-table counts as JSON)."""
    tables: dict[str, dict[str, Any]] = {t.name: dict(t.counts()) for t in result.tables}
    for table in result.tables:
        if table.fingerprint:  # for re-runs on unchanged data (ferry.load.rerun)
            tables[table.name]["fingerprint"] = table.fingerprint
        if table.load_mode != "merge":
            tables[table.name][LOAD_MODE] = table.load_mode
    place = journal_place(target.dialect_name)
    try:
        await target.conn.execute(
            place.runs.insert().values(
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
                place.rejects.insert(),
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
        raise target.wrap(exc, f"writing the {place.label} journal") from None


async def read_journal(target: Target) -> list[dict[str, Any]]:
    """Every journaled run, oldest first (empty when the target has no journal); an older
    version's journal is read too."""
    rows = []
    for place in await _present(target):
        result = await target.conn.execute(select(place.runs))
        for row in result:
            entry = dict(row._mapping)
            entry["tables"] = json.loads(entry["tables"])
            rows.append(entry)
    rows.sort(key=lambda entry: entry["started_at"])
    return rows


async def read_rejects(target: Target, run_id: str) -> list[dict[str, Any]]:
    """The rejected rows journaled for one run, in the order they were met."""
    rows = []
    for place in await _present(target):
        if not await _has(target, place.rejects):
            continue
        result = await target.conn.execute(
            select(place.rejects)
            .where(place.rejects.c.run_id == run_id)
            .order_by(place.rejects.c.seq)
        )
        for row in result:
            entry = dict(row._mapping)
            entry["key_values"] = json.loads(entry.pop("key_json"))
            entry["row"] = json.loads(entry.pop("row_json"))
            rows.append(entry)
    return rows


async def _has(target: Target, table: Table) -> bool:
    def look(sync: Any) -> bool:
        return bool(inspect(sync).has_table(table.name, schema=table.schema))

    found: bool = await target.conn.run_sync(look)
    return found
