"""Turning a source row into a target row: column mapping, transforms and casts.

Each target column takes its value in this order of steps, as the plan declares them:
``from`` / ``const`` / ``now`` -> ``parse_json`` -> ``json_path`` -> ``default`` -> ``ops``
(trim, lower, upper) -> ``lookup`` -> ``is_not_null`` -> cast to the column's type. A step
that fails rejects the row with the reason, or (``on_error = "warn"``) uses ``fallback`` and
records a warning.
A table may name a Python ``hook`` that sees (and may rewrite, drop or reject) each source row
before its columns are mapped (:mod:`ferry.values.hooks`); ``json_path`` steps are
:mod:`ferry.values.jsonpath`'s. Both are handed out here too.
Long because :class:`RowMapper` is one object holding every step above for every column,
compiled once per table; its helpers (hooks, JSON paths) have modules of their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ..errors import PlanError
from ..shape.namefold import target_column
from .epochs import is_number, read_number
from .fastcells import compile_cell, compile_general
from .hooks import RowHook, load_hook
from .intervals import as_moment, duration, interval_column
from .jsonpath import compile_json_path, follow_json_path
from .logical import CastError, LogicalType, cast
from .textbytes import BadText, resolve
from .uuidtext import hex_uuid_column, uuid_of_bytes, uuid_text
from .walltime import wall_time

if TYPE_CHECKING:
    from ..plan import ColumnSpec, TableSpec
    from ..shape.schema import TableInfo

#: column options that keep a ``from`` column plain (a copy, cast to the column's type)
PLAIN_FIELDS = frozenset({"from_", "cast", "on_error", "fallback", "integers", "invalid_text"})


class RowRefused(Exception):
    """The mapper refuses a row; ``reason`` says which column and why. The run records it as
    a reject and emits a :class:`ferry.events.RowRejected` event (the event, not this)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refused_key(spec: TableSpec, key: Sequence[str], row: dict[str, Any]) -> str:
    """A refused source row's key as text, by the source fields ``spec`` maps to the ``key``
    columns (the fields of the same names otherwise): ``id=42``."""
    fields = [c.from_ or name for name, c in spec.columns.items() if name in key]
    return ", ".join(f"{k}={row.get(k)!r}" for k in fields or key) or "(no key)"


def _lookup_text(value: Any) -> str | None:
    """How a value is named in a ``lookup`` table: text as it is, ``true``/``false``, numbers
    as written; None for values a TOML key cannot name (objects, lists)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _parse_json_text(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not valid JSON")

    return json.loads(text, parse_constant=refuse)


@dataclass
class _Column:
    name: str
    spec: ColumnSpec
    type: LogicalType
    steps: list[str | int] | None
    #: the target column's own type when ``cast`` names another: the cast value is then
    #: converted to it, since the target's adapters take values of the column's type
    stored: LogicalType | None = None
    #: text going into a ``uuid`` column: written in PostgreSQL's own spelling (lower case,
    #: dashed), so a re-run and verify compare what the column gives back
    uuid: bool = False
    #: a 32-character text column: a UUID value (a PostgreSQL ``uuid``) goes in as its 32 hex
    #: digits, the spelling SQLAlchemy's ``Uuid`` and Django's ``UUIDField`` keep there
    uuid_hex: bool = False
    #: a PostgreSQL ``interval`` column: a date-time since 1970-01-01 (SQLAlchemy's
    #: ``Interval`` in SQLite) goes in as the duration it stands for
    interval: bool = False


class RowMapper:
    """Maps source rows of one table spec onto the target table's columns.

    ``columns`` is the order of values in the tuples :meth:`map` returns; ``now_columns`` are
    filled with the run's start time and are left out of change detection, so a re-run on
    unchanged data changes nothing.
    """

    def __init__(
        self,
        spec: TableSpec,
        target: TableInfo,
        source_columns: Iterable[str],
        now: datetime,
        hook: RowHook | None = None,
        warn: Callable[[str, str], None] | None = None,
        timezone: tzinfo | None = None,
        declared_times: Collection[str] = (),
        key_fields: Collection[str] = (),
    ) -> None:
        self.spec = spec
        #: source fields a database declares as DATETIME/TIMESTAMP/DATE: a number in one is
        #: read only as the column's ``integers`` says (:mod:`ferry.values.epochs`)
        self.declared_times = frozenset(declared_times)
        self.target = target
        self.now = now
        #: the zone of naive source timestamps (None: leave them naive, read as UTC)
        self.timezone = timezone
        self.hook = hook
        #: called with a value warning (naming the row) and the row's key
        self.warn = warn or (lambda message, key: None)
        #: problems of the row being mapped, warned once its key is known (:meth:`_checked`)
        self._pending: list[str] = []
        plan_columns = dict(spec.columns)
        if spec.map_all:
            # Here, not at the top: a JSON worker's mapper (map_all off) runs without the plan
            # models and pydantic (ferry.load.specviews).
            from ..plan import ColumnSpec

            taken = {c.from_ for c in plan_columns.values() if c.from_ is not None}
            taken.update(spec.ignore)  # fields the plan leaves out on purpose
            fields = list(source_columns)
            for name in fields:
                fed = name if name in target.columns else target_column(name, target.columns)
                # A folded name (``trackid``) is fed by ``TrackId`` unless a field is so spelled.
                if fed is None or (fed != name and fed in fields):
                    continue
                if target.columns[fed].generated:
                    continue  # the target computes it from the row's other columns
                if fed not in plan_columns and name not in taken:
                    plan_columns[fed] = ColumnSpec.model_validate({"from": name})
        self._columns: list[_Column] = []
        for name, column in plan_columns.items():
            if name not in target.columns:
                raise PlanError(
                    f"table {spec.name!r} has no column {name!r} (the plan maps a value to it)",
                    hint=f"Columns of {spec.name}: {', '.join(target.columns)}",
                )
            if target.columns[name].generated:
                raise PlanError(
                    f"table {spec.name!r}: column {name!r} is computed by the target database "
                    "(GENERATED ALWAYS AS), so no value can be written to it",
                    hint=f"Remove {name!r} from the table's [tables.columns].",
                )
            declared = column.cast or target.columns[name].type
            steps = compile_json_path(column.json_path) if column.json_path else None
            stored = target.columns[name].type
            mapped = _Column(name, column, declared, steps, stored if stored != declared else None)
            mapped.uuid = declared == "text" and target.columns[name].sql_type.upper() == "UUID"
            mapped.uuid_hex = declared == "text" and hex_uuid_column(target.columns[name].sql_type)
            mapped.interval = interval_column(target.columns[name].sql_type)
            if column.fallback is not None:
                try:
                    self._typed(mapped, column.fallback)
                except CastError as exc:
                    raise PlanError(
                        f"table {spec.name!r}, column {name!r}: the fallback {exc}",
                        hint=f"Give a fallback that is a valid {declared}.",
                    ) from None
            self._columns.append(mapped)
        self.columns = [c.name for c in self._columns]
        #: integer columns fed straight from a text field that is the source's key: a key
        #: goes in only as an integer's own text ('12', not '012' or ' 12', which would
        #: change it and could make it equal another key)
        text_fields = source_columns if isinstance(source_columns, dict) else {}
        self.integer_keys = frozenset(
            c.name
            for c in self._columns
            if c.type == "integer"
            and c.spec.from_ in key_fields
            and c.steps is None
            and text_fields.get(c.spec.from_, "text") == "text"
        )
        self.now_columns = {c.name for c in self._columns if c.spec.now}
        self.source_fields = {c.spec.from_ for c in self._columns if c.spec.from_ is not None}
        self.key = list(spec.key)
        self._key_index = [self.columns.index(k) for k in self.key if k in self.columns]
        self._skip_index = [self.columns.index(c) for c in spec.skip_when_null if c in self.columns]

    def whole_rows(self) -> None:
        """Key by every column, as verify compares a table loaded without a key (``append``,
        ``replace``): an empty column is then one of the row's values, not a missing key
        (each row with one was counted as rejected, never compared: a deleted row passed)."""
        self._key_index = []

    def mapped_columns(self) -> list[_Column]:
        """The target columns with their plan options, logical type and JSON path."""
        return list(self._columns)

    def key_of(self, values: tuple[Any, ...] | dict[str, Any]) -> str:
        """A readable key for messages: ``id=42`` or ``a=1, b=x``."""
        if isinstance(values, dict):
            return ", ".join(f"{k}={values.get(k)!r}" for k in self.key) or "(no key)"
        return ", ".join(f"{self.columns[i]}={values[i]!r}" for i in self._key_index)

    def map(self, row: dict[str, Any]) -> tuple[Any, ...] | None:
        """The target values for one source row, None when the row is skipped.

        Raises :class:`RowRefused` with the reason when the row cannot be loaded.
        """
        self._pending.clear()  # a row rejected half-way leaves its warnings unsaid
        if self.hook is not None:
            hooked = self._hooked(row)
            if hooked is None:
                return None
            row = hooked
        return self._checked(tuple(self._value(column, row) for column in self._columns))

    def row_function(
        self, adapters: Sequence[Callable[[Any], Any]]
    ) -> Callable[[dict[str, Any]], tuple[Any, ...] | None]:
        """:meth:`map` followed by the target's ``adapters`` (one per column), compiled once
        (:mod:`ferry.values.fastcells`): same values, rejects and skips, several times faster. Build
        it again after :meth:`add_column`."""
        cells = []
        for column, adapt in zip(self._columns, adapters, strict=True):
            spec = column.spec

            def slow(row: dict[str, Any], column: _Column = column) -> Any:
                return self._value(column, row)

            plain = spec.from_ is not None and spec.model_fields_set <= PLAIN_FIELDS
            plain = plain and column.name not in self.integer_keys
            # a ``datetime`` column's offsets are dropped with a warning: the general path
            if (
                plain
                and column.steps is None
                and column.stored is None
                and column.type != "datetime"
                and not column.uuid
                and not column.interval
            ):
                assert spec.from_ is not None
                cells.append(compile_cell(column.type, spec.from_, adapt, slow, self.timezone))
            else:
                cells.append(compile_general(adapt, slow))
        checked, hook = self._checked, self._hooked if self.hook is not None else None
        pending = self._pending

        def map_row(row: dict[str, Any]) -> tuple[Any, ...] | None:
            if pending:  # a row rejected half-way leaves its warnings unsaid
                pending.clear()
            if hook is not None:
                hooked = hook(row)
                if hooked is None:
                    return None
                row = hooked
            return checked(tuple([cell(row) for cell in cells]))

        return map_row

    def _checked(self, values: tuple[Any, ...]) -> tuple[Any, ...] | None:
        for index in self._key_index:
            if values[index] is None:
                raise RowRefused(f"key column {self.columns[index]!r} is empty")
        for index in self._skip_index:
            if values[index] is None:
                self._pending.clear()
                return None
        if self._pending:
            self._warn_row(values)
        return values

    def _warn_row(self, values: tuple[Any, ...]) -> None:
        """Say the row's replaced values, naming its key (known once the row is mapped)."""
        key = self.key_of(values)
        row = f"row {key}, " if key else ""
        for problem in self._pending:
            self.warn(f"{self.spec.name}: {row}{problem}", key)
        self._pending.clear()

    def _hooked(self, row: dict[str, Any]) -> dict[str, Any] | None:
        assert self.hook is not None
        try:
            return self.hook(row)
        except (ValueError, TypeError, LookupError) as exc:
            raise RowRefused(f"hook {self.spec.hook}: {exc}") from None
        except Exception as exc:  # a bug in the hook stops the run with a clear message
            raise PlanError(
                f"hook {self.spec.hook} of table {self.spec.name!r} failed: "
                f"{type(exc).__name__}: {exc}",
                hint="Fix the hook; it rejects a row by raising ValueError, "
                "TypeError, KeyError or IndexError. The target is unchanged.",
            ) from exc

    def _value(self, column: _Column, row: dict[str, Any]) -> Any:
        spec = column.spec
        if spec.from_ is not None:
            value = row.get(spec.from_)
            if value.__class__ is BadText:
                value, done = self._bad_text(column, value)
                if done:
                    return value
            if column.name in self.integer_keys and isinstance(value, str):
                _integer_key(column.name, value)
        elif spec.has_const:
            value = spec.const
        elif spec.now:
            # a column without a zone gets the run's start as a clock in the plan's zone shows it
            return wall_time(self.now, self.timezone) if column.type == "datetime" else self.now
        else:
            value = None
        if spec.parse_json and isinstance(value, str | bytes):
            try:
                value = _parse_json_text(value if isinstance(value, str) else value.decode())
            except (ValueError, UnicodeDecodeError) as exc:
                return self._failed(column, f"is not valid JSON ({exc})", value)
        if column.steps is not None:
            if isinstance(value, str) and not spec.parse_json:
                try:
                    value = _parse_json_text(value)
                except ValueError as exc:
                    return self._failed(column, f"is not valid JSON ({exc})", value)
            value = follow_json_path(value, column.steps)
        if value is None and spec.default is not None:
            value = spec.default
        if spec.ops and isinstance(value, str):
            for op in spec.ops:
                value = (
                    value.strip()
                    if op == "trim"
                    else value.lower()
                    if op == "lower"
                    else value.upper()
                )
        if spec.lookup:
            name = _lookup_text(value)
            if name is not None:
                value = spec.lookup.get(name, value)
        if spec.is_not_null:
            value = value is not None and value != ""
        if (
            column.type in ("timestamp", "datetime", "date")
            and is_number(value)
            and (spec.integers is not None or spec.from_ in self.declared_times)
        ):
            return self._number_in_time(column, value)
        try:
            return self._typed(column, value)
        except CastError as exc:
            return self._failed(column, str(exc), value)

    def _number_in_time(self, column: _Column, value: Any) -> Any:
        """A number in a date/time column, read as the column's ``integers`` setting says
        (never guessed: without one the row is rejected)."""
        reading = column.spec.integers
        if reading is None:
            return self._failed(
                column,
                f"{value!r} is a number in a {column.type} column and the plan does not say "
                f'how to read it (integers = "epoch_s", "epoch_ms", "year", "null" or "number")',
                value,
            )
        if reading == "number" and self.target.dialect != "sqlite":
            return self._failed(
                column,
                f'{value!r} is kept as a number (integers = "number"), which a '
                f"{column.type} column of this target cannot hold",
                value,
            )
        try:
            result, problem = read_number(value, reading, column.type == "date")
        except CastError as exc:
            return self._failed(column, str(exc), value)
        if problem:
            self._pending.append(f"column {column.name!r}: {problem}")
        if column.type == "datetime" and isinstance(result, datetime):
            # the plan's reading says the number is an instant: its wall time in the plan's zone
            return wall_time(result, self.timezone)
        return result

    def _bad_text(self, column: _Column, value: BadText) -> tuple[Any, bool]:
        """Text that is not UTF-8, as the column's (else the table's) ``invalid_text`` says:
        ``(value, done)``; done: the kept bytes, which no further step or cast changes."""
        mode = column.spec.invalid_text or self.spec.invalid_text
        try:
            fixed, warning = resolve(value, mode, column.name)
        except ValueError as exc:
            raise RowRefused(str(exc)) from None
        if warning:
            self._pending.append(warning)  # said with the row's key once it is mapped
        return fixed, mode == "bytes" and column.type in ("text", "bytes")

    def invalid_text_modes(self) -> dict[str, str | None]:
        """Each column's ``invalid_text`` (the column's, else the table's; None: reject)."""
        return {c.name: c.spec.invalid_text or self.spec.invalid_text for c in self._columns}

    def _typed(self, column: _Column, value: Any) -> Any:
        """``value`` cast to the column's logical type (through the plan's ``cast`` first)."""
        if column.uuid_hex and isinstance(value, UUID):
            return value.hex
        if column.uuid and (text := uuid_of_bytes(value)) is not None:
            return text
        if column.interval:
            # an integer only as the plan's interval says (Django's microseconds)
            micros = self.spec.target_types.get(column.name) == "interval"
            value = duration(value, microseconds=micros)
            if isinstance(value, timedelta):
                return value
        elif (column.stored or column.type) in ("timestamp", "datetime"):
            value = as_moment(value)
        elif isinstance(value, timedelta) and self.spec.target_types.get(column.name) == "interval":
            value = value // timedelta(microseconds=1)  # into Django's bigint (interval)
        value = cast(value, column.type)
        if column.stored is not None:
            try:
                value = cast(value, column.stored)
            except CastError as exc:
                raise CastError(
                    f"{exc} (cast to {column.type}, then stored in the table's "
                    f"{column.stored} column)"
                ) from None
        if (column.stored or column.type) == "datetime":
            return self._wall(column, value)
        if column.uuid and isinstance(value, str):
            return uuid_text(value)
        return self._in_zone(value)

    def _wall(self, column: _Column, value: Any) -> Any:
        """A ``datetime`` column's value: a wall time without a zone. One with an offset is
        converted to the plan's zone and the offset dropped, said with the row's key."""
        if not isinstance(value, datetime) or value.tzinfo is None:
            return value
        wall = wall_time(value, self.timezone)
        zone = str(self.timezone) if self.timezone is not None else "UTC"
        self._pending.append(
            f"column {column.name!r}: {value.isoformat()} has an offset, which a column "
            f"without a time zone cannot keep: stored as {wall.isoformat()} ({zone})"
        )
        return wall

    def _in_zone(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None and self.timezone is not None:
            return value.replace(tzinfo=self.timezone)
        return value

    def _failed(self, column: _Column, problem: str, value: Any) -> Any:
        message = f"column {column.name!r}: {problem}"
        if column.spec.on_error == "warn":
            self._pending.append(f"{message}; used {column.spec.fallback!r} instead")
            return self._typed(column, column.spec.fallback)
        raise RowRefused(message)

    def add_column(self, name: str, spec: ColumnSpec, type_: LogicalType) -> None:
        """Map one more column (a field the first records did not show)."""
        self._columns.append(_Column(name, spec, type_, None))
        self.columns.append(name)
        if spec.from_ is not None:
            self.source_fields.add(spec.from_)

    def values_dict(self, values: tuple[Any, ...]) -> dict[str, Any]:
        """The mapped values by column name (for reject reports and diffs)."""
        return dict(zip(self.columns, values, strict=True))


_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")


def _integer_key(column: str, value: str) -> None:
    """Refuse a text key that is not an integer's own text (RowRefused naming it)."""
    if not _INTEGER_TEXT.fullmatch(value):
        raise RowRefused(
            f"column {column!r}: the key {value!r} is not an integer as written "
            "('12', not '012', ' 12' or '12.0'): read as one it would change, and could "
            "equal another key"
        )


def json_default(value: Any) -> Any:
    """``json.dumps`` default for values in reports: timestamps and bytes as text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


__all__ = [
    "RowHook",
    "RowMapper",
    "RowRefused",
    "compile_json_path",
    "follow_json_path",
    "json_default",
    "load_hook",
    "refused_key",
]
