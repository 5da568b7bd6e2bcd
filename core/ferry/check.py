"""``ferry check``: a preflight that opens every source and the target and writes nothing.

It reports, item by item, whether each source can be read, whether the target answers (its
version and the rights Ferry needs), which tables exist or will be created, and whether every
table's mapping is complete (key, required columns), so a migration does not fail half-way
for a reason that was knowable up front.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .capabilities import TargetCapabilities
from .errors import FerryError, PlanError
from .load.mapping import check_mapping, prepare_schema, row_mapper
from .load.unread import unread_tables, unread_warning
from .plan import Plan
from .runcontext import RunContext
from .scan.keyfinder import KeyFinding, identical_rows
from .shape.asstored import numbers_in_text, widened_objects
from .shape.carried import ONE_FINDING, SchemaObject
from .shape.namefold import case_collisions, is_plain
from .shape.schema import TableInfo
from .shape.sqlitetypes import plan_sqlite_types
from .shape.typecheck import type_warnings
from .sources import SourceReader, SourceTable
from .targets import Target, open_target
from .values.epochs import READINGS_HINT, NumberFinding, find_numbers
from .values.targetstyles import table_styles
from .values.textbytes import check_bytes_mode
from .values.transform import RowMapper


@dataclass
class CheckItem:
    """One preflight finding."""

    subject: str
    ok: bool
    detail: str
    hint: str = ""
    #: a finding that does not stop a migration but changes what it writes (shown as "warn")
    warning: bool = False
    #: the plan's table whose column settings the fix is in, when one is (the wizard offers
    #: its column editor)
    table: str = ""


def _planned_shape(info: TableInfo | None) -> str:
    """What a table created from a file gets from the plan: `` (id numbered by the database,
    user_id references users)``; "" for none."""
    shape = info.shape if info is not None and info.created else None
    if shape is None:
        return ""
    parts = [f"{shape.identity} numbered by the database"] if shape.identity else []
    parts += [f"{', '.join(fk.columns)} references {fk.ref_table}" for fk in shape.foreign_keys]
    return f" ({'; '.join(parts)})" if parts else ""


def not_carried_items(tables: dict[str, TableInfo]) -> list[CheckItem]:
    """A warning for each part of a source table's schema its created table goes without."""
    return [
        CheckItem(
            f"table {name}",
            True,
            f"not carried to the target: {item}",
            "Create it on the target yourself after the migration if the app needs it.",
            warning=True,
        )
        for name, info in tables.items()
        if info.created and info.shape is not None
        for item in info.shape.not_carried
    ]


@dataclass
class CheckReport:
    """Everything ``ferry check`` found."""

    items: list[CheckItem] = field(default_factory=list)
    server: str = ""
    existing_tables: list[str] = field(default_factory=list)
    tables_to_create: list[str] = field(default_factory=list)
    #: what a run creates, translates and leaves out of the schema (:mod:`ferry.shape.carried`)
    objects: list[SchemaObject] = field(default_factory=list)
    #: the statements a run's schema step runs, in order
    ddl: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing would stop a migration."""
        return all(item.ok for item in self.items)


async def check_plan(plan: Plan) -> CheckReport:
    """Open every source and the target, inside a transaction that is rolled back.

    A plan with no tables is a PlanError, as it is for preview and migrate.
    """
    if not plan.tables:
        raise PlanError(
            "the plan has no [[tables]]: there is nothing to check",
            hint="Add tables, or draft a plan with `ferry init DIR`.",
        )
    report = CheckReport()
    # Each source is opened on its own (a preflight reports every one), through the context
    # the other operations share; its clock is the ``now`` the mappers are built with.
    ctx = RunContext(plan, kind="check")
    source_tables: dict[str, SourceTable] = {}
    #: numbers in date/time columns of SQLite source tables (:mod:`ferry.values.epochs`)
    numbers: dict[str, list[NumberFinding]] = {}
    #: numbers in text columns of SQLite source tables (a created text column widens them)
    texts: dict[str, dict[str, str]] = {}
    #: rows identical in every column, in SQLite source tables loaded without a key
    identical: dict[str, str] = {}
    unkeyed = {t.source for t in plan.tables if t.mode != "merge"}
    readable: set[str] = set()
    for source_spec in plan.sources:
        spec_name = source_spec.name
        try:
            with ctx.source(source_spec) as reader:
                tables = await asyncio.to_thread(reader.describe)
                if reader.capabilities.samples_columns:
                    for table in tables:
                        numbers[table.name] = await asyncio.to_thread(find_numbers, reader, table)
                        texts[table.name] = await asyncio.to_thread(numbers_in_text, reader, table)
                        if table.name in unkeyed:
                            identical[table.name] = await asyncio.to_thread(
                                _identical_note, reader, table
                            )
        except FerryError as exc:
            report.items.append(CheckItem(f"source {spec_name}", False, exc.message, exc.hint))
            continue
        readable.add(spec_name)
        for table in tables:
            source_tables[table.name] = table
        names = ", ".join(t.name for t in tables) or "no tables"
        report.items.append(CheckItem(f"source {spec_name}", True, f"readable ({names})"))
        # what reading it left out, as a run would say it (a NeDB line without an _id, …)
        report.items.extend(
            CheckItem(f"source {spec_name}", True, notice, warning=True)
            for notice in reader.notices
        )
        if reader.capabilities.answers_sql:
            report.items.extend(
                CheckItem(f"source {spec_name}", True, unread_warning(name), warning=True)
                for name in unread_tables(plan, tables, {spec_name})
            )

    target = open_target(plan.target, plan.base_dir)
    try:
        await target.open()
    except FerryError as exc:
        report.items.append(CheckItem(f"target {target.describe()}", False, exc.message, exc.hint))
        return report
    try:
        report.server = await target.server_version()
        report.items.append(CheckItem(f"target {target.describe()}", True, report.server))
        existing = await target.reflect()
        plan_sqlite_types(plan, existing)
        report.existing_tables = sorted(existing)
        report.items.extend(await _privileges(target, plan, existing))
        if left := await target.apart_leftovers():
            report.items.append(
                CheckItem(
                    "private tables of a killed run",
                    True,
                    f"{', '.join(left)}: invisible to the app; the next run drops them",
                )
            )
        report.tables_to_create = list(
            dict.fromkeys(t.name for t in plan.tables if t.name not in existing)
        )
        usable = [t for t in plan.tables if t.source in source_tables]
        for spec in plan.tables:
            root = spec.source.split(".", 1)[0]
            if spec.source not in source_tables and root in readable:
                known = ", ".join(sorted(source_tables)) or "none"
                report.items.append(
                    CheckItem(
                        f"table {spec.name}",
                        False,
                        f"reads {spec.source!r}, which the sources do not provide "
                        f"(they provide: {known})",
                        "Fix `source` of that table in the plan.",
                    )
                )
        planned = existing
        schema_failed = False
        if report.tables_to_create and len(usable) == len(plan.tables):
            # Make the missing tables as a run would (schema.sql, then inferred from the
            # sources) inside this rolled-back transaction, so their mappings are checked too.
            try:
                planned, report.ddl = await prepare_schema(
                    plan, target, source_tables, report.objects
                )
                created = {name: info for name, info in planned.items() if info.created}
                report.objects += widened_objects(plan, created, texts)
                report.items.extend(_object_items(report.objects))
            except FerryError as exc:
                report.items.append(
                    CheckItem("schema", False, exc.message, exc.hint, table=exc.table)
                )
                schema_failed = True
            report.items.extend(not_carried_items(planned))
        for spec in usable:
            info = planned.get(spec.name)
            if spec.name not in existing and schema_failed:
                # a run stops at the failed schema step: nothing creates this table
                report.items.append(
                    CheckItem(
                        f"table {spec.name}",
                        False,
                        "missing, and not created: a run stops at the failed schema step",
                        "Fix the schema problem above, then check again.",
                    )
                )
                continue
            if spec.name in existing:
                how = "exists"
            elif info is not None and not info.created:
                how = "will be created from schema.sql"
            else:
                how = "will be created from the source data" + _planned_shape(info)
            if info is None:
                report.items.append(CheckItem(f"table {spec.name}", True, how))
                continue
            try:
                source = source_tables[spec.source]
                mapper = row_mapper(plan, spec, info, source, ctx.started_at)
                check_mapping(spec, info, mapper)
                styles = await table_styles(target, spec, info, mapper.columns)
                check_bytes_mode(
                    spec, info, target.capabilities.text_is_utf8_only, mapper.invalid_text_modes()
                )
            except FerryError as exc:
                report.items.append(CheckItem(f"table {spec.name}", False, exc.message, exc.hint))
                continue
            report.items.extend(_number_items(spec.name, mapper, numbers.get(spec.source, [])))
            report.items.append(
                CheckItem(
                    f"table {spec.name}",
                    True,
                    f"{how}; {len(mapper.columns)} columns mapped, key {', '.join(mapper.key)}",
                )
            )
            typed = type_warnings(spec, info, mapper, source) if spec.name in existing else []
            if spec.name not in existing and info.created:
                typed += name_warnings(plan, target.capabilities, mapper)
            if identical.get(spec.source) and spec.mode != "merge":
                typed.append(identical[spec.source])
            for message in [*typed, *styles.warnings]:
                report.items.append(CheckItem(f"table {spec.name}", True, message, warning=True))
    finally:
        await target.finish(commit=False)
    return report


def _object_items(objects: list[SchemaObject]) -> list[CheckItem]:
    """A finding per view a run creates, per type or collation it changes and per object it
    does not carry (tables have their own findings)."""
    items = []
    merged: dict[tuple[str, str], CheckItem] = {}
    for item in objects:
        if item.kind == "table":
            continue
        if item.kind in ONE_FINDING:  # one finding names every column sharing the reason
            found = merged.get((item.kind, item.detail))
            if found is not None:
                found.subject += f", {item.name}"
                continue
        if item.status == "carried":
            detail = item.detail or "will be created"
        else:
            detail = f"{item.status}: {item.detail}"
        subject = f"{item.kind} {item.name}"
        items.append(CheckItem(subject, True, detail, warning=item.status == "not carried"))
        if item.kind in ONE_FINDING:
            merged[(item.kind, item.detail)] = items[-1]
    return items


def _identical_note(reader: SourceReader, table: SourceTable) -> str:
    """The note on rows of ``table`` identical in every column ("" when none)."""
    origin = table.origin or table.name.split(".", 1)[-1]
    count, examples = identical_rows(reader, origin, list(table.columns))
    return KeyFinding(identical=count, examples=examples).identical_note()


def name_warnings(plan: Plan, caps: TargetCapabilities, mapper: RowMapper) -> list[str]:
    """What a created PostgreSQL table's column names will be, where not the source's folded
    to lower case: fields kept as spelled because they differ only in case, long names
    shortened (:mod:`ferry.shape.namefold`). None on a target that compares names ignoring
    case (SQLite), where names are created as the source spells them."""
    if caps.case_blind_names:
        return []
    limit = caps.max_identifier_bytes
    fed = {c.name: c.spec.from_ for c in mapper.mapped_columns() if c.spec.from_ is not None}
    messages = []
    if plan.target.identifiers == "lower":
        lowered = [(c, f) for c, f in fed.items() if c != f and c == f.lower()]
        if lowered:
            names = ", ".join(f"{f} → {c}" for c, f in lowered[:5])
            more = f" (and {len(lowered) - 5} more)" if len(lowered) > 5 else ""
            messages.append(
                f"fields created in lower case for the app's unquoted SQL: {names}{more}; an "
                'app that quotes its names (an ORM) needs identifiers = "keep"'
            )
        for group in case_collisions([f for f in fed.values() if is_plain(f)]):
            messages.append(
                f"fields {', '.join(group)} differ only in case: their columns keep that "
                "spelling (quoted in SQL)"
            )
    for column, field_name in fed.items():
        if (
            column not in (field_name, field_name.lower())
            and limit
            and len(field_name.encode()) > limit
        ):
            messages.append(f"field {field_name!r} is longer than {limit} bytes: column {column}")
    return messages


def _number_items(spec_name: str, mapper: RowMapper, found: list[NumberFinding]) -> list[CheckItem]:
    """A finding per source date/time column holding numbers that a date/time column of
    ``spec_name`` takes: fine when the plan says how to read them (``integers``), a failure
    when it does not (their rows would be rejected)."""
    items = []
    for finding in found:
        for column in mapper.mapped_columns():
            if column.spec.from_ != finding.column or column.type not in (
                "timestamp",
                "datetime",
                "date",
            ):
                continue
            text, reading = finding.evidence(), column.spec.integers
            subject = f"table {spec_name}"
            if reading is not None:
                items.append(CheckItem(subject, True, f'{text}: read as integers = "{reading}"'))
            else:
                items.append(
                    CheckItem(
                        subject,
                        False,
                        f"{text}: the plan does not say how to read them, so their rows "
                        "would be rejected",
                        READINGS_HINT,
                    )
                )
    return items


async def _privileges(
    target: Target, plan: Plan, existing: dict[str, TableInfo]
) -> list[CheckItem]:
    loaded = [spec.name for spec in plan.tables if spec.name in existing]
    return [
        CheckItem(found.subject, found.ok, found.message, found.hint)
        for found in await target.privileges(loaded)
    ]
