"""JSON texts parsed by orjson where that is provably what the strict stdlib decoder gives.

The strict read (:data:`ferry.sources.json._FAST_DECODER`) calls Python for every object (to
refuse a duplicate key) and every float (to refuse one that overflows): about a tenth of a JSON
load's time. orjson parses in C with no such hooks, and agrees with the strict read on every
text both accept except where it silently differs:

- a duplicate key: orjson keeps the last value. Ruled out by counting colons: every member of
  an object has one colon after its key, and every other colon lies in a string. Without a
  ``\\u003a`` escape in the text, each colon of a decoded string is a colon of the text, so the
  text's colons are its members plus its strings' colons; orjson writes the parsed value back
  with one colon per member plus its strings' colons (it never escapes a colon). The parsed
  value's members and strings are among the text's (a duplicate only drops some), so the two
  counts are equal exactly when no member was dropped.
- an integer beyond 64 bits: orjson gives a float. Ruled out by refusing any run of 19 or more
  digits (every integer out of its range has at least 19), strings included.

A lone surrogate escape, which the strict read keeps, orjson refuses; a pair both read as one
character.

It refuses what the strict read refuses (invalid UTF-8, control characters, NaN and Infinity,
a float that overflows, a BOM), and raises where the strict read would not (nesting deeper
than 1024): so anything it refuses is left to the strict read (:data:`UNSURE`), which also
words the error.
tests/core/test_quick_json.py compares both on generated texts.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19  # the digits of the shortest integer orjson may not hold
_COLON_ESCAPES = (b"\\u003a", b"\\u003A")
#: what :func:`quick_loads` gives where it cannot vouch for orjson's read (JSON's null is None)
UNSURE: Final = object()


def quick_loads(data: bytes) -> Any:
    """``data`` parsed as the strict decoder parses its UTF-8 text, or :data:`UNSURE` where that
    is not provably orjson's result (the caller then uses the strict decoder)."""
    if b"\\u" in data and any(escape in data for escape in _COLON_ESCAPES):
        return UNSURE
    if _LONG_RUN in data.translate(_DIGITS):
        return UNSURE
    try:
        value = orjson.loads(data)
        written = orjson.dumps(value)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return UNSURE
    if data.count(b":") != written.count(b":"):
        return UNSURE  # a duplicate key (or a colon the count cannot vouch for)
    return value
