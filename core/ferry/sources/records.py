"""Records into rows: what the JSON and JSON Lines readers share once a record is parsed.

A parsed record becomes a row of the source table: nested objects stay JSON values or
flatten to ``a_b`` columns, and lists of objects become rows of child tables named
``source.field`` that carry their parent's key (``executions_id``) and a ``position``.
:class:`Shaper` does this and hands rows out in batches, parents first; :class:`RecordSource`
(:mod:`ferry.sources.recordsource`) is the readers' common base (the file, the table registry
and the describe, scan and batches passes). Reading the files themselves is left to
:mod:`ferry.sources.json`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Any

from ..errors import SourceError
from .base import Batch, ParentLink, Row, SourceTable
from .recordpick import RecordPick

if TYPE_CHECKING:
    from .recordsource import RecordSource

MAX_DEPTH = 512  # deepest nesting Ferry reads (the JSON reader refuses deeper files)
_KEY_CHECK_LIMIT = 200_000  # top-level keys remembered to catch duplicates (bounds memory)
HINT_DUP = "Remove one of the two: JSON readers disagree on which one wins."


class _Flags(threading.local):
    duplicate: str | None = None  # a key seen twice while ijson built the current item


# Per thread: ijson builds an item and the loop checks the flag within one next() call, so
# both happen on the same thread even when the engine moves the reader between threads.
parse_flags = _Flags()


class StrictDict(dict[str, Any]):
    """ijson's map type: notes a key given twice in one object (json would keep the last)."""

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> None:
        # One C call (setdefault) instead of `in` plus a store: ~20% faster parsing. Raising
        # here would leave ijson's C builder running with an exception set (it surfaces later
        # as a SystemError anywhere), so the loops check the flag instead.
        size = len(self)
        if self.setdefault(key, value) is not value or len(self) == size:
            parse_flags.duplicate = key


DICTS: frozenset[type] = frozenset((dict, StrictDict))
_DICT: frozenset[type] = frozenset((dict,))
_NESTED: frozenset[type] = frozenset((dict, StrictDict, list, Decimal))  # need more than a copy
_TYPE_NAMES: dict[type, str] = {
    str: "string", int: "integer", float: "number", Decimal: "number", bool: "boolean",
    type(None): "null", dict: "object", StrictDict: "object", list: "array",
}  # fmt: skip


def json_kind(value: Any) -> str:
    """A parsed JSON value's kind as a setting's ``value_type`` says it (``string``,
    ``integer``, ``number``, ``boolean``, ``null``, ``object``, ``array``)."""
    return _TYPE_NAMES[type(value)]


def _values(records: list[dict[str, Any]]) -> Iterator[Any]:
    """Every value of every record (C iterators only)."""
    return chain.from_iterable(map(dict.values, records))


def _a(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value), "value")
    return name if name == "null" else ("an " if name[0] in "aeiou" else "a ") + name


def _same_key(own: Any, key: Any) -> bool:
    """Whether a record's own key field repeats the key Ferry gives it: equal, or an integer
    whose canonical text is the entry's key (``{"12": {"id": 12}}``: the row keeps 12, so it
    goes into an integer column; ``"012"`` or ``"12.0"`` is not 12's text and clashes)."""
    if own == key:
        return True
    return type(own) is int and isinstance(key, str) and str(own) == key


def _plain(value: Any) -> Any:
    """A parsed value with plain dicts and floats (ijson's strict dicts and Decimals replaced)."""
    kind = type(value)
    if kind in DICTS:
        if _NESTED.isdisjoint(map(type, value.values())):
            return dict(value) if kind is StrictDict else value
        # map() adds no Python frame per level (a comprehension would): 512 levels fit.
        return dict(zip(value.keys(), map(_plain, value.values()), strict=True))
    if kind is list:
        return value if _NESTED.isdisjoint(map(type, value)) else list(map(_plain, value))
    if kind is Decimal:
        number = float(value)
        return number if math.isfinite(number) else value
    return value


class Shaper:
    """Turns parsed records into rows of the source table and its child tables.

    Rows are buffered per table; :meth:`flush` hands out batches, each table after its
    ancestors, so a target with foreign keys sees a parent row before rows pointing at it.
    """

    def __init__(self, reader: RecordSource, batch_size: int, key_column: str) -> None:
        spec = reader.spec
        self.fail, self.where, self.tables = reader.fail, reader.where, reader.tables
        self.duplicate = reader.duplicate
        self.size = batch_size
        self.key_column = key_column
        self.flatten = spec.nested_objects == "flatten"
        self.lists_as_tables = spec.nested_lists == "tables"
        self.mode = ""  # records: keyed by key_column; position; scalars; entries
        self.count = 0  # records taken so far
        self.seen: set[str] = set()  # top-level keys, to catch one given twice
        self.pending = False  # some table has a full batch
        self.rows: dict[str, list[Row]] = {}
        self.root = self._register(spec.name, (), None, reader.origin)
        self.root_rows = self.rows[spec.name]
        #: ``select``/``unwrap``: which records are rows, and what of them (None: all, whole)
        self.pick = RecordPick(spec.select, spec.unwrap, self.fail, self.where) if (
            spec.select or spec.unwrap) else None  # fmt: skip
        #: with ``pick``: the rows wanted (a sample), counted as picked, not as read
        self.limit: int | None = None
        self.taken = 0  # records picked so far

    def _register(self, name: str, key: tuple[str, ...], parent: ParentLink | None,
                  origin: str) -> SourceTable:  # fmt: skip
        table = self.tables.setdefault(name, SourceTable(name, key=key, parent=parent))
        table.origin = origin
        self.rows.setdefault(name, [])
        return table

    def records(self, recs: Iterable[Any], scalars: bool = True,
                plain: bool = False) -> Iterator[Batch]:  # fmt: skip
        """Rows from the records of an array (the hot loop: a flat record is one dict copy).

        ``plain``: the records are fresh plain dicts and lists from :mod:`json` (no StrictDict,
        no Decimal), which :func:`_plain` leaves as they are. Such a record is the row itself
        unless it holds what :meth:`_fill` reshapes: objects when flattening, lists when they
        become child tables.
        """
        if self.pick is not None:
            yield from self._picked(recs, scalars)
            return
        size, nested, dicts, flags = self.size, _NESTED, DICTS, parse_flags
        if plain:  # and no StrictDict: nothing can note a duplicate key
            dicts, nested, flags = _DICT, self._reshaped(), _Flags()
        rows, count = self.root_rows, self.count
        fast, numbered = self.mode in ("records", "position"), self.mode == "position"
        try:
            for rec in recs:
                if flags.duplicate is not None:
                    raise self.duplicate()
                if fast and type(rec) in dicts and nested.isdisjoint(map(type, rec.values())):
                    if not numbered:
                        rows.append(rec if plain else dict(rec))
                    elif "position" in rec and rec["position"] != count:
                        raise self._clash("position", rec["position"], count, count)
                    else:
                        row = {"position": count}
                        row.update(rec)
                        rows.append(row)
                else:
                    if not self.mode:
                        mode = self._start(rec, scalars)
                        fast, numbered = mode != "scalars", mode == "position"
                    self._record(rec, count)
                count += 1
                if len(rows) >= size or self.pending:
                    yield from self.flush()
                    rows = self.root_rows
        finally:
            self.count = count

    def _picked(self, recs: Iterable[Any], scalars: bool) -> Iterator[Batch]:
        """:meth:`records` for a source that picks its records (``select``/``unwrap``): one
        record at a time; ``count`` still counts every record read (a restart skips them)."""
        pick, flags, count = self.pick, parse_flags, self.count
        assert pick is not None
        try:
            for rec in recs:
                if flags.duplicate is not None:
                    raise self.duplicate()
                row = pick(rec, count)
                count += 1
                if row is None:
                    continue
                if not self.mode:
                    self._start(row, scalars)
                self._record(row, count - 1)
                self.taken += 1
                if len(self.root_rows) >= self.size or self.pending:
                    yield from self.flush()
                if self.limit is not None and self.taken >= self.limit:
                    break
        finally:
            self.count = count

    def _reshaped(self) -> frozenset[type]:
        """The types of plain values :meth:`_fill` changes (the rest it keeps as they are)."""
        flattened = (dict,) if self.flatten else ()
        return frozenset(flattened + ((list,) if self.lists_as_tables else ()))

    def blocks(self, blocks: Iterable[list[Any]]) -> Iterator[Batch]:
        """Rows from lists of plain records (see :meth:`records`). In the common case, records
        keyed by their own field, a list of objects that hold nothing to reshape is taken whole:
        the rows and the batches are those one record at a time would give."""
        reshaped = self._reshaped()
        for block in blocks:
            if (
                self.mode == "records"
                and self.pick is None
                and _DICT.issuperset(map(type, block))
                and (not reshaped or reshaped.isdisjoint(map(type, _values(block))))
            ):
                rows = self.root_rows
                rows.extend(block)
                self.count += len(block)
                if len(rows) >= self.size or self.pending:
                    yield from self.flush()
            else:
                yield from self.records(block, plain=True)

    def _start(self, first: Any, scalars: bool) -> str:
        """Choose the root table's key from the first record."""
        if type(first) not in DICTS and scalars:
            self.mode = "scalars"
        elif type(first) in DICTS and self.key_column in first:
            self.mode = "records"
        else:
            self.mode = "position"
        self.root.key = (self.key_column,) if self.mode == "records" else ("position",)
        return self.mode

    def _record(self, rec: Any, index: int) -> None:
        if self.mode == "scalars":
            self.root_rows.append({"value": _plain(rec), "position": index})
        elif type(rec) not in DICTS:
            raise self.fail(f"{self.where(index)} is {_a(rec)}, not an object",
                            "Every record must be a JSON object ({...}).")  # fmt: skip
        elif self.mode == "position":
            self._add(rec, "position", index, index)
        else:
            self._expand(rec, self.root, {}, index)

    def entries(self, pairs: Iterable[tuple[str, Any]], kv: bool) -> Iterator[Batch]:
        """Rows from the entries of an object: keyed records, or settings (``kv``)."""
        if self.pick is not None:
            raise self.fail(f"{self.where(None)} is an object, but select and unwrap read an "
                            "array of records", "Point root at the array of records.")  # fmt: skip
        rows, size, column, seen = self.root_rows, self.size, self.key_column, self.seen
        flags, self.root.key = parse_flags, (column,)
        try:
            for key, value in pairs:
                if flags.duplicate is not None:
                    raise self.duplicate()
                if key in seen:
                    raise self.fail(f"duplicate key {key!r} in {self.where(None)}", HINT_DUP)
                if len(seen) < _KEY_CHECK_LIMIT:
                    seen.add(key)
                self.count += 1
                if kv:
                    kind = json_kind(value)
                    rows.append({column: key, "value": _plain(value), "value_type": kind})
                elif type(value) not in DICTS:
                    raise self.fail(f"{self.where(key)} is {_a(value)}, not an object",
                                    "Use shape = 'kv' for a map of plain values.")  # fmt: skip
                else:
                    self._add(value, column, key, key)
                if len(rows) >= size or self.pending:
                    yield from self.flush()
                    rows = self.root_rows
        finally:
            self.seen = seen

    def _add(self, rec: Any, column: str, value: Any, unit: Any) -> None:
        """A record whose key column Ferry sets (entry key or position)."""
        if not _NESTED.isdisjoint(map(type, rec.values())):
            self._expand(rec, self.root, {column: value}, unit)
        elif column in rec and not _same_key(rec[column], value):
            raise self._clash(column, rec[column], value, unit)
        else:
            row = {column: value}
            row.update(rec)
            self.root_rows.append(row)

    def _clash(self, name: str, own: Any, ours: Any, unit: Any) -> SourceError:
        return self.fail(
            f"{self.where(unit)} has its own {name!r} ({own!r}), which differs from the "
            f"{name!r} Ferry gives the row ({ours!r})",
            "Set key_column to a name the records do not use."
            if name == self.key_column
            else "Rename the field, or keep nested values as JSON (nested_objects = 'json', "
            "nested_lists = 'json').",
        )

    def _expand(self, rec: Any, table: SourceTable, row: Row, unit: Any) -> None:
        """Add a record with nested values: flatten objects, split lists of objects off."""
        children: list[tuple[str, list[Any]]] = []
        self._fill(row, rec, "", table.name, children, unit)
        rows = self.rows[table.name]
        rows.append(row)  # the parent before its children
        self.pending = self.pending or len(rows) >= self.size
        for field, items in children:
            child = self._child(table, field)
            assert child.parent is not None
            link = zip(child.parent.columns, child.parent.parent_columns, strict=True)
            base = {column: row.get(parent_column) for column, parent_column in link}
            for position, item in enumerate(items):
                self._expand(item, child, {**base, "position": position}, unit)

    def _fill(self, row: Row, rec: Any, prefix: str, table: str,
              children: list[tuple[str, list[Any]]], unit: Any) -> None:  # fmt: skip
        for key, value in rec.items():
            name = prefix + key
            kind = type(value)
            if kind in DICTS and self.flatten:
                self._fill(row, value, name + "_", table, children, unit)
                continue
            if kind is list and self.lists_as_tables:
                if value and DICTS.issuperset(map(type, value)):
                    children.append((name, value))
                    continue
                if not value and f"{table}.{name}" in self.tables:
                    continue  # an empty list of a known child table: no rows, no column
            value = _plain(value)
            if (
                name in row
                and row[name] != value
                and not (name == self.key_column and _same_key(value, row[name]))
            ):
                raise self._clash(name, value, row[name], unit)
            row[name] = value

    def _child(self, parent: SourceTable, field: str) -> SourceTable:
        name = f"{parent.name}.{field}"
        prefix = parent.name.rsplit(".", 1)[-1] + "_"
        columns = tuple(prefix + column for column in parent.key)
        link = ParentLink(parent.name, columns, parent.key)
        return self._register(name, (*columns, "position"), link, self.root.origin)

    def flush(self, final: bool = False) -> Iterator[Batch]:
        """Full batches (everything when ``final``), each table after its ancestors."""
        size, self.pending = self.size, False
        due = [n for n, rows in self.rows.items() if rows and (final or len(rows) >= size)]
        # Registration order puts a parent before its children; a due table's ancestors go
        # out whole with it, so no child row reaches the target before its parent row.
        for name, rows in list(self.rows.items()):
            ancestor = any(d.startswith(name + ".") for d in due)
            if not rows or not (ancestor or name in due):
                continue
            cut = len(rows) if final or ancestor else len(rows) - len(rows) % size
            self.rows[name] = rows[cut:]
            self.root_rows = self.rows[self.root.name]
            if cut == len(rows) <= size:
                yield Batch(name, rows)
            else:
                for start in range(0, cut, size):
                    yield Batch(name, rows[start : min(start + size, cut)])
