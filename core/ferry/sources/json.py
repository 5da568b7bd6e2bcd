"""JSON and JSON Lines sources, streamed so memory stays flat whatever the file size.

A JSON document is read with ijson's C backend: ``items``/``kvitems`` build each record in C
and this module only reshapes records into rows. Three layouts (``shape``) are understood:
``records`` (an array), ``keyed`` (an object of objects keyed by id) and ``kv`` (a flat
settings map). Lists of objects inside records become child tables that carry their parent's
key, so ``executions.json`` feeds ``executions`` and ``executions.steps`` in one pass.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from decimal import Decimal
from itertools import accumulate, islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import ijson

from ..errors import SourceError
from ..values import TypeTracker
from .base import Batch, ParentLink, Row, SourceReader, SourceTable
from .text import BOM, file_error

if TYPE_CHECKING:
    from ..plan import SourceSpec

CHUNK = 4096  # bytes handed to ijson per read: bounds how deep one chunk can nest
MAX_DEPTH = 512
_REPARSE_LIMIT = 64 * 1024 * 1024  # below this, a bad file is re-read to find line and column
_SAMPLE = 100  # records describe() looks at
_DETECT = 20  # values that decide between shapes keyed and kv
_KEY_CHECK_LIMIT = 200_000  # top-level keys remembered to catch duplicates (bounds memory)
_OVERFLOW = ("integer overflow", "numeric (floating point) overflow")
_HINT_JSON = "Fix the file at the position given (NaN and Infinity are not JSON: use null)."
_HINT_UTF8 = "Convert the file to UTF-8 (e.g. `iconv -f cp1252 -t utf-8`)."


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _TooDeep(Exception):
    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _Constant(ValueError):
    pass


_seen = threading.local()  # per thread: each reader runs in one worker thread


class _StrictDict(dict[str, Any]):
    """ijson's map type: refuses a key given twice in one object (json would keep the last)."""

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self:
            # Raising here would leave ijson's C builder going with an exception set (it
            # surfaces later as a SystemError anywhere), so note it for _stream to raise.
            _seen.duplicate = key
        dict.__setitem__(self, key, value)


_DICTS: frozenset[type] = frozenset((dict, _StrictDict))
_NESTED: frozenset[type] = frozenset(
    (dict, _StrictDict, list, Decimal)
)  # values that need more than a copy
_TYPE_NAMES: dict[type, str] = {
    str: "string", int: "integer", float: "number", Decimal: "number", bool: "boolean",
    type(None): "null", dict: "object", _StrictDict: "object", list: "array",
}  # fmt: skip


def _a(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value), "value")
    return name if name == "null" else ("an " if name[0] in "aeiou" else "a ") + name


def _plain(value: Any) -> Any:
    """A parsed value with plain dicts and floats (ijson's strict dicts and Decimals replaced)."""
    kind = type(value)
    if kind in _DICTS:
        if _NESTED.isdisjoint(map(type, value.values())):
            return dict(value) if kind is _StrictDict else value
        return {k: _plain(v) for k, v in value.items()}
    if kind is list:
        return value if _NESTED.isdisjoint(map(type, value)) else [_plain(v) for v in value]
    if kind is Decimal:
        number = float(value)
        return number if math.isfinite(number) else value
    return value


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class _GuardedReader:
    """Feeds ijson 4 KiB at a time and stops documents nested deeper than MAX_DEPTH.

    ijson keeps a prefix string per level, so its memory grows with depth squared and 100000
    ``[`` would take the process down. Depth is counted with ``bytes.count`` (C speed), which
    also counts brackets inside strings: a string with many unmatched ``[`` can trip the limit.
    That errs on the side of refusing, which is acceptable for application state.
    """

    def __init__(self, raw: IO[bytes], offset: int) -> None:
        self._raw = raw
        self.offset = offset
        self._depth = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        data = self._raw.read(CHUNK if size < 0 else min(size, CHUNK))
        depth = self._depth
        opens = data.count(b"[") + data.count(b"{")
        if depth + opens > MAX_DEPTH:
            # A dense chunk: follow its brackets alone to find the real peak.
            steps = map(_STEP.__getitem__, data.translate(None, _NOT_BRACKETS))
            if max(accumulate(steps, initial=depth)) > MAX_DEPTH:
                for index, byte in enumerate(data):
                    depth += _STEP.get(byte, 0)
                    if depth > MAX_DEPTH:
                        raise _TooDeep(self.offset + index)
        self._depth = max(0, self._depth + opens - data.count(b"]") - data.count(b"}"))
        self.offset += len(data)
        return data


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _strict_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_strict_pairs, parse_constant=_refuse_constant)
_CONSTANT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.S)


def _line_col(text: str, pos: int) -> str:
    return f"line {text.count(chr(10), 0, pos) + 1}, column {pos - text.rfind(chr(10), 0, pos)}"


def _diagnose(data: bytes) -> tuple[str, str] | None:
    """What is wrong with a JSON document and where (line and column), using stdlib json."""
    skip = 3 if data.startswith(BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start + skip} cannot be decoded)", _HINT_UTF8
    if not text.strip():
        return "file is empty", "Remove this source from the plan or give the file content."
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except _Constant as exc:
        match = next(m for m in _CONSTANT_TOKEN.finditer(text) if m.group(1))
        return (
            f"{exc} at {_line_col(text, match.start(1))} is not valid JSON",
            "Replace NaN and Infinity with null (JSON has no such numbers).",
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            return f"the JSON ends too early at {where} (truncated file?)", _HINT_JSON
        return f"not valid JSON at {where}: {exc.msg}", _HINT_JSON
    except RecursionError:
        return f"nested deeper than {MAX_DEPTH} levels", "Ferry does not read such documents."
    return None


class _Shaper:
    """Turns parsed records into rows of the source table and its child tables.

    Rows are buffered per table; :meth:`flush` hands out batches, parents before children, so
    a target with foreign keys always sees a parent row before the rows that point at it.
    """

    def __init__(
        self,
        reader: _RecordSource,
        batch_size: int,
        where: Callable[[Any], str],
        scalars_allowed: bool = True,
    ) -> None:
        spec = reader.spec
        self.fail = reader.fail
        self.tables = reader.tables
        self.size = batch_size
        self.where = where
        self.key_column = spec.key_column or "id"
        self.flatten = spec.nested_objects == "flatten"
        self.lists_as_tables = spec.nested_lists == "tables"
        self.scalars_allowed = scalars_allowed
        self.mode = ""  # records, position (records keyed by position), scalars
        self.rows: dict[str, list[Row]] = {}
        self.root = self._register(spec.name, (), None, reader.origin)
        self.root_rows = self.rows[spec.name]

    def _register(self, name: str, key: tuple[str, ...], parent: ParentLink | None,
                  origin: str) -> SourceTable:  # fmt: skip
        table = self.tables.setdefault(name, SourceTable(name, key=key, parent=parent))
        table.origin = origin
        self.rows.setdefault(name, [])
        return table

    def _start(self, first: Any) -> None:
        """Choose the root table's key from the first record."""
        if type(first) not in _DICTS:
            self.mode, key = ("scalars" if self.scalars_allowed else "position"), ("position",)
        elif self.key_column in first:
            self.mode, key = "records", (self.key_column,)
        else:
            self.mode, key = "position", ("position",)
        self.root.key = key

    def keyed_root(self, key_column: str) -> None:
        """Shapes keyed and kv: the root table is keyed by the object's keys."""
        self.key_column = key_column
        self.root.key = (key_column,)

    def record(self, rec: Any, index: int) -> bool:
        """Add one record of an array; True when some table has a full batch."""
        if not self.mode:
            self._start(rec)
        if self.mode == "scalars":
            self.root_rows.append({"value": _plain(rec), "position": index})
            return len(self.root_rows) >= self.size
        if type(rec) not in _DICTS:
            raise self.fail(
                f"{self.where(index)} is {_a(rec)}, not an object",
                "Every record must be a JSON object ({...}).",
            )
        if self.mode == "position":
            return self._add(rec, "position", index, index)
        if _NESTED.isdisjoint(map(type, rec.values())):
            self.root_rows.append(dict(rec))
            return len(self.root_rows) >= self.size
        self._expand(rec, self.root, {}, index)
        return self._full()

    def entry(self, key: str, rec: Any) -> bool:
        """Add one entry of a keyed object; True when some table has a full batch."""
        if type(rec) not in _DICTS:
            raise self.fail(
                f"{self.where(key)} is {_a(rec)}, not an object",
                "Use shape = 'kv' for a map of plain values.",
            )
        return self._add(rec, self.key_column, key, key)

    def setting(self, key: str, value: Any) -> bool:
        """Add one entry of a settings map as {key, value, value_type}."""
        rows = self.root_rows
        rows.append({self.key_column: key, "value": _plain(value),
                     "value_type": _TYPE_NAMES[type(value)]})  # fmt: skip
        return len(rows) >= self.size

    def _add(self, rec: Any, column: str, value: Any, unit: Any) -> bool:
        if _NESTED.isdisjoint(map(type, rec.values())):
            if column in rec and rec[column] != value:
                raise self._clash(column, rec[column], value, unit)
            row = {column: value}
            row.update(rec)
            self.root_rows.append(row)
            return len(self.root_rows) >= self.size
        self._expand(rec, self.root, {column: value}, unit)
        return self._full()

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
        self.rows[table.name].append(row)  # the parent before its children
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
            if kind in _DICTS and self.flatten:
                self._fill(row, value, name + "_", table, children, unit)
                continue
            if kind is list and self.lists_as_tables:
                if value and _DICTS.issuperset(map(type, value)):
                    children.append((name, value))
                    continue
                if not value and f"{table}.{name}" in self.tables:
                    continue  # no rows for a known child table
            value = _plain(value)
            if name in row and row[name] != value:
                raise self._clash(name, value, row[name], unit)
            row[name] = value

    def _child(self, parent: SourceTable, field: str) -> SourceTable:
        name = f"{parent.name}.{field}"
        table = self.tables.get(name)
        if table is None or name not in self.rows:
            prefix = parent.name.rsplit(".", 1)[-1] + "_"
            columns = tuple(prefix + column for column in parent.key)
            link = ParentLink(parent.name, columns, parent.key)
            table = self._register(name, (*columns, "position"), link, self.root.origin)
        return table

    def _full(self) -> bool:
        return any(len(rows) >= self.size for rows in self.rows.values())

    def flush(self, final: bool = False) -> Iterator[Batch]:
        """Batches of every full table (every table when ``final``), each after its parents."""
        size = self.size
        due = [n for n, rows in self.rows.items() if rows and (final or len(rows) >= size)]
        # Registration order puts a parent before its children; a due table's ancestors go
        # out with it so no child row reaches the target before its parent row.
        for name, rows in list(self.rows.items()):
            if rows and any(d == name or d.startswith(name + ".") for d in due):
                self.rows[name] = []
                self.root_rows = self.rows[self.root.name]
                if len(rows) <= size:
                    yield Batch(name, rows)
                else:
                    for start in range(0, len(rows), size):
                        yield Batch(name, rows[start : start + size])


class _RecordSource(SourceReader):
    """What JSON and JSON Lines readers share: a file, a table registry and the passes."""

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self.path = base_dir / (spec.path or "")
        self.origin = spec.path or ""
        #: every table seen so far, children included (describe samples; batches may add)
        self.tables: dict[str, SourceTable] = {}

    def fail(self, what: str, hint: str) -> SourceError:
        """A SourceError about this file."""
        return SourceError(f"{self.path}: {what}", hint)

    def _run(self, batch_size: int, limit: int | None = None) -> Iterator[Batch]:
        raise NotImplementedError

    def _passing(self, batch_size: int, limit: int | None = None) -> Iterator[Batch]:
        try:
            yield from self._run(batch_size, limit)
        except RecursionError:
            raise self.fail(
                f"nested deeper than Python can follow (over {MAX_DEPTH} levels)",
                "Ferry does not read such documents; flatten the data first.",
            ) from None

    def describe(self) -> list[SourceTable]:
        """Tables and column types from the first records (child tables included)."""
        trackers: dict[str, TypeTracker] = {}
        for batch in self._passing(1 << 30, _SAMPLE):
            tracker = trackers.setdefault(batch.table, TypeTracker())
            for row in batch.rows:
                tracker.add(row)
        return [
            SourceTable(
                t.name,
                trackers[t.name].result() if t.name in trackers else {},
                t.key,
                t.parent,
                None,
                t.origin,
            )  # fmt: skip
            for t in self.tables.values()
        ]

    def batches(self, batch_size: int) -> Iterator[Batch]:
        """Rows of the source table and its child tables, interleaved, parents first."""
        return self._passing(batch_size)

    def scan(self, batch_size: int = 5000) -> list[SourceTable]:
        """Exact columns and counts, including child tables first seen past the sample."""
        trackers: dict[str, TypeTracker] = {}
        counts: dict[str, int] = {}
        for batch in self.batches(batch_size):
            tracker = trackers.setdefault(batch.table, TypeTracker())
            for row in batch.rows:
                tracker.add(row)
            counts[batch.table] = counts.get(batch.table, 0) + len(batch.rows)
        return [
            SourceTable(
                t.name,
                trackers[t.name].result() if t.name in trackers else {},
                t.key,
                t.parent,
                counts.get(t.name, 0),
                t.origin,
            )  # fmt: skip
            for t in self.tables.values()
        ]

    def files(self) -> list[Path]:
        """The one file read."""
        return [self.path]


_SCALAR_EVENTS = {"string": "a string", "integer": "a number", "double": "a number",
                  "number": "a number", "boolean": "a boolean", "null": "null"}  # fmt: skip


def _yajl_problem(exc: Exception, offset: int) -> tuple[str, str]:
    """What ijson's (yajl's) error says, for files too big to re-read for line and column."""
    raw = exc.args[0] if exc.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    first = (text.strip().splitlines() or ["parse error"])[0].rstrip(".")
    if "premature EOF" in first:
        return f"the JSON ends too early near byte {offset} (truncated file?)", _HINT_JSON
    if "UTF8" in first:
        return f"not UTF-8 text (near byte {offset})", _HINT_UTF8
    if "trailing garbage" in first:
        return f"more data follows the JSON document near byte {offset}", _HINT_JSON
    return f"not valid JSON near byte {offset} ({first})", _HINT_JSON


class JsonSource(_RecordSource):
    """A JSON document: an array of records, an object keyed by id, or a settings map.

    ``root`` (dotted) picks the collection inside a larger document. Nested objects stay JSON
    values or flatten to ``a_b`` columns; lists of objects become child tables named
    ``source.field`` (or stay JSON values with ``nested_lists = "json"``).
    """

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self._root = spec.root or ""
        self._label = f"$.{self._root}" if self._root else "$"
        self._shape = ""
        self._exact = False  # set once a number overflowed yajl's 64-bit fast path

    def _where(self, unit: Any) -> str:
        if isinstance(unit, int):
            return f"{self._label}[{unit}]"
        return f"{self._label}[{json.dumps(unit, ensure_ascii=False)}]"

    @contextmanager
    def _open(self) -> Iterator[_GuardedReader]:
        try:
            raw = self.path.open("rb")
        except OSError as exc:
            raise file_error(self.path, exc) from None
        with raw:
            head = raw.read(4)
            if not head:
                raise self.fail("file is empty", "Give the file content or remove the source.")
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise self.fail("is UTF-16 text; JSON must be UTF-8", _HINT_UTF8)
            start = 3 if head.startswith(BOM) else 0  # a BOM is not JSON but editors add it
            raw.seek(start)
            yield _GuardedReader(raw, start)

    def _error(self, exc: BaseException, offset: int, unit: str) -> SourceError:
        """The SourceError for a failure while ijson reads (ijson may wrap it in SystemError)."""
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, _DuplicateKey | _TooDeep):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, _TooDeep):
            return self.fail(
                f"nested deeper than {MAX_DEPTH} levels at byte {cause.offset}",
                "Ferry does not read documents nested this deep; check the file is the "
                "one you meant.",
            )
        if isinstance(cause, _DuplicateKey):
            return self.fail(
                f"duplicate key {cause.key!r} in {unit}",
                "Remove one of the two: JSON readers disagree on which one wins.",
            )
        found = None
        try:
            if self.path.stat().st_size <= _REPARSE_LIMIT:
                found = _diagnose(self.path.read_bytes())
        except OSError:
            pass
        return self.fail(*(found or _yajl_problem(exc if isinstance(exc, Exception) else
                                                  Exception(), offset)))  # fmt: skip

    def _root_kind(self) -> str:
        """'array' or 'object': what the root holds. Reads only up to the root's start."""
        top_keys: list[str] = []
        reader: _GuardedReader | None = None
        try:
            with self._open() as reader:
                for prefix, event, value in ijson.parse(reader, use_float=False, buf_size=CHUNK):
                    if prefix == self._root and event != "map_key":
                        if event in ("start_array", "start_map"):
                            return "array" if event == "start_array" else "object"
                        raise self.fail(
                            f"{self._label} holds {_SCALAR_EVENTS.get(event, event)}, "
                            "not an array or object",
                            "Point root at the list or object of records.",
                        )
                    if prefix == "" and event == "map_key" and len(top_keys) < 10:
                        top_keys.append(value)
        except (ijson.JSONError, SystemError, _TooDeep) as exc:
            raise self._error(exc, reader.offset if reader else 0, self._label) from None
        keys = ", ".join(repr(k) for k in top_keys)
        raise self.fail(
            f"has no {self._root!r} (the source's root)",
            f"Set root to one of the top-level keys: {keys}." if keys else "Remove root.",
        )

    def _layout(self) -> str:
        """The shape read: records, keyed or kv (auto: decided once from the document)."""
        if self._shape:
            return self._shape
        kind = self._root_kind()
        shape = self.spec.shape
        if shape != "auto":
            wanted = "array" if shape == "records" else "object"
            if kind != wanted:
                raise self.fail(
                    f"shape {shape!r} needs an {wanted} at {self._label}, but it holds an {kind}",
                    "Set shape = 'auto', or the shape that matches the file.",
                )
        elif kind == "array":
            shape = "records"
        else:
            with closing(self._stream(kv=True)) as pairs:
                first = [value for _, value in islice(pairs, _DETECT)]
            shape = "keyed" if first and all(type(v) in _DICTS for v in first) else "kv"
        self._shape = shape
        return shape

    def _stream(self, kv: bool) -> Generator[Any, None, None]:
        """ijson's items (or key/value pairs) at the root, objects built in C."""
        prefix = self._root if kv else (f"{self._root}.item" if self._root else "item")
        parse = ijson.kvitems if kv else ijson.items
        done = 0
        last: Any = None
        while True:
            exact = self._exact
            reader: _GuardedReader | None = None
            try:
                with self._open() as reader:
                    items = parse(reader, prefix, map_type=_StrictDict, use_float=not exact,
                                  buf_size=CHUNK)  # fmt: skip
                    _seen.duplicate = None
                    for number, item in enumerate(items):
                        if _seen.duplicate is not None:
                            raise _DuplicateKey(_seen.duplicate)
                        if number >= done:  # after a restart, skip what was handed out
                            done += 1
                            last = item
                            yield item
                return
            except (ijson.JSONError, SystemError, _DuplicateKey, _TooDeep) as exc:
                if not exact and any(o in str(exc) for o in _OVERFLOW):
                    # yajl's fast numbers stop at 64 bits; exact mode gives big ints and
                    # Decimals (made floats by _plain). Re-read, skipping what was yielded.
                    self._exact = True
                    continue
                if not kv:
                    unit = self._where(done)
                elif last is None:
                    unit = f"the first entry of {self._label}"
                else:
                    unit = f"the entry after {self._where(last[0])}"
                raise self._error(exc, reader.offset if reader else 0, unit) from None

    def _run(self, batch_size: int, limit: int | None = None) -> Iterator[Batch]:
        shape = self._layout()
        shaper = _Shaper(self, batch_size, self._where)
        if shape == "records":
            with closing(self._stream(kv=False)) as stream:
                record = shaper.record
                for index, rec in enumerate(islice(stream, limit)):
                    if record(rec, index):
                        yield from shaper.flush()
        else:
            shaper.keyed_root(self.spec.key_column or ("id" if shape == "keyed" else "key"))
            add = shaper.entry if shape == "keyed" else shaper.setting
            seen: set[str] = set()
            with closing(self._stream(kv=True)) as stream:
                for key, value in islice(stream, limit):
                    if key in seen:
                        raise self.fail(
                            f"duplicate key {key!r} in {self._label}",
                            "Remove one of the two: JSON readers disagree on which one wins.",
                        )
                    if len(seen) < _KEY_CHECK_LIMIT:
                        seen.add(key)
                    if add(key, value):
                        yield from shaper.flush()
        yield from shaper.flush(final=True)


class JsonLinesSource(_RecordSource):
    """JSON Lines: one object per line, blank lines skipped, read like an array of records."""

    def __init__(self, spec: SourceSpec, base_dir: Path) -> None:
        super().__init__(spec, base_dir)
        self._line = 0

    def _where(self, unit: Any) -> str:
        return f"line {self._line}"

    def _run(self, batch_size: int, limit: int | None = None) -> Iterator[Batch]:
        shaper = _Shaper(self, batch_size, self._where, scalars_allowed=False)
        record, decode = shaper.record, _DECODER.decode
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise file_error(self.path, exc) from None
        with handle:
            index = offset = 0
            for number, line in enumerate(handle, 1):
                start, offset = offset, offset + len(line)
                if number == 1 and line.startswith(BOM):
                    line, start = line[3:], 3
                if not line or line.isspace():
                    continue
                self._line = number
                try:
                    rec = decode(line.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    problem = f"not UTF-8 text (byte {start + exc.start} cannot be decoded)"
                    raise self.fail(f"line {number}: {problem}", _HINT_UTF8) from None
                except _Constant as exc:
                    text = line.decode("utf-8")
                    match = next(m for m in _CONSTANT_TOKEN.finditer(text) if m.group(1))
                    raise self.fail(
                        f"line {number}, column {match.start(1) + 1}: {exc} is not valid JSON",
                        "Replace NaN and Infinity with null (JSON has no such numbers).",
                    ) from None
                except json.JSONDecodeError as exc:
                    raise self.fail(
                        f"line {number}, column {exc.colno}: not valid JSON ({exc.msg})",
                        "Each line must hold one complete JSON object.",
                    ) from None
                except _DuplicateKey as exc:
                    raise self.fail(
                        f"line {number}: duplicate key {exc.key!r}",
                        "Remove one of the two: JSON readers disagree on which one wins.",
                    ) from None
                if record(rec, index):
                    yield from shaper.flush()
                index += 1
                if limit is not None and index >= limit:
                    break
        yield from shaper.flush(final=True)
