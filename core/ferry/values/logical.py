"""Ferry's logical column types: casting source values to them and inferring them from data.

Sources hand over plain Python values (what JSON, ``.env`` files or a database driver give).
Before a value reaches a target it is cast to the column's logical type; a value that cannot
be cast raises :class:`CastError` and its row is rejected with the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal, get_args

from .jsontext import json_text

LogicalType = Literal[
    "integer",
    "float",
    "decimal",
    "boolean",
    "text",
    "timestamp",
    "datetime",
    "date",
    "json",
    "bytes",
    # a SQLite value as stored (integer, real, text or blob), the column typed as declared
    "any",
]
#: the logical types of a date and time of day: ``timestamp`` an instant (PostgreSQL
#: ``timestamptz``), ``datetime`` a wall time without a zone (``timestamp without time zone``)
DATE_TIMES: frozenset[str] = frozenset({"timestamp", "datetime"})
LOGICAL_TYPES: tuple[str, ...] = get_args(LogicalType)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_TRUE = {"true", "t", "yes", "y", "on", "1"}
_FALSE = {"false", "f", "no", "n", "off", "0"}
# Dates and times as people and programs write them: 2024-05-01, 2024-05-01T10:00:00Z,
# 2024-05-01 10:00:00.123456+02:00. Used for inference only; parsing is fromisoformat's job.
_TIMESTAMP_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
# Epoch seconds between 1973 and 2286; milliseconds above that range.
_EPOCH_MS_THRESHOLD = 10**10


class CastError(ValueError):
    """A value cannot be read as the wanted logical type; the message says why."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_timestamp(value: Any) -> datetime:
    """Read ISO 8601 (``T`` or space, ``Z``, offsets, fractions) or epoch seconds/ms."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, bool):
        raise CastError(f"{_describe(value)} is not a timestamp")
    if isinstance(value, int | float | Decimal):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise CastError(f"{_describe(value)} is not a timestamp")
        if abs(seconds) >= _EPOCH_MS_THRESHOLD:
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise CastError(f"{_describe(value)} is out of range for a timestamp") from exc
    if isinstance(value, str):
        # The usual case first: an ISO timestamp in extended format (``2024-05-01...``), which
        # fromisoformat reads as is (it keeps the first 6 fraction digits, as below).
        if value[4:5] == "-":
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        text = value.strip()
        if not text:
            raise CastError("an empty string is not a timestamp")
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return parse_timestamp(float(text))
        # fromisoformat does not take a 9-digit fraction; keep microseconds.
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)
        try:
            return datetime.fromisoformat(text)
        except ValueError as exc:
            raise CastError(f"{_describe(value)} is not a timestamp") from exc
    raise CastError(f"{_describe(value)} is not a timestamp")


def identity(value: Any) -> Any:
    """A value as it is (the adapter of types a driver takes unchanged)."""
    return value


def _as_stored(value: Any) -> Any:
    """``any``: a SQLite value in its own storage class (a boolean as SQLite's 0/1)."""
    if isinstance(value, float | str | bytes) or (
        isinstance(value, int) and INT64_MIN <= value <= INT64_MAX
    ):
        return int(value) if isinstance(value, bool) else value
    raise CastError(f"{_describe(value)} is no SQLite value (integer, real, text or blob)")


def to_utc_naive(moment: datetime) -> datetime:
    """An aware datetime as naive UTC; a naive one is taken as UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def cast(value: Any, type_: LogicalType) -> Any:
    """Return ``value`` as a Python value of logical type ``type_``; None stays None."""
    if value is None:
        return None
    try:
        return _CASTS[type_](value)
    except CastError:
        raise
    except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
        raise CastError(f"{_describe(value)} is not a valid {type_}") from exc


def _to_integer(value: Any) -> int:
    if isinstance(value, bool):
        result = int(value)
    elif isinstance(value, int):
        result = value
    elif isinstance(value, float | Decimal):
        if not math.isfinite(float(value)) or value != int(value):
            raise CastError(f"{_describe(value)} is not a whole number")
        result = int(value)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        if re.fullmatch(r"[+-]?\d+", text):
            result = int(text)
        elif re.fullmatch(r"[+-]?\d+\.0*", text):
            result = int(text.split(".")[0])
        else:
            raise CastError(f"{_describe(value)} is not a whole number")
    else:
        raise CastError(f"{_describe(value)} is not a whole number")
    if not INT64_MIN <= result <= INT64_MAX:
        raise CastError(f"{_describe(value)} does not fit in a 64-bit integer")
    return result


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise CastError(f"{_describe(value)} is not a number")


def to_decimal(value: Any) -> Decimal:
    """An exact decimal: a float as the shortest text that reads back as it (``2328.6``, not
    ``2328.59999…``), text as written; no NaN or infinity (a database cannot store them)."""
    if isinstance(value, bool):
        raise CastError(f"{_describe(value)} is not a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            raise CastError(f"{_describe(value)} is not a number") from None
    else:
        raise CastError(f"{_describe(value)} is not a number")
    if not result.is_finite():
        raise CastError(f"{_describe(value)} is not a finite number")
    return result


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without an exponent (``1E+3`` -> ``1000``), as written."""
    return format(value, "f")


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise CastError(f"{_describe(value)} is not a boolean (true/false, 1/0, yes/no)")


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_timestamp(value).date()


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise CastError(f"{_describe(value)} cannot be stored in JSON")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        raise CastError("bytes cannot be stored in JSON")
    return value


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise CastError(f"{_describe(value)} is not bytes")


_CASTS: dict[str, Any] = {
    "integer": _to_integer,
    "float": _to_float,
    "decimal": to_decimal,
    "boolean": _to_boolean,
    "text": _to_text,
    "timestamp": parse_timestamp,
    # a wall time: naive stays naive; an offset is dropped by the mapper, with a warning
    "datetime": parse_timestamp,
    "date": _to_date,
    "json": _to_json,
    "bytes": _to_bytes,
    "any": _as_stored,
}


def looks_like_timestamp(text: str) -> bool:
    """True for strings in the date/time styles :func:`parse_timestamp` reads."""
    text = text.strip()
    # (a cheap first look: the pattern wants ten characters, the first a digit; isdigit
    # takes every character \d does, and more)
    return len(text) >= 10 and text[0].isdigit() and bool(_TIMESTAMP_RE.match(text))


#: value_type of the values whose class is exactly one of these (the common ones, at once)
_KIND_OF_CLASS: dict[type, LogicalType] = {
    bool: "boolean",
    float: "float",
    Decimal: "decimal",
    dict: "json",
    list: "json",
    bytes: "bytes",
    datetime: "timestamp",
    date: "date",
}


def value_type(value: Any) -> LogicalType | None:
    """The logical type one non-null value suggests (None for None)."""
    if value is None:
        return None
    # ``ferry init`` asks this of every value it reads: the exact common classes first
    cls = value.__class__
    if cls is str:
        return "timestamp" if looks_like_timestamp(value) else "text"
    if cls is int:  # beyond 64 bits: a decimal (PostgreSQL's numeric keeps every digit)
        return "integer" if INT64_MIN <= value <= INT64_MAX else "decimal"
    kind = _KIND_OF_CLASS.get(cls)
    if kind is not None:
        return kind
    return _kind_by_isinstance(value)


def _kind_by_isinstance(value: Any) -> LogicalType | None:
    """:func:`value_type` by ``isinstance`` alone (subclasses; its meaning for every class)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if INT64_MIN <= value <= INT64_MAX else "decimal"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict | list):
        return "json"
    if isinstance(value, bytes | bytearray | memoryview):
        return "bytes"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, date):
        return "date"
    if isinstance(value, str):
        return "timestamp" if looks_like_timestamp(value) else "text"
    return "text"


def merge_types(a: LogicalType | None, b: LogicalType | None) -> LogicalType | None:
    """The narrowest logical type that holds values of both ``a`` and ``b``."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    pair = {a, b}
    if pair == {"integer", "float"}:
        return "float"
    if pair <= {"integer", "float", "decimal"}:
        return "decimal"
    if pair == {"date", "timestamp"} or pair == {"datetime", "timestamp"}:
        return "timestamp"
    if pair == {"date", "datetime"}:
        return "datetime"
    if "json" in pair:
        return "json"
    return "text"


def infer_type(values: Iterable[Any]) -> LogicalType:
    """Infer one logical type for a column from sample values (``text`` when all are None)."""
    result: LogicalType | None = None
    for value in values:
        result = merge_types(result, value_type(value))
    return result or "text"


class TypeTracker:
    """Accumulates the inferred type of each column over any number of rows."""

    def __init__(self) -> None:
        self.types: dict[str, LogicalType | None] = {}

    def add(self, row: dict[str, Any]) -> None:
        """Widen the tracked types with one row's values."""
        types = self.types
        for name, value in row.items():
            types[name] = merge_types(types.get(name), value_type(value))

    def result(self) -> dict[str, LogicalType]:
        """Column name to logical type, in first-seen order (``text`` for all-null columns)."""
        return {name: (t or "text") for name, t in self.types.items()}
