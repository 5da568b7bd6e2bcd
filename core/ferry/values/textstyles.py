"""How a SQLite column spells its values as text, so new values match the app's own rows.

SQLite has no timestamp, boolean or JSON storage: an app stores them as text (or 0/1) in the
spelling its ORM or code chose — ``2024-03-01T09:00:00``, ``2024-03-01 09:00:00.000000Z``,
``'true'``, ``{"a": 1}`` — and a column holding two spellings sorts and compares wrongly.
A :data:`Style` is one such spelling: :func:`style_of` tells the style one stored value shows,
:func:`summarize` the style of a sample of a column, :func:`parse_style` reads the style a plan
names (``styles = { created_at = "2024-03-01T09:00:00Z" }``) and :func:`styled_adapter` writes
values in it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .jsontext import json_text
from .logical import LogicalType, to_utc_naive


@dataclass(frozen=True)
class TimestampStyle:
    """``YYYY-MM-DD<sep>HH:MM:SS[.fraction][zone]`` in UTC."""

    #: between date and time: ``T`` or a space
    sep: str
    #: fraction digits; None: six when the second has a fraction, none otherwise (Python's
    #: ``isoformat``)
    digits: int | None
    #: ``""`` (naive UTC), ``Z`` or ``+00:00``
    zone: str

    def describe(self) -> str:
        """The style as a plan names it: the example moment written in it."""
        fraction = "[.ffffff]" if self.digits is None else ("." + "0" * self.digits).rstrip(".")
        return f"2024-03-01{self.sep}09:00:00{fraction}{self.zone}"


@dataclass(frozen=True)
class BooleanStyle:
    """Booleans as the integers 1/0 (``true is None``) or as two words (``'true'/'false'``)."""

    true: str | None = None
    false: str | None = None

    def describe(self) -> str:
        """``1/0`` or the two words, as a plan names the style."""
        return "1/0" if self.true is None else f"{self.true}/{self.false}"


@dataclass(frozen=True)
class JsonStyle:
    """JSON text compact (``{"a":1}``) or spaced as Python's json writes it (``{"a": 1}``)."""

    spaced: bool

    def describe(self) -> str:
        """``compact`` or ``spaced``, as a plan names the style."""
        return "spaced" if self.spaced else "compact"


Style = TimestampStyle | BooleanStyle | JsonStyle

#: what a SQLite target writes when no style is known (SQLAlchemy's own DATETIME format)
DEFAULT_STYLES: dict[str, Style] = {
    "timestamp": TimestampStyle(" ", 6, ""),
    "boolean": BooleanStyle(),
    "json": JsonStyle(False),
}
#: the logical types a style applies to
STYLED_TYPES = frozenset(DEFAULT_STYLES)

_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ])\d{2}:\d{2}:\d{2}(?:\.(\d{1,9})|(\[\.f{1,9}\]))?(Z|[+-]\d{2}:\d{2})?"
)
#: pairs of words a boolean column may hold, by the lower-case spelling of either word
_WORDS: dict[str, tuple[str, str]] = {
    w: pair
    for pair in (("true", "false"), ("t", "f"), ("yes", "no"), ("y", "n"), ("on", "off"))
    for w in pair
}
_JSON_SPACED = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def style_type(style: Style) -> LogicalType:
    """The logical type a style is for."""
    if isinstance(style, TimestampStyle):
        return "timestamp"
    return "boolean" if isinstance(style, BooleanStyle) else "json"


def parse_style(text: str) -> Style:
    """The style a plan names: a timestamp written in it (``2024-03-01T09:00:00.000Z``;
    ``[.ffffff]`` for a fraction only when there is one), ``1/0`` or two words
    (``true/false``, ``yes/no`` …) for booleans, ``compact`` or ``spaced`` for JSON."""
    word = text.strip()
    match = _STAMP.fullmatch(word)
    if match:
        sep, digits, optional, zone = match.groups()
        if zone not in (None, "Z") and zone[1:] != "00:00":
            raise ValueError(
                f"style {text!r}: timestamps are written in UTC: end it with Z, +00:00 or nothing"
            )
        count = None if optional else len(digits or "")
        return TimestampStyle(sep, count, "+00:00" if zone and zone != "Z" else zone or "")
    if word.lower() in ("compact", "spaced"):
        return JsonStyle(word.lower() == "spaced")
    true, _, false = word.partition("/")
    if {true, false} == {"1", "0"}:
        return BooleanStyle()
    pair = _WORDS.get(true.lower())
    if pair is not None and (true.lower(), false.lower()) == pair:
        return BooleanStyle(true, false)
    raise ValueError(
        f"style {text!r} is not one Ferry writes: give a timestamp as the column should hold it "
        "(2024-03-01T09:00:00Z, 2024-03-01 09:00:00.000), 1/0 or true/false for booleans, "
        "compact or spaced for JSON"
    )


def style_of(type_: LogicalType, value: Any) -> Style | None:
    """The style one stored value of a column of ``type_`` shows; None when it shows none
    (NULL, another spelling, JSON that reads the same either way)."""
    if type_ == "timestamp" and isinstance(value, str):
        match = _STAMP.fullmatch(value)
        if match is None or match.group(3):
            return None
        sep, digits, _, zone = match.groups()
        zone = "" if zone is None else ("Z" if zone == "Z" else "+00:00")
        return TimestampStyle(sep, len(digits or ""), zone)
    if type_ == "boolean":
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return BooleanStyle()
        if isinstance(value, str) and value.lower() in _WORDS:
            true, false = _WORDS[value.lower()]
            if value.isupper():
                true, false = true.upper(), false.upper()
            elif value[:1].isupper():
                true, false = true.capitalize(), false.capitalize()
            return BooleanStyle(true, false)
        return None
    if type_ == "json" and isinstance(value, str) and value[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        compact, spaced = json_text(parsed), _JSON_SPACED.encode(parsed)
        if compact == spaced:
            return None
        if value == compact:
            return JsonStyle(False)
        if value == spaced:
            return JsonStyle(True)
    return None


def sample_styles(type_: LogicalType, values: Iterable[Any]) -> Counter[Style]:
    """How many of ``values`` show each style."""
    found: Counter[Style] = Counter()
    for value in values:
        style = style_of(type_, value)
        if style is not None:
            found[style] += 1
    return _merge_optional_fraction(found)


def _merge_optional_fraction(found: Counter[Style]) -> Counter[Style]:
    """Timestamps with six fraction digits and without any, otherwise alike, are one style:
    Python's ``isoformat`` leaves out a fraction of zero."""
    merged: Counter[Style] = Counter()
    for style, count in found.items():
        if isinstance(style, TimestampStyle) and style.digits in (0, 6):
            other = TimestampStyle(style.sep, 6 - style.digits, style.zone)
            if other in found:
                style = TimestampStyle(style.sep, None, style.zone)
        merged[style] += count
    return merged


def summarize(found: Counter[Style]) -> str:
    """``'2024-03-01T09:00:00' (40 rows), '2024-03-01 09:00:00.000000' (3 rows)``."""
    return ", ".join(
        f"{style.describe()!r} ({count} {'row' if count == 1 else 'rows'})"
        for style, count in found.most_common()
    )


class StyledTimestamps:
    """Writes moments in one :class:`TimestampStyle` (UTC). A moment whose fraction the
    style's digits cannot hold is written with six digits instead (never cut): ``overflow``
    counts them and ``first`` is the first one, for the run's warning."""

    def __init__(self, style: TimestampStyle) -> None:
        self.style = style
        self.overflow = 0
        self.first = ""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, datetime):
            return value  # None, or a number kept as it is (integers = "number")
        moment = to_utc_naive(value)
        style = self.style
        text = moment.isoformat(style.sep, "seconds")  # four-digit years (0101-01-01)
        micro = f"{moment.microsecond:06d}"
        digits = style.digits
        if digits is None:
            fraction = "." + micro if moment.microsecond else ""
        elif micro[digits:].strip("0"):
            fraction = "." + micro
            self.overflow += 1
            self.first = self.first or f"{text}{fraction}{style.zone}"
        else:
            fraction = ("." + (micro + "000")[:digits]).rstrip(".")
        return f"{text}{fraction}{style.zone}"

    def overflow_warning(self, column: str, where: str) -> str:
        """The run's warning for ``table.column`` (``where``: `` at id=1`` or empty)."""
        return (
            f"{column}: {self.overflow} timestamps have fractions of a second "
            f"the column's style {self.style.describe()!r} cannot hold; they are written "
            f"with six digits (first: {self.first!r}{where}) so no time changes"
        )


def styled_adapter(style: Style) -> Callable[[Any], Any]:
    """A SQLite target's adapter writing cast values of the style's type in ``style``."""
    if isinstance(style, TimestampStyle):
        return StyledTimestamps(style)
    if isinstance(style, BooleanStyle):
        true, false = style.true, style.false
        if true is None:
            return lambda v: None if v is None else int(v)
        return lambda v: None if v is None else (true if v else false)
    if style.spaced:
        return lambda v: None if v is None else _JSON_SPACED.encode(v)
    return lambda v: None if v is None else json_text(v)


__all__ = [
    "DEFAULT_STYLES",
    "STYLED_TYPES",
    "BooleanStyle",
    "JsonStyle",
    "Style",
    "StyledTimestamps",
    "TimestampStyle",
    "parse_style",
    "sample_styles",
    "style_of",
    "style_type",
    "styled_adapter",
    "summarize",
]
