"""One ``[[tables]]`` entry of ``ferry init``'s draft per source table: matched to a target
table where one exists, its columns, key and notes (numbers in time columns, type choices).
"""

from __future__ import annotations

from collections import Counter
from typing import cast

from ..plan import ColumnSpec, TableSpec
from ..planspecs import TargetType
from ..shape.namefold import is_plain, name_notes, shortened
from ..shape.schema import TableInfo
from ..shape.typefindings import TypeFinding
from ..sources import SourceTable
from ..values.epochs import NumberFinding
from ..values.logical import LogicalType
from ..values.targetstyles import draft_styles
from ..values.textstyles import Style, summarize
from .draftfill import (
    say_what_to_add,
    value_into_lone_time_column,
)
from .found import FoundSource, identifier, unique_name
from .keyfinder import KeyFinding
from .matching import (
    TableMatch,
    choose_child_table,
    choose_table,
    literal_default,
    type_disagreement,
)
from .recordkeys import unique_key

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


def draft_table_spec(
    found: SourceTable,
    existing: dict[str, TableInfo],
    taken: set[str],
    styles: dict[str, dict[str, Counter[Style]]],
    parents: dict[str, Matched] | None = None,
    database: bool = False,
    finding: KeyFinding | None = None,
    identifiers: str | None = None,
    named: str = "",
) -> TableSpec:
    """The draft spec of one source table. A database source's tables keep their own names
    (only a nested JSON list's child table is named after its parent source too); ``named``:
    the name the table is drafted under instead of its source's (a merge source's)."""
    parents = {} if parents is None else parents
    matched = _match_table(found, existing, parents)
    if matched is None:
        own = found.name.split(".", 1)[-1]
        wanted = named or identifier(
            own if database or (found.parent is None and "." in found.name) else found.name
        )
        if identifiers == "keep" and database and is_plain(own):
            wanted = own  # the app's SQL quotes it: its spelling is part of the name
        drafted = wanted
        if identifiers is not None:  # PostgreSQL: at most 63 bytes
            wanted = shortened(wanted)
        tried = wanted
        if database and wanted in taken and "." in found.name:
            # a table of a second database (a Chromium profile's fourteen ``meta`` tables):
            # named after its database (``cookies_meta``), not numbered (``meta_13``)
            tried = identifier(f"{found.name.split('.', 1)[0]}_{wanted}")
            tried = shortened(tried) if identifiers is not None else tried
        name = unique_name(tried, taken)
        notes = [m.note(c, found.columns.get(c, "text")) for c, m in found.evidence.items()]
        if name != wanted:
            notes.append(
                f"named {name}, not {wanted}: another table of the plan is already called {wanted}"
            )
        if identifiers is not None:
            notes.extend(name_notes(drafted, wanted, list(found.columns), identifiers == "lower"))
        whole = found.whole_number_key
        if whole and found.columns.get(whole) == "text":
            notes.append(
                f"key {whole!r}: every value is a whole number written as text "
                f"({found.row_estimate} rows): drafted as an integer, so columns that refer to "
                f'it compare equal and sort as numbers; types.{whole} = "text" keeps the text'
            )
        types = {c: "integer" if c == whole else t for c, t in found.columns.items()}
        if identifiers is None:  # a SQLite target: its NUMERIC columns round long numbers
            for column, long in found.long_numbers.items():
                if types.get(column) == "decimal" and column not in found.declared:
                    types[column] = "text"
                    notes.append(long.note(column))
        spec = TableSpec(
            name=name, source=found.name, key=list(found.key), types=types, notes=notes
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
        # a source column declared NOT NULL never needs it, nor a key column (a row whose key
        # is NULL is rejected by key). MLflow's workspace: a default drafted there made the
        # reverse plan ask a question for each of 24 tables.
        never_null = field_name in found.key or (
            found.shape is not None and field_name in found.shape.not_null
        )
        if not column_info.nullable and default is not None and not never_null:
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


def say_how_numbers_read(
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


def note_type_choices(spec: TableSpec, choices: list[TypeFinding]) -> None:
    """A table Ferry creates gets each of its columns' type choices (:mod:`ferry.shape.typemap`):
    the type in ``types`` where one is chosen, and the note that says why."""
    if not spec.types:  # an existing table: its own column types decide
        return
    for finding in choices:
        if finding.table != spec.source or finding.column not in spec.types:
            continue
        if finding.type_ is not None:
            spec.types[finding.column] = cast(LogicalType, finding.type_)
        if finding.target_type:  # uuid, inet (ferry.shape.djangotypes)
            spec.target_types[finding.column] = cast(TargetType, finding.target_type)
        if finding.type_ == "json" and finding.for_postgres:
            # the text is the document: parsed, not stored as one JSON string
            named = [n for n, c in spec.columns.items() if c.from_ == finding.column]
            if named:
                spec.columns[named[0]].parse_json = True
            else:
                spec.columns[finding.column] = ColumnSpec.model_validate(
                    {"from": finding.column, "parse_json": True}
                )
        spec.notes.append(finding.note)


def leave_numbers_to_their_note(item: FoundSource) -> None:
    """Numbers in a date/time column get the ``integers`` note, not a second "mixed" one."""
    by_name = {table.name: table for table in item.tables}
    for finding in item.numbers:
        if finding.table in by_name:
            by_name[finding.table].evidence.pop(finding.column, None)
