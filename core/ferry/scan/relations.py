"""What ``ferry init`` infers of the shape of tables it creates from files: the key the
database numbers and the foreign keys the data shows.

A JSON file has no schema, so a table made from it had only its primary key: the app's
first ``INSERT`` without an id failed, and nothing kept a post's ``user_id`` pointing at an
existing user. The draft now says, with the evidence in a note:

- ``identity = "id"`` for a one-column key of whole numbers taken from the data that runs
  like a sequence (none below 0, the highest at most ten times the row count plus 1,000; not
  a row's position, which Ferry makes up, nor a snowflake id): the database numbers the rows
  the app inserts later, past the highest migrated id;
- ``references = { user_id = "users.id" }`` for a column named after another table of the
  draft (``user_id``, ``userId``; ``users``, ``user``, ``categories`` for ``category_id``)
  whose every value is a key of that table, of the same type. A column only some of whose
  values are there gets a note with the first missing one and no foreign key: the operator
  decides (a foreign key would reject those rows); one none of whose values are is no
  reference at all (Home Assistant's ``entity_id`` beside an ``entities`` table). Tables of
  more than :data:`MAX_ROWS` rows are not read for it; the note says so.

A database source's own shape is carried as it is (:mod:`ferry.shape.ddl`); a nested list's
child table already references its parent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..plan import SourceSpec, TableSpec
from ..sources import SourceTable, open_source

#: rows a table may hold for its values to be read for a foreign key's evidence
MAX_ROWS = 2_000_000
#: a column named after a table: ``user_id``, ``userId``, ``user_ID``
_REFERENCE = re.compile(r"^(?P<base>.+?)_?id$", re.I)
_MADE_UP_KEYS = frozenset({"position"})
#: sources without a schema of their own (a merge of database copies keeps theirs)
_FILE_KINDS = frozenset({"json", "jsonl"})


@dataclass(frozen=True)
class _Table:
    spec: TableSpec
    source: SourceSpec
    found: SourceTable

    @property
    def key(self) -> str | None:
        key = self.spec.key or list(self.found.key)
        return key[0] if len(key) == 1 else None

    def field(self, column: str) -> str:
        given = self.spec.columns.get(column)
        return given.from_ if given is not None and given.from_ else column


def draft_relations(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    found: Iterable[tuple[SourceSpec, SourceTable]],
    created: set[str],
    folder: Path,
) -> None:
    """Set ``identity`` and ``references`` on the drafted ``tables`` Ferry creates
    (``created``) from file sources, with their notes. ``found``: each scanned source table
    with its source."""
    by_source = {f"{table.name}": (spec, table) for spec, table in found}
    files: dict[str, _Table] = {}
    for spec in tables:
        pair = by_source.get(spec.source)
        if pair is None or pair[0].kind not in _FILE_KINDS or spec.name not in created:
            continue
        files[spec.name] = _Table(spec, pair[0], pair[1])
    for table in files.values():
        _draft_identity(table)
    values = _Values(sources, folder)
    for table in files.values():
        linked = set(table.found.parent.columns) if table.found.parent is not None else set()
        for column, type_ in table.spec.types.items():
            if column == table.key or column in linked or type_ not in ("integer", "text"):
                continue
            parent = _named_table(column, files, table.spec.name)
            if parent is not None and parent.spec.types.get(parent.key or "") == type_:
                _draft_reference(table, column, parent, values, type_)


def _draft_identity(table: _Table) -> None:
    key = table.key
    span, rows = table.found.key_span, table.found.row_estimate or 0
    if key is None or key in _MADE_UP_KEYS or table.spec.types.get(key) != "integer":
        return
    # Numbered ids run 1, 2, 3…; a snowflake or an external id (1.2e17) is no sequence.
    if span is None or span[0] < 0 or span[1] > 10 * rows + 1000:
        return
    table.spec.identity = key
    table.spec.notes.append(
        f"key {key!r} holds ids the app numbered ({span[0]}…{span[1]}, {rows} rows): "
        f"identity = {key!r} lets the database number the rows the app inserts later "
        f"without one (the next after the highest migrated); remove it to keep {key!r} as "
        "given only"
    )


def _named_table(column: str, files: dict[str, _Table], own: str) -> _Table | None:
    """The table of the draft a column's name points at (``user_id`` -> ``users``)."""
    named = _REFERENCE.match(column)
    if named is None or not named.group("base").strip("_"):
        return None
    base = named.group("base").rstrip("_").casefold()
    wanted = [base, base + "s", base + "es"]
    if base.endswith("y"):
        wanted.append(base[:-1] + "ies")
    by_name = {name.casefold(): table for name, table in files.items() if name != own}
    for name in wanted:
        if name in by_name and by_name[name].key is not None:
            return by_name[name]
    return None


def _draft_reference(
    table: _Table, column: str, parent: _Table, values: _Values, type_: str
) -> None:
    assert parent.key is not None
    target = f"{parent.spec.name}.{parent.key}"
    children = values.of(table, column, type_)
    span, rows = parent.found.key_span, parent.found.row_estimate or 0
    keys: Collection[Any] | None
    if type_ == "integer" and span is not None and span[1] - span[0] + 1 == rows:
        keys = range(span[0], span[1] + 1)  # ids 1…N without a gap: nothing to read
    else:
        keys = values.of(parent, parent.key, type_)
    if children is None or keys is None:
        table.spec.notes.append(
            f"{column!r} looks like a reference to {target}; not checked (a table of more "
            f"than {MAX_ROWS:,} rows): references.{column} = {target!r} would make it a "
            "foreign key"
        )
        return
    missing = [v for v in children if v not in keys]
    if not children or len(missing) == len(children):
        return  # a name alike, nothing more: HA's entity_id ("sensor.t") is no entities.id
    if missing:
        table.spec.notes.append(
            f"{column!r} looks like a reference to {target}, but {len(missing)} of its "
            f"{len(children)} values are no key there (first: {sorted(missing, key=str)[0]!r}): "
            "no foreign key drafted (it would reject those rows)"
        )
        return
    table.spec.references[column] = target
    table.spec.notes.append(
        f"{column!r}: each of its {len(children)} distinct values is a key of {target} "
        f"({len(keys)} keys): references.{column} = {target!r} makes it a foreign key, so "
        f"a row cannot point at a {parent.spec.name} row that does not exist"
    )


class _Values:
    """A field's distinct non-null values per source table, read once each."""

    def __init__(self, sources: list[SourceSpec], folder: Path) -> None:
        self._sources = sources
        self._folder = folder
        self._read: dict[tuple[str, str], set[Any] | None] = {}

    def of(self, table: _Table, column: str, type_: str) -> set[Any] | None:
        """The values, as the column's type compares them (a keyed map's ``"1"`` is 1);
        None: the table is too big to read for this."""
        field_name = table.field(column)
        found = (table.found.name, field_name)
        if found not in self._read:
            self._read[found] = self._values(table, field_name)
        read = self._read[found]
        if read is None or type_ != "integer":
            return read
        return {int(v) if isinstance(v, str) and v.isdigit() else v for v in read}

    def _values(self, table: _Table, field_name: str) -> set[Any] | None:
        if (table.found.row_estimate or 0) > MAX_ROWS:
            return None
        reader = open_source(table.source, self._folder, self._sources)
        values: set[Any] = set()
        try:
            for batch in reader.batches(10_000):
                if table.found.name not in (batch.table, f"{table.source.name}.{batch.table}"):
                    continue
                for row in batch.rows:
                    value = row.get(field_name)
                    if value is not None and not isinstance(value, dict | list | float):
                        values.add(value)
                if len(values) > MAX_ROWS:
                    return None
        finally:
            reader.close()
        return values


__all__ = ["MAX_ROWS", "draft_relations"]
