"""Value normalisation for comparing rows: one text per value of a logical type, so what only
differs in spelling compares equal and every real difference does not (see
:mod:`ferry.verify.checksum` for how the texts are encoded and hashed)."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..values.logical import (
    CastError,
    LogicalType,
    cast,
    decimal_text,
    parse_timestamp,
    to_decimal,
    to_utc_naive,
)
from ..values.textbytes import BadText

#: a normalised value: None is NULL, anything else is text
Normalized = str | None
Normalizer = Callable[[Any], Normalized]

#: prefix of a value that cannot be read as its column's type (never the start of a valid one)
UNREADABLE = "?"
_FLOAT_EXACT = 2**53


def _unreadable(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return UNREADABLE + bytes(value).hex()
    return UNREADABLE + str(value)


# Each normaliser takes None to None, and has a fast path for the usual Python type.


def _integer(value: Any) -> Normalized:
    if type(value) is int:
        return str(value)
    if value is None:
        return None
    try:
        return str(cast(value, "integer"))
    except CastError:
        return _unreadable(value)


def _float(value: Any) -> Normalized:
    if type(value) is float:
        return repr(value)
    if value is None:
        return None
    try:
        return repr(float(cast(value, "float")))
    except (CastError, ValueError):
        return _unreadable(value)


def _float32(value: Any) -> Normalized:
    """PostgreSQL ``real``: both sides rounded to single precision, as the column stores it."""
    if value is None:
        return None
    try:
        number = float(cast(value, "float"))
        return repr(struct.unpack("f", struct.pack("f", number))[0])
    except (CastError, ValueError, OverflowError, struct.error):
        return _unreadable(value)


def _boolean(value: Any) -> Normalized:
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return None
    try:
        return "true" if cast(value, "boolean") else "false"
    except CastError:
        return _unreadable(value)


def _timestamp(value: Any) -> Normalized:
    if value is None:
        return None
    moment: datetime | None = None
    if type(value) is datetime:
        moment = value
    elif type(value) is str and value[4:5] == "-":
        # ISO text (the usual case) straight away; numbers (epoch) never have "-" there.
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    try:
        if moment is None:
            moment = parse_timestamp(value)
        return to_utc_naive(moment).isoformat(timespec="microseconds")
    except (CastError, ValueError, OverflowError):
        return _unreadable(value)


def _date(value: Any) -> Normalized:
    if value is None:
        return None
    try:
        day = value if isinstance(value, date) else cast(value, "date")
        if isinstance(day, datetime):
            day = day.date()
        return str(day.isoformat())
    except (CastError, ValueError, OverflowError):
        return _unreadable(value)


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        # JSON has one number type: 1 and 1.0 are the same number.
        if math.isfinite(value) and value == int(value) and abs(value) < _FLOAT_EXACT:
            return int(value)
        return value
    if isinstance(value, dict):
        return {str(k): _json_number(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_number(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def canonical_json(value: Any) -> str:
    """JSON text that is the same for equal documents: sorted keys, no spaces, 1.0 as 1."""
    return json.dumps(
        _json_number(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def _json_value(value: Any) -> Normalized:
    if value is None:
        return None
    try:
        return canonical_json(value)
    except (TypeError, ValueError):
        return _unreadable(value)


def _json_text(value: Any) -> Normalized:
    """A JSON column read from SQLite holds JSON text: parse it first."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return _unreadable(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return _unreadable(value)
        return _json_value(parsed)
    return _json_value(value)


def _text(value: Any) -> Normalized:
    if type(value) is str or value is None:
        return value
    try:
        return str(cast(value, "text"))
    except (CastError, ValueError):
        return _unreadable(value)


def _bytes(value: Any) -> Normalized:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").hex()
    return _unreadable(value)


def _decimal(value: Any) -> Normalized:
    """A number as its exact decimal value, trailing zeros dropped: ``2328.60`` (numeric) and
    ``2328.6`` (SQLite's REAL) compare equal, ``2328.6`` and ``2328.600000000004`` do not."""
    if value is None:
        return None
    try:
        number = to_decimal(value)
    except CastError:
        return _unreadable(value)
    return decimal_text(number.normalize()) if number else "0"


def stored_text(value: Any) -> Normalized:
    """A SQLite value as stored, its storage class named: the integer 5 and the text ``'5'``
    differ (``5 (integer)``, ``'5' (text)``), as they do for the app that reads them."""
    if value is None:
        return None
    if type(value) is int:
        return f"{value} (integer)"
    if type(value) is float:
        return f"{value!r} (real)"  # repr: the shortest text that reads back as the double
    if type(value) is str:
        return f"{value!r} (text)"
    if isinstance(value, bytes | bytearray | memoryview) and not isinstance(value, BadText):
        return f"x'{bytes(value).hex()}' (blob)"
    return _unreadable(value)  # text that is not UTF-8 too: its bytes


_BY_TYPE: dict[str, Normalizer] = {
    "integer": _integer,
    "float": _float,
    "decimal": _decimal,
    "boolean": _boolean,
    "timestamp": _timestamp,
    # a wall time: naive on both sides (the mapper drops an offset), so compared as it is
    "datetime": _timestamp,
    "date": _date,
    "json": _json_value,
    "text": _text,
    "bytes": _bytes,
    "any": stored_text,
}


def normalizer(
    type_: LogicalType, *, json_as_text: bool = False, single_precision: bool = False
) -> Normalizer:
    """The function turning one value of a column of ``type_`` into its comparable text
    (None for NULL).

    ``json_as_text``: the values are JSON text to parse (a SQLite target's JSON column), not
    parsed values (a source after transform, or PostgreSQL's json/jsonb). ``single_precision``:
    a PostgreSQL ``real`` column (floats rounded to 32 bits on both sides).
    """
    if type_ == "json" and json_as_text:
        return _json_text
    if type_ == "float" and single_precision:
        return _float32
    return _BY_TYPE[type_]


# -- encoding rows and keys --------------------------------------------------------------------
