"""``ferry check``: a preflight that opens every source and the target and writes nothing.

It reports, item by item, whether each source can be read, whether the target answers (its
version and the rights Ferry needs), which tables exist or will be created, and whether every
table's mapping is complete (key, required columns), so a migration does not fail half-way
for a reason that was knowable up front.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import FerryError
from .migrate import _check_mapping, _with_key
from .plan import Plan
from .schema import TableInfo
from .sources import open_source
from .targets import Target, open_target, quote
from .targets.sqlite import SqliteTarget
from .transform import RowMapper


@dataclass
class CheckItem:
    """One preflight finding."""

    subject: str
    ok: bool
    detail: str
    hint: str = ""


@dataclass
class CheckReport:
    """Everything ``ferry check`` found."""

    items: list[CheckItem] = field(default_factory=list)
    server: str = ""
    existing_tables: list[str] = field(default_factory=list)
    tables_to_create: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing would stop a migration."""
        return all(item.ok for item in self.items)


async def check_plan(plan: Plan) -> CheckReport:
    """Open every source and the target, inside a transaction that is rolled back."""
    report = CheckReport()
    source_columns: dict[str, dict[str, str]] = {}
    for source_spec in plan.sources:
        spec_name = source_spec.name
        try:
            reader = open_source(source_spec, plan.base_dir)
            try:
                tables = await asyncio.to_thread(reader.describe)
            finally:
                reader.close()
        except FerryError as exc:
            report.items.append(CheckItem(f"source {spec_name}", False, exc.message, exc.hint))
            continue
        for table in tables:
            source_columns[table.name] = dict(table.columns)
        names = ", ".join(t.name for t in tables) or "no tables"
        report.items.append(CheckItem(f"source {spec_name}", True, f"readable ({names})"))

    target = open_target(plan.target, plan.base_dir)
    try:
        await target.open()
    except FerryError as exc:
        report.items.append(CheckItem(f"target {target.describe()}", False, exc.message, exc.hint))
        return report
    try:
        report.server = await _server_version(target)
        report.items.append(CheckItem(f"target {target.describe()}", True, report.server))
        existing = await target.reflect()
        report.existing_tables = sorted(existing)
        report.items.extend(await _privileges(target, plan, existing))
        for spec in plan.tables:
            info = existing.get(spec.name)
            if info is None:
                how = "from schema.sql" if plan.target.schema_sql else "from the source data"
                report.tables_to_create.append(spec.name)
                report.items.append(CheckItem(f"table {spec.name}", True, f"will be created {how}"))
                continue
            try:
                columns = source_columns.get(spec.source, {})
                mapper = RowMapper(_with_key(spec, info), info, columns, datetime.now(UTC))
                _check_mapping(spec, info, mapper)
            except FerryError as exc:
                report.items.append(CheckItem(f"table {spec.name}", False, exc.message, exc.hint))
                continue
            report.items.append(
                CheckItem(
                    f"table {spec.name}",
                    True,
                    f"exists; {len(mapper.columns)} columns mapped, key {', '.join(mapper.key)}",
                )
            )
    finally:
        await target.finish(commit=False)
    return report


async def _server_version(target: Target) -> str:
    if target.dialect_name == "sqlite":
        return "SQLite " + str(
            await target.scalar("SELECT sqlite_version()", "reading the version")
        )
    return "PostgreSQL " + str(await target.scalar("SHOW server_version", "reading the version"))


async def _privileges(
    target: Target, plan: Plan, existing: dict[str, TableInfo]
) -> list[CheckItem]:
    if isinstance(target, SqliteTarget):
        path = target.path
        where = path if path.exists() else path.parent
        ok = os.access(where, os.W_OK)
        return [
            CheckItem(
                "privileges",
                ok,
                f"{where} is {'writable' if ok else 'read-only'}",
                "" if ok else "Ferry needs to write the target file and its folder.",
            )
        ]
    items = []
    can_create = await target.scalar(
        "SELECT has_schema_privilege(current_user, current_schema(), 'CREATE')",
        "checking privileges",
    )
    items.append(
        CheckItem(
            "privileges",
            bool(can_create),
            "may create tables" if can_create else "may not create tables",
            "" if can_create else "GRANT CREATE ON SCHEMA to the user.",
        )
    )
    for spec in plan.tables:
        if spec.name in existing:
            literal = quote(spec.name).replace("'", "''")
            allowed = await target.scalar(
                f"SELECT has_table_privilege('{literal}', 'INSERT') AND "
                f"has_table_privilege('{literal}', 'UPDATE')",
                "checking table privileges",
            )
            if not allowed:
                items.append(
                    CheckItem(
                        f"table {spec.name}",
                        False,
                        "no INSERT/UPDATE right",
                        f"GRANT INSERT, UPDATE ON {spec.name} to the user.",
                    )
                )
    return items
