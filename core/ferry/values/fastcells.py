"""Per-column value functions compiled once per table: the mapping's hot path.

A migration maps every cell of every row. :meth:`ferry.values.transform.RowMapper.row_function`
builds one function per target column here, once: for a plain ``from`` column whose value
already has the column's Python type (text as ``str``, integers as ``int`` ...) it returns the
value, adapted for the target, without going through the general steps; any other value, and
any column with transforms, takes the general path (``slow``), so results, warnings and
rejects are exactly those of :meth:`~ferry.values.transform.RowMapper.map`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from .logical import INT64_MAX, INT64_MIN, LogicalType, identity

Row = dict[str, Any]
Cell = Callable[[Row], Any]

#: the Python type whose values pass a cast to a logical type unchanged
_EXACT: dict[str, type] = {"text": str, "float": float, "boolean": bool, "bytes": bytes}

#: timestamp adapters that give UTC as ``YYYY-MM-DD HH:MM:SS.ffffff`` text (see
#: :func:`utc_text_adapter`)
_UTC_TEXT: set[Callable[[Any], Any]] = set()
#: timestamp adapters of columns whose ISO text is copied as it is (see :func:`keep_text`)
_KEEP_TEXT: set[Callable[[Any], Any]] = set()


def utc_text_adapter(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Mark a target's timestamp adapter as one that writes a moment as naive UTC text,
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (years 1000 on): a cell then copies ISO text already in
    UTC with six fraction digits instead of parsing it into a datetime and printing it again."""
    _UTC_TEXT.add(adapt)
    return adapt


@functools.cache  # one per target adapter: the set stays small
def keep_text(adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A timestamp adapter like ``adapt`` for a cell that copies ISO text as it is, once it
    reads as a timestamp (a SQLite target keeps a SQLite source's spelling byte for byte);
    other values are cast and adapted as usual."""

    def kept(value: Any) -> Any:
        return adapt(value)

    _KEEP_TEXT.add(kept)
    return kept


def compile_cell(
    type_: LogicalType,
    field: str,
    adapt: Callable[[Any], Any],
    slow: Cell,
    zone: tzinfo | None,
) -> Cell:
    """The adapted value of a plain ``from field`` column of logical type ``type_``."""
    if type_ == "timestamp":
        return _timestamp_cell(field, adapt, slow, zone)
    if type_ == "integer":
        return _integer_cell(field, adapt, slow)
    if type_ == "json":
        return _json_cell(field, adapt, slow)
    exact = _EXACT.get(type_)
    if exact is None:
        return _general(adapt, slow)
    if adapt is identity:

        def same(row: Row) -> Any:
            value = row.get(field)
            if value is None or value.__class__ is exact:
                return value
            return slow(row)

        return same

    def adapted(row: Row) -> Any:
        value = row.get(field)
        if value is None or value.__class__ is exact:
            return adapt(value)
        return adapt(slow(row))

    return adapted


def compile_general(adapt: Callable[[Any], Any], slow: Cell) -> Cell:
    """A column with transforms: the general steps, then the target's adapter."""
    return _general(adapt, slow)


def _general(adapt: Callable[[Any], Any], slow: Cell) -> Cell:
    if adapt is identity:
        return slow
    return lambda row: adapt(slow(row))


def _integer_cell(field: str, adapt: Callable[[Any], Any], slow: Cell) -> Cell:
    def integer(row: Row) -> Any:
        value = row.get(field)
        if value is None or (value.__class__ is int and INT64_MIN <= value <= INT64_MAX):
            return adapt(value)
        return adapt(slow(row))

    return integer


def _json_cell(field: str, adapt: Callable[[Any], Any], slow: Cell) -> Cell:
    # The JSON cast passes these through as they are (it converts Decimal, dates, bytes).
    plain = (str, dict, list, int, bool)

    def json_value(row: Row) -> Any:
        value = row.get(field)
        if value is None or value.__class__ in plain:
            return adapt(value)
        return adapt(slow(row))

    return json_value


def _utc_spelling(value: str, naive_ok: bool) -> bool:
    """True for ``YYYY-MM-DD?HH:MM:SS.ffffff`` followed by ``+00:00``, ``Z`` or (when
    ``naive_ok``) nothing, year 1000 on, hour 00-23: text whose date and time are already what
    a UTC text adapter writes (``fromisoformat`` still checks it is a real date and time)."""
    suffix = value[26:]
    return (
        (suffix == "+00:00" or suffix == "Z" or (naive_ok and not suffix))
        and value[7:8] == "-"  # not a week date (YYYY-Www-D)
        and value[13:14] == ":"
        and value[16:17] == ":"
        and value[19:20] == "."
        and value[:1] > "0"
        and value[11:13] < "24"
    )


def _timestamp_cell(
    field: str, adapt: Callable[[Any], Any], slow: Cell, zone: tzinfo | None
) -> Cell:
    parse = datetime.fromisoformat
    copy_utc, naive_ok = adapt in _UTC_TEXT, zone is None
    copy_text = adapt in _KEEP_TEXT

    def timestamp(row: Row) -> Any:
        value = row.get(field)
        if value is None:
            return None
        # ISO text in extended format, as parse_timestamp's own first try reads it.
        if value.__class__ is str and value[4:5] == "-":
            try:
                moment = parse(value)
            except ValueError:
                return adapt(slow(row))
            if copy_text:
                return value
            if copy_utc and _utc_spelling(value, naive_ok):
                return f"{value[:10]} {value[11:26]}"
            if zone is not None and moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return adapt(moment)
        return adapt(slow(row))

    return timestamp


__all__ = ["Cell", "compile_cell", "compile_general", "keep_text", "utc_text_adapter"]
