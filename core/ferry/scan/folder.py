"""``ferry init``: look at a folder of legacy state and draft a plan a person can edit.

Every file Ferry can read becomes a source (JSON documents with several collections become
one source per collection), each source table is read once for exact columns, types and row
counts, and each becomes a target table. Where the target already has tables (or a
``schema.sql`` is given) sources are matched to tables and fields to columns by name, and
what could not be matched is written into the table's ``notes`` for the reviewer.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import ijson

from ..errors import Cancelled, FerryError, SourceError
from ..events import CancelToken
from ..plan import DEFAULT_TARGET_URL, ColumnSpec, Plan, SourceSpec, TableSpec, TargetSpec
from ..shape.namefold import name_notes, shortened
from ..shape.schema import FERRY_TABLES, TableInfo
from ..shape.typemap import TypeFinding, find_type_choices
from ..sources import SourceReader, SourceTable, open_source
from ..sources.json import CHUNK, PARSE_ERRORS, guarded
from ..values.epochs import NumberFinding, find_numbers
from ..values.logical import LogicalType
from ..values.targetstyles import draft_styles, existing_styles
from ..values.textbytes import note_invalid_text
from ..values.textstyles import Style, summarize
from .checkfold import ask_for_listed_values, fold_into_checks, read_checks
from .copies import draft_copies
from .draftfill import (
    ask_about_unfilled_times,
    json_keys_into_columns,
    key_children_within_parent,
    presence_flags,
    say_what_to_add,
    value_into_lone_time_column,
)
from .fillquestions import (
    ask_about_text_that_is_not_json,
    ask_for_checked_values,
    ask_for_usual_values,
)
from .found import FoundSource, identifier, unique_name
from .hookquestions import ask_about_unfed_tables
from .keyfinder import KeyFinding, find_key
from .keytrim import trim_key_values
from .matching import (
    TableMatch,
    choose_child_table,
    choose_table,
    literal_default,
    type_disagreement,
)
from .recordkeys import key_records_by_id, read_unique_keys, unique_key
from .shapes import recognise
from .timespellings import read_time_spellings
from .valuequestions import ask_about_type_names, ask_for_constants, ask_for_missing_values

SQLITE_MAGIC = b"SQLite format 3\x00"
_ONE_VALUE_MAX_BYTES = 4096
_DOCUMENT_MAX_KEYS = 50
_SKIPPED_DIRS = {
    ".git",
    "__pycache__",
    "node_modules",
    ".venv",
    "venv",
    "ferry-backups",
    "ferry-reports",
}


@dataclass
class ScanResult:
    """The draft plan and what the scan saw (for the CLI's summary and the wizard's list)."""

    plan: Plan
    sources: list[FoundSource]
    skipped: list[tuple[Path, str]]
    #: tables of the target (or schema) no source was matched to
    unmatched_tables: list[str] = field(default_factory=list)


#: scalars a document may hold beside its collections: its metadata, not a table
_METADATA = re.compile(
    r"^_?(version|schema(_?version)?|format|generator|service|app|host|source|count|total)$"
    r"|(_at|_on|_by|_version|timestamp)$",
    re.I,
)


def json_layout(path: Path, beside: dict[str, Any] | None = None) -> dict[str, str] | None:
    """For a JSON object whose every value is a collection, each key and its kind
    (``array`` or ``keyed``); None for any other layout. Streams, so any size works.

    A few metadata scalars beside the collections (``{"version": 2, "executions": [...]}``)
    still make a document: they go into ``beside`` (key -> value), not into a table."""
    kinds: dict[str, str] = {}
    scalars: dict[str, Any] = {}
    try:
        with path.open("rb") as handle:
            head = handle.read(3)
            if head != b"\xef\xbb\xbf":
                handle.seek(0)
            # Through the reader's depth guard: ijson's memory grows with depth squared.
            events = ijson.parse(guarded(handle, handle.tell()), use_float=True, buf_size=CHUNK)
            first = next(events, None)
            if first is None or first[1] != "start_map":
                return None
            for prefix, event, value in events:
                depth = prefix.count(".") + 1 if prefix else 0
                if depth == 0 and event == "map_key":
                    continue
                if depth == 1 and prefix not in kinds:
                    if event == "start_array":
                        kinds[prefix] = "array"
                    elif event == "start_map":
                        kinds[prefix] = "keyed"
                    elif event != "map_key" and _METADATA.search(prefix):
                        scalars[prefix] = value
                    elif event != "map_key":
                        return None
                    if len(kinds) > _DOCUMENT_MAX_KEYS:
                        return None
                elif (
                    depth == 2
                    and kinds.get(prefix.split(".")[0]) == "keyed"
                    and event not in ("start_map", "map_key", "end_map")
                ):
                    return None
    except (*PARSE_ERRORS, OSError, UnicodeDecodeError):
        return None  # the reader reports the problem with its position
    for key in scalars:
        kinds.pop(key, None)
    if not kinds:
        return None
    if beside is not None:
        beside.update(scalars)
    return kinds


def _classify(path: Path) -> str | None:
    name = path.name.lower()
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head == SQLITE_MAGIC:
        return "sqlite"
    if name == ".env" or name.endswith(".env") or name.startswith(".env."):
        return "env"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".txt"):
        return "text"
    return None


def _one_value_file(path: Path) -> bool:
    try:
        if path.stat().st_size > _ONE_VALUE_MAX_BYTES:
            return False
        return len(path.read_bytes().strip().splitlines()) <= 1
    except OSError:
        return False


#: files a test or a generator writes beside the state (``expected.json``, ``fixtures.json``)
_FIXTURE = re.compile(r"^(expected|fixtures?)([_.-]|$)|[_.-](expected|fixtures?)$", re.I)
_FIXTURE_REASON = (
    "named like a test fixture (expected results), not the app's state: "
    "add it under [[sources]] if the app reads it"
)


def find_sources(
    folder: Path,
    exclude: Collection[Path] = (),
    beside: dict[str, dict[str, Any]] | None = None,
    only: Path | None = None,
) -> tuple[list[SourceSpec], list[tuple[Path, str]]]:
    """Source specs for every readable file under ``folder`` (paths relative to it), leaving
    out the files in ``exclude`` (the plan's own SQLite target); with ``only``, that file
    alone. ``beside`` receives, per document path, the metadata scalars it holds beside its
    collections."""
    specs: list[SourceSpec] = []
    skipped: list[tuple[Path, str]] = []
    names: set[str] = set()
    texts: list[Path] = []
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not (set(p.relative_to(folder).parts[:-1]) & _SKIPPED_DIRS)
        and p.resolve() not in exclude
        and (only is None or p.resolve() == only)
    )
    for path in files:
        rel = path.relative_to(folder).as_posix()
        kind = _classify(path)
        if kind is None:
            skipped.append((path, "not a kind of file Ferry reads"))
            continue
        if _FIXTURE.search(path.stem):
            skipped.append((path, _FIXTURE_REASON))
            continue
        if kind == "text":
            if _one_value_file(path):
                texts.append(path)
            else:
                skipped.append((path, "a text file with more than one value"))
            continue
        if kind == "json":
            scalars: dict[str, Any] = {}
            layout = json_layout(path, scalars)
            if layout and scalars and beside is not None:
                beside[rel] = scalars
            if layout:
                for key, collection in layout.items():
                    shape: Literal["records", "keyed"] = (
                        "records" if collection == "array" else "keyed"
                    )
                    specs.append(
                        SourceSpec(
                            name=unique_name(identifier(key), names),
                            kind="json",
                            path=rel,
                            root=key,
                            shape=shape,
                        )
                    )
                continue
        stem = path.name.lstrip(".").rsplit(".", 1)[0] if kind != "env" else path.name
        specs.append(SourceSpec(name=unique_name(identifier(stem), names), kind=kind, path=rel))  # type: ignore[arg-type]
    specs.extend(_text_sources(texts, folder, names))
    return specs, skipped


def _text_sources(paths: list[Path], folder: Path, names: set[str]) -> list[SourceSpec]:
    """One-value text files; files sharing a ``prefix_`` become one source keyed by the rest."""
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for path in paths:
        match = re.match(r"^([A-Za-z0-9]+[_-])(.+)\.txt$", path.name)
        parent = path.parent.relative_to(folder).as_posix()
        groups[(parent, match.group(1) if match else path.name)].append(path)
    specs = []
    for (parent, prefix), members in sorted(groups.items()):
        base = "" if parent == "." else parent + "/"
        if len(members) > 1 and prefix.endswith(("_", "-")):
            specs.append(
                SourceSpec(
                    name=unique_name(identifier(prefix.rstrip("_-")), names),
                    kind="text",
                    path=f"{base}{prefix}*.txt",
                    key_pattern=re.escape(prefix) + r"(?P<key>.+)\.txt",
                )
            )
        else:
            for path in members:
                specs.append(
                    SourceSpec(
                        name=unique_name(identifier(path.stem), names),
                        kind="text",
                        path=base + path.name,
                    )
                )
    return specs


#: a matched source table: the target table, and its source fields -> the columns they feed
Matched = tuple[str, dict[str, str]]


def _match_table(
    found: SourceTable, existing: dict[str, TableInfo], parents: dict[str, Matched]
) -> TableMatch | None:
    """The existing table ``found`` is (:mod:`ferry.scan.matching`): a nested list among the
    tables with a foreign key to its parent's table first, then by columns and name."""
    parent = parents.get(found.parent.parent) if found.parent is not None else None
    if found.parent is not None and parent is not None:
        link = (found.parent.columns, found.parent.parent_columns)
        child = choose_child_table(found.name, found.columns, link, parent[0], parent[1], existing)
        if child is not None:
            return child
    return choose_table(found.name, found.columns, existing, found.key)


def _table_spec(
    found: SourceTable,
    existing: dict[str, TableInfo],
    taken: set[str],
    styles: dict[str, dict[str, Counter[Style]]],
    parents: dict[str, Matched] | None = None,
    database: bool = False,
    finding: KeyFinding | None = None,
    identifiers: str | None = None,
) -> TableSpec:
    """The draft spec of one source table. A database source's tables keep their own names
    (only a nested JSON list's child table is named after its parent source too)."""
    parents = {} if parents is None else parents
    matched = _match_table(found, existing, parents)
    if matched is None:
        own = found.name.split(".", 1)[-1]
        wanted = identifier(
            own if database or (found.parent is None and "." in found.name) else found.name
        )
        drafted = wanted
        if identifiers is not None:  # PostgreSQL: at most 63 bytes
            wanted = shortened(wanted)
        name = unique_name(wanted, taken)
        notes = [m.note(c, found.columns.get(c, "text")) for c, m in found.evidence.items()]
        if name != wanted:
            notes.append(
                f"named {name}, not {wanted}: another table of the plan is already called {wanted}"
            )
        if identifiers is not None:
            notes.extend(name_notes(drafted, wanted, list(found.columns), identifiers == "lower"))
        spec = TableSpec(
            name=name,
            source=found.name,
            key=list(found.key),
            types=dict(found.columns),
            notes=notes,
        )
        if database and not found.key:
            _choose_key(spec, finding, {c: c for c in found.columns})
        return spec
    match = matched.table
    taken.add(match)
    info = existing[match]
    columns: dict[str, ColumnSpec] = {}
    notes = [matched.evidence]
    notes += [m.note(c, found.columns.get(c, "text")) for c, m in found.evidence.items()]
    #: source field -> the target column it feeds
    feeds: dict[str, str] = {}
    for field_name in found.columns:
        how = matched.fields.get(field_name)
        if how is None:
            notes.append(f"source field {field_name!r} matches no column of {match}")
            continue
        feeds[field_name] = how.column
        if how.column != field_name:
            columns[how.column] = ColumnSpec.model_validate({"from": field_name})
            if how.how == "key":
                what = "primary key" if how.column in info.primary_key else "unique column"
                notes.append(f"the source's key {field_name!r} feeds the {what} {how.column!r}")
            elif how.how != "foreign key":
                notes.append(f"field {field_name!r} feeds column {how.column!r} ({how.how})")
        column_info = info.columns[how.column]
        default = literal_default(column_info.default_sql)
        if not column_info.nullable and default is not None:
            # NULL would be refused: a row without the value takes the column's own default
            column_spec = columns.get(how.column) or ColumnSpec.model_validate({"from": field_name})
            column_spec.default = default
            columns[how.column] = column_spec
            notes.append(
                f"column {how.column!r} is NOT NULL with DEFAULT {column_info.default_sql}: "
                f"a row without {field_name!r} takes it (default = {default!r})"
            )
        disagreement = type_disagreement(
            field_name, found.columns[field_name], info.columns[how.column]
        )
        if disagreement:
            notes.append(disagreement)
    value_into_lone_time_column(found, info, feeds, columns, notes)
    parents[found.name] = (match, feeds)
    mapped = set(feeds.values())
    for info_column in info.columns.values():
        required = not info_column.nullable and not info_column.has_default
        if info_column.name not in mapped and required:
            notes.append(f"column {info_column.name!r} is required but no source field matches it")
            notes.append(say_what_to_add(match, info_column))
    unfilled = [
        c.name
        for c in info.columns.values()
        if c.name not in mapped
        and (c.nullable or c.has_default)
        and not (c.name in info.primary_key and c.has_default)
    ]
    if unfilled:
        notes.append(
            f"columns no source field fills (they get their default or NULL): {', '.join(unfilled)}"
        )
    # The run keys rows by the target's primary key, unless the database generates it and the
    # source does not fill it (SQLite's INTEGER PRIMARY KEY, an identity): then, as for a
    # table without a primary key, the source's own key (as target columns) is proposed.
    primary_key = list(info.primary_key)
    source_key = [feeds[k] for k in found.key if k in feeds]
    if len(source_key) != len(found.key):
        source_key = []
    key: list[str] = []
    if any(info.columns[k].has_default and k not in mapped for k in primary_key):
        key = source_key or unique_key(info, mapped, notes)
        if not key:
            notes.append(
                f"the primary key {', '.join(primary_key)} is generated by the database: "
                "name the columns that identify a row in `key`"
            )
    elif not primary_key:
        key = source_key
        if not key and not database:
            notes.append(f"{match} has no primary key: name the columns that identify a row")
    chosen = draft_styles(styles.get(match, {}), mapped)
    for column in chosen:
        notes.append(
            f"column {column!r} already holds values in several styles "
            f"({summarize(styles[match][column])} of the rows sampled): styles.{column} names "
            "the one new values take"
        )
    spec = TableSpec(
        name=match, source=found.name, columns=columns, notes=notes, key=key, styles=chosen
    )
    if database and not primary_key and not key:
        _choose_key(spec, finding, feeds)
    return spec


def _choose_key(spec: TableSpec, finding: KeyFinding | None, feeds: dict[str, str]) -> None:
    """For a table without a key: the key its data offers, else ``mode = "append"``, with
    notes (the evidence, and the rows identical in every column)."""
    finding = finding or KeyFinding()
    key = [feeds[c] for c in finding.key if c in feeds]
    if key and len(key) == len(finding.key):
        spec.key = key
    else:
        finding.key = []
        spec.mode = "append"
    spec.notes.extend(finding.notes(spec.name))


def _say_how_numbers_read(
    spec: TableSpec, numbers: list[NumberFinding], existing: dict[str, TableInfo], sqlite: bool
) -> None:
    """Write each found number column's ``integers`` reading into ``spec``, with a note.

    Where no reading makes the numbers plausible dates, nothing is guessed: a SQLite target
    keeps the numbers as they are (``number``), into PostgreSQL the setting stays unset (the
    rows are rejected, naming their keys, until the reviewer chooses)."""
    info = existing.get(spec.name)
    for finding in numbers:
        if finding.table != spec.source:
            continue
        reading = finding.reading or ("number" if sqlite else None)
        note = finding.note()
        if finding.reading is None:
            note += (
                ': kept as numbers (integers = "number")'
                if reading
                else ": left unset, so their rows are rejected until integers is set"
            )
        spec.notes.append(note)
        if reading is None:
            continue
        named = [n for n, c in spec.columns.items() if c.from_ == finding.column]
        if named:
            spec.columns[named[0]].integers = reading
        elif info is None or finding.column in info.columns:
            spec.columns[finding.column] = ColumnSpec.model_validate(
                {"from": finding.column, "integers": reading}
            )


def _note_type_choices(spec: TableSpec, choices: list[TypeFinding]) -> None:
    """A table Ferry creates gets each of its columns' type choices (:mod:`ferry.shape.typemap`):
    the type in ``types`` where one is chosen, and the note that says why."""
    if not spec.types:  # an existing table: its own column types decide
        return
    for finding in choices:
        if finding.table != spec.source or finding.column not in spec.types:
            continue
        if finding.type_ is not None:
            spec.types[finding.column] = cast(LogicalType, finding.type_)
        spec.notes.append(finding.note)


def _leave_numbers_to_their_note(item: FoundSource) -> None:
    """Numbers in a date/time column get the ``integers`` note, not a second "mixed" one."""
    by_name = {table.name: table for table in item.tables}
    for finding in item.numbers:
        if finding.table in by_name:
            by_name[finding.table].evidence.pop(finding.column, None)


async def _existing_tables(
    target: TargetSpec, folder: Path, schema: Path | None
) -> tuple[dict[str, TableInfo], dict[str, dict[str, Counter[Style]]]]:
    """The target's tables (after applying ``schema`` in a rolled-back transaction), and the
    value styles their rows show (SQLite: :mod:`ferry.values.targetstyles`)."""
    from ..shape.schemafile import read_schema_file
    from ..targets import open_target

    handle = open_target(target, folder)
    # Opening a missing SQLite file would create it: nothing is there to read.
    file = handle.database_file()
    unmade = handle.capabilities.created_by_opening and file is not None and not file.exists()
    if unmade and schema is None:
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
            if name not in FERRY_TABLES
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


def scan_folder(
    folder: str | Path,
    target_url: str | None = None,
    schema: str | Path | None = None,
    plan_dir: str | Path | None = None,
    cancel: CancelToken | None = None,
    source_schema: str | None = None,
) -> ScanResult:
    """Find the sources in ``folder`` and draft a plan (paths relative to ``folder``).

    ``folder`` may also be a PostgreSQL URL: the draft's one source is that database (the
    tables of ``source_schema`` when given, see :mod:`ferry.scan.pgdraft`), and its folder is
    ``plan_dir`` (default the current one). ``plan_dir`` is the folder the plan will be
    written to (default ``folder``): a relative SQLite target URL names a file there, as it
    will when the plan runs. ``cancel`` is checked between sources and between batches of
    each (:class:`~ferry.errors.Cancelled`).
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
            item.tables = reader.scan(cancel=cancel)
            if reader.capabilities.samples_columns:
                item.numbers = [n for t in item.tables for n in find_numbers(reader, t)]
                item.type_choices = [f for t in item.tables for f in find_type_choices(reader, t)]
                for table in item.tables:  # the type choice's note replaces the "mixed" one
                    for finding in item.type_choices:
                        if finding.table == table.name and finding.type_ is not None:
                            table.evidence.pop(finding.column, None)
                item.keys = {t.name: find_key(reader, t) for t in item.tables if not t.key}
                _leave_numbers_to_their_note(item)
            elif reader.capabilities.answers_sql:
                item.keys = {t.name: _keyless(reader, t) for t in item.tables if not t.key}
            item.invalid_text = getattr(reader, "invalid_text", {})
            keyed = key_records_by_id(item, folder)
            if keyed:  # scanned again: nested lists now link to the parent by its id
                again = open_source(spec, folder)
                try:
                    item.tables = again.scan(cancel=cancel)
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
    taken: set[str] = set()
    parents: dict[str, Matched] = {}
    tables = [
        _table_spec(
            table,
            existing,
            taken,
            styles,
            parents,
            item.spec.kind in ("sqlite", "postgres"),
            item.keys.get(table.name),
            None if target.is_sqlite else target.identifiers,
        )
        for item in found
        if not item.problem and not item.consumed
        for table in item.tables
    ]
    key_children_within_parent(tables, found, folder)
    unfilled_questions = ask_about_unfilled_times(tables, existing)
    unfilled_questions += ask_for_listed_values(tables, existing)
    shaped = {t.name: item.notes for item in found for t in item.tables if item.notes}
    for table_spec in tables:
        table_spec.notes[:0] = shaped.get(table_spec.source, [])
    numbers = [n for item in found if not item.problem for n in item.numbers]
    for table_spec in tables:
        _say_how_numbers_read(table_spec, numbers, existing, target.is_sqlite)
    invalid = {
        f"{item.spec.name}.{origin}": columns
        for item in found
        for origin, columns in item.invalid_text.items()
    }
    for table_spec in tables:
        note_invalid_text(table_spec, invalid.get(table_spec.source, {}))
    choices = [f for item in found if not item.problem for f in item.type_choices]
    for table_spec in tables:
        _note_type_choices(table_spec, choices)
    readable = [item.spec for item in found if not item.problem]
    json_keys_into_columns(tables, readable, existing, folder)
    presence_flags(tables, existing)
    fold_into_checks(tables, readable, existing, folder)
    trim_key_values(tables, readable, existing, folder)
    read_time_spellings(tables, readable, existing, folder)
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
    unfilled_questions += ask_about_unfed_tables(
        tables, readable, existing, folder, Path(plan_dir or folder).resolve(), set(FERRY_TABLES)
    )
    questions = (
        copy_questions
        + ask_about_existing_rows(target, target_base, folder, readable, tables, existing)
        + unfilled_questions
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
    unmatched = [n for n in existing if n not in FERRY_TABLES and n not in fed]
    return ScanResult(plan=plan, sources=found, skipped=skipped, unmatched_tables=unmatched)


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
