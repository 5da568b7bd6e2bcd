"""``ferry init``: look at a folder of legacy state and draft a plan a person can edit.

Every file Ferry can read becomes a source (JSON documents with several collections become
one source per collection), each source table is read once for exact columns, types and row
counts, and each becomes a target table. Where the target already has tables (or a
``schema.sql`` is given) sources are matched to tables and fields to columns by name, and
what could not be matched is written into the table's ``notes`` for the reviewer.
Which files are sources is decided in :mod:`ferry.scan.sourcefiles`; each table's entry is
drafted in :mod:`ferry.scan.tabledraft`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Cancelled, FerryError, SourceError
from ..events import CancelToken
from ..plan import DEFAULT_TARGET_URL, Plan, TargetSpec
from ..shape.airflowlike import airflow_instants
from ..shape.asstored import stored_choices
from ..shape.djangotypes import ask_about_django_types, django_choices, django_pg_columns
from ..shape.rejectedkinds import with_rejected
from ..shape.schema import TableInfo, is_ferry_table
from ..shape.typefindings import TypeFinding, replaced_choices
from ..shape.typemap import declared_wall_times, find_type_choices, settle_empty_zones
from ..shape.uuidcolumns import settle_empty_uuids, uuids_referenced
from ..sources import SourceReader, SourceTable, open_source
from ..sources.base import ScanProgress
from ..values.epochs import find_numbers
from ..values.targetstyles import existing_styles
from ..values.textbytes import note_invalid_text
from ..values.textstyles import Style
from .alembic import leave_out_revisions, revision_left_out
from .checkfold import ask_for_listed_values, fold_into_checks, read_checks
from .copies import draft_copies
from .createdstyles import keep_time_spellings
from .draftfill import (
    ask_about_unfilled_times,
    json_keys_into_columns,
    key_children_within_parent,
    presence_flags,
)
from .fillquestions import (
    ask_about_text_that_is_not_json,
    ask_for_checked_values,
    ask_for_usual_values,
)
from .fixtures import key_fixture_ids
from .flagquestions import note_flags, zero_one_columns
from .found import FoundSource, identifier
from .hookquestions import ask_about_unfed_tables
from .jsontargets import parse_json_into_json_columns
from .keyfinder import KeyFinding, find_key
from .keytrim import trim_key_values
from .logindexes import draft_log_indexes
from .namecase import note_name_case, settle_identifiers
from .questions import merged_questions
from .recordkeys import key_records_by_id, read_unique_keys
from .relations import draft_relations
from .secretquestions import ask_about_secret_keys
from .shapes import recognise
from .sourcefiles import find_sources as find_sources  # re-exported: its former home
from .sourcefiles import json_layout as json_layout  # re-exported: its former home
from .tabledraft import (
    Matched,
    draft_table_spec,
    leave_numbers_to_their_note,
    note_type_choices,
    say_how_numbers_read,
)
from .timespellings import read_time_spellings
from .valuequestions import ask_about_type_names, ask_for_constants, ask_for_missing_values


@dataclass
class ScanResult:
    """The draft plan and what the scan saw (for the CLI's summary and the wizard's list)."""

    plan: Plan
    sources: list[FoundSource]
    skipped: list[tuple[Path, str]]
    #: tables of the target (or schema) no source was matched to
    unmatched_tables: list[str] = field(default_factory=list)


async def _existing_tables(
    target: TargetSpec, folder: Path, schema: Path | None
) -> tuple[dict[str, TableInfo], dict[str, dict[str, Counter[Style]]]]:
    """The target's tables (after applying ``schema`` in a rolled-back transaction), and the
    value styles their rows show (SQLite: :mod:`ferry.values.targetstyles`)."""
    from ..shape.schemafile import read_schema_file
    from ..targets import open_target

    handle = open_target(target, folder)
    # Opening a missing SQLite file would create it: nothing is there to read.
    if handle.file_missing() and schema is None:
        return {}, {}
    await handle.open()
    try:
        if schema is not None:
            await handle.run_schema_sql(read_schema_file(schema, handle.dialect_name), str(schema))
        tables = await handle.reflect()
        await read_unique_keys(handle, tables)
        await read_checks(handle, tables)
        styles = {
            name: await existing_styles(handle, info)
            for name, info in tables.items()
            if not is_ferry_table(name)
        }
        return tables, styles
    finally:
        await handle.finish(commit=False)


def _keyless(reader: SourceReader, table: SourceTable) -> KeyFinding:
    """What a keyless PostgreSQL table's data offers as a key; nothing where its columns
    cannot be compared (``json``, ``point``): the table is then drafted ``append``."""
    try:
        return find_key(reader, table)
    except FerryError:
        return KeyFinding(rows=table.row_estimate or 0)


def _as_stored(reader: SourceReader, item: FoundSource) -> list[TypeFinding]:
    """``item``'s type choices, a column's replaced by ``any`` where its values' storage
    classes are not all what its drafted type stores (:mod:`ferry.shape.asstored`)."""
    return replaced_choices(
        item.tables, item.type_choices, lambda t, drafted: stored_choices(reader, t, drafted)
    )


def _named_progress(source: str, progress: ScanProgress | None) -> ScanProgress | None:
    """``progress`` told of a source's tables as ``source.table``."""
    if progress is None:
        return None
    told = progress

    def named(table: str, rows: int, total: int | None) -> None:
        told(table if table.startswith(f"{source}.") else f"{source}.{table}", rows, total)

    return named


def scan_folder(
    folder: str | Path,
    target_url: str | None = None,
    schema: str | Path | None = None,
    plan_dir: str | Path | None = None,
    cancel: CancelToken | None = None,
    source_schema: str | None = None,
    progress: ScanProgress | None = None,
) -> ScanResult:
    """Find the sources in ``folder`` and draft a plan (paths relative to ``folder``).

    ``folder`` may also be a PostgreSQL URL: the draft's one source is that database (the
    tables of ``source_schema`` when given, see :mod:`ferry.scan.pgdraft`), and its folder is
    ``plan_dir`` (default the current one). ``plan_dir`` is the folder the plan will be
    written to (default ``folder``): a relative SQLite target URL names a file there, as it
    will when the plan runs. ``cancel`` is checked between sources and between batches of
    each (:class:`~ferry.errors.Cancelled`); ``progress`` is told the rows read so far of each
    table (named ``source.table``) after each batch.
    """
    from .pgdraft import is_postgres_url, postgres_source

    database_url = str(folder) if is_postgres_url(folder) else None
    if database_url is not None:
        folder = Path(plan_dir or ".")
    folder = Path(folder).resolve()
    only = None
    if (
        database_url is None and folder.is_file()
    ):  # one file (an app's database): that file alone, from its folder
        only, folder = folder, folder.parent
    # A database's plan folder (a new workspace) is made only once the draft is good.
    if database_url is None and not folder.is_dir():
        raise FerryError(
            f"{folder} is not a folder", hint="Give the folder holding the app's state."
        )
    target_base = Path(plan_dir).resolve() if plan_dir is not None else folder
    target = TargetSpec(url=target_url or DEFAULT_TARGET_URL)
    exclude: set[Path] = set()
    if target.is_sqlite:
        from ..targets.sqlite import sqlite_path

        database = sqlite_path(target, target_base).resolve()
        exclude = {Path(f"{database}{suffix}") for suffix in ("", "-journal", "-wal", "-shm")}
    beside: dict[str, dict[str, Any]] = {}
    remarks: list[str] = []
    skipped: list[tuple[Path, str]]
    if database_url is not None:
        spec, remarks = postgres_source(database_url, folder, source_schema)
        specs, skipped = [spec], []
    else:
        specs, skipped = find_sources(folder, exclude, beside, only)
    found: list[FoundSource] = []
    for spec in specs:
        reader = open_source(spec, folder)
        files = reader.files()
        item = FoundSource(spec, files, sum(f.stat().st_size for f in files if f.exists()))
        item.remarks = remarks if spec.kind == "postgres" else []
        try:
            if cancel is not None:
                cancel.raise_if_cancelled()
            told = _named_progress(spec.name, progress)
            item.tables = _data_tables(item, reader.scan(cancel=cancel, progress=told))
            django = any(t.origin.lower() == "django_migrations" for t in item.tables)
            if reader.capabilities.samples_columns:
                item.numbers = [n for t in item.tables for n in find_numbers(reader, t)]
                item.type_choices = [
                    f for t in item.tables for f in find_type_choices(reader, t, django=django)
                ]
                item.flags = [f for t in item.tables for f in zero_one_columns(reader, t)]
                if django:  # UTC without a zone, inet, interval: ferry.shape.djangotypes
                    item.type_choices = django_choices(reader, item.tables, item.type_choices)
                item.type_choices = airflow_instants(item.tables, item.type_choices)
                item.type_choices = settle_empty_uuids(settle_empty_zones(item.type_choices))
                item.type_choices = uuids_referenced(reader, item.tables, item.type_choices)
                if target.is_sqlite:  # SQLite types values: a mixed column kept as stored
                    item.type_choices = _as_stored(reader, item)
                else:  # one type per column: text where the declared type rejects values
                    item.type_choices = with_rejected(reader, item.tables, item.type_choices)
                for table in item.tables:  # the type choice's note replaces the "mixed" one
                    for finding in item.type_choices:
                        if finding.table == table.name and finding.type_ is not None:
                            table.evidence.pop(finding.column, None)
                item.keys = {t.name: find_key(reader, t) for t in item.tables if not t.key}
                leave_numbers_to_their_note(item)
            elif reader.capabilities.answers_sql:
                item.keys = {t.name: _keyless(reader, t) for t in item.tables if not t.key}
                item.type_choices = [f for t in item.tables for f in declared_wall_times(t)]
                if django:
                    item.type_choices += [f for t in item.tables for f in django_pg_columns(t)]
            item.invalid_text = reader.invalid_text
            item.notes.extend(reader.notices)
            keyed = key_records_by_id(item, folder)
            if keyed:  # scanned again: nested lists now link to the parent by its id
                again = open_source(spec, folder)
                try:
                    item.tables = _data_tables(item, again.scan(cancel=cancel, progress=told))
                finally:
                    again.close()
                item.notes.append(keyed)
        except Cancelled:
            raise Cancelled("Scan cancelled: nothing was written.") from None
        except FerryError as exc:
            item.problem = exc.message
        finally:
            reader.close()
        if spec.path in beside:
            item.notes.append(
                f"{spec.path} holds "
                + ", ".join(f"{k} = {v!r}" for k, v in beside[spec.path].items())
                + " beside its collections: document metadata, not migrated"
            )
        found.append(item)
    schema_path = Path(schema).resolve() if schema else None
    if schema_path is not None:
        target.schema_sql = str(schema_path)
    if not any(item.tables for item in found if not item.problem):
        raise _nothing_read(folder, found, skipped)
    recognise(found, folder)
    copy_questions = draft_copies(found, folder)
    existing, styles = asyncio.run(_existing_tables(target, target_base, schema_path))
    readable_found = [item for item in found if not item.problem and not item.consumed]
    case_evidence = settle_identifiers(target, readable_found)
    taken: set[str] = set()
    parents: dict[str, Matched] = {}
    tables = [
        draft_table_spec(
            table,
            existing,
            taken,
            styles,
            parents,
            item.spec.kind in ("sqlite", "postgres"),
            item.keys.get(table.name),
            None if target.is_sqlite else target.identifiers,
            named=item.table_name,
        )
        for item in found
        if not item.problem and not item.consumed
        for table in item.tables
    ]
    tables = leave_out_revisions(found, tables, existing, target.is_sqlite)
    tables, secret_questions = ask_about_secret_keys(tables, found, folder)
    parse_json_into_json_columns(tables, existing, {t.name: t for i in found for t in i.tables})
    key_children_within_parent(tables, found, folder)
    key_fixture_ids(tables, found)
    note_name_case(tables, existing, target, case_evidence)
    unfilled_questions = ask_about_unfilled_times(tables, existing)
    if not target.is_sqlite:  # SQLite takes 0/1 and true/false alike
        flags = [f for item in found if not item.problem for f in item.flags]
        note_flags(tables, flags, {t.name for t in tables} - set(existing))
    unfilled_questions += ask_for_listed_values(tables, existing)
    shaped = {t.name: item.notes for item in found for t in item.tables if item.notes}
    for table_spec in tables:
        table_spec.notes[:0] = shaped.get(table_spec.source, [])
    numbers = [n for item in found if not item.problem for n in item.numbers]
    for table_spec in tables:
        say_how_numbers_read(table_spec, numbers, existing, target.is_sqlite)
    invalid = {
        f"{item.spec.name}.{origin}": columns
        for item in found
        for origin, columns in item.invalid_text.items()
    }
    for table_spec in tables:
        note_invalid_text(table_spec, invalid.get(table_spec.source, {}))
    choices = [f for item in found if not item.problem for f in item.type_choices]
    if target.is_sqlite:  # a SQLite target keeps a date-time column's text as the app wrote it
        choices = [f for f in choices if not f.postgres_only]
    else:
        choices = [f for f in choices if not f.for_sqlite]
    for table_spec in tables:
        note_type_choices(table_spec, choices)
    unfilled_questions += ask_about_django_types(tables, choices)
    readable = [item.spec for item in found if not item.problem]
    json_keys_into_columns(tables, readable, existing, folder)
    presence_flags(tables, existing)
    fold_into_checks(tables, readable, existing, folder)
    trim_key_values(tables, readable, existing, folder)
    read_time_spellings(tables, readable, existing, folder)
    if target.is_sqlite:
        keep_time_spellings(tables, readable, folder)
    scanned = [(i.spec, t) for i in found if not i.problem and not i.consumed for t in i.tables]
    draft_relations(tables, readable, scanned, {t.name for t in tables} - set(existing), folder)
    draft_log_indexes([t for t in tables if t.name not in existing], readable, folder)
    from .existingrows import ask_about_existing_rows

    asked = {q.id for q in unfilled_questions}
    unfilled_questions += ask_for_constants(tables, existing, asked)
    unfilled_questions += ask_for_missing_values(tables, readable, existing, folder)
    unfilled_questions += ask_about_type_names(tables, readable, existing, folder)
    unfilled_questions += ask_about_text_that_is_not_json(tables, readable, existing, folder)
    asked = {q.id for q in unfilled_questions}
    unfilled_questions += ask_for_checked_values(tables, readable, existing, folder, asked)
    asked = {q.id for q in unfilled_questions}
    unfilled_questions += ask_for_usual_values(tables, readable, existing, folder, asked)
    plan_folder = Path(plan_dir or folder).resolve()
    ours = set(filter(is_ferry_table, existing))  # (Ferry's own tables: never asked about)
    unfilled_questions += ask_about_unfed_tables(
        tables, readable, existing, folder, plan_folder, ours
    )
    questions = merged_questions(
        copy_questions
        + ask_about_existing_rows(target, target_base, folder, readable, tables, existing)
        + unfilled_questions
        + secret_questions
    )
    plan = Plan(
        name=identifier(specs[0].name if database_url else folder.name),
        target=target,
        sources=readable,
        tables=tables,
        questions=questions,
    )
    plan.base_dir = folder
    fed = {t.name for t in tables}
    unmatched = [n for n in existing if not is_ferry_table(n) and n not in fed]
    unmatched = [n for n in unmatched if not revision_left_out(n, found)]
    return ScanResult(plan=plan, sources=found, skipped=skipped, unmatched_tables=unmatched)


def _data_tables(item: FoundSource, tables: list[SourceTable]) -> list[SourceTable]:
    """The tables a draft copies; the others (a full-text index, its shadow tables, an empty
    collection) are noted on ``item`` for the draft's header."""
    for table in tables:
        if not table.columns and not table.not_data:  # TinyDB's empty ``_default: {}``
            table.not_data = "an empty collection (no record to take columns from)"
    item.left_out = [(t.name, t.not_data) for t in tables if t.not_data]
    return [t for t in tables if not t.not_data]


def _nothing_read(
    folder: Path, found: list[FoundSource], skipped: list[tuple[Path, str]]
) -> SourceError:
    """The error for a folder in which no file gave a table: a plan with no tables would
    only fail later, so none is written."""
    if found:
        what = "; ".join(
            item.problem if item.problem else f"{item.spec.path}: holds no tables"
            for item in found[:3]
        )
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        return SourceError(
            f"nothing in {folder} could be read: {what}{more}",
            hint="Fix or replace the files named (each says what is wrong), then run "
            "ferry init again. No plan was written.",
        )
    if skipped:
        what = "; ".join(f"{path.name}: {why}" for path, why in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        problem = f"{folder} holds no file Ferry reads ({what}{more})"
    else:
        problem = f"{folder} holds no files"
    return SourceError(
        problem,
        hint="Ferry reads *.json, *.jsonl, *.ndjson, .env, one-value *.txt files and SQLite "
        "databases: give the folder holding the app's state. No plan was written.",
    )


def describe_found(result: ScanResult) -> list[dict[str, Any]]:
    """Rows for a summary: source, kind, path, size, rows, tables, problem."""
    return [
        {
            "source": s.spec.name,
            "kind": s.spec.kind,
            "path": s.spec.path or s.spec.url or " + ".join(s.spec.inputs),
            "root": s.spec.root,
            "size": s.size,
            "rows": s.rows,
            "tables": [t.name for t in s.tables],
            "problem": s.problem,
        }
        for s in result.sources
    ]
