"""Numbers in date/time columns: how a plan says to read them, and finding them in a source.

SQLite lets any column hold any value, and apps store a time as a number in a column declared
``DATETIME``: epoch seconds, epoch milliseconds, a year, or ``0`` for "unknown". Which one is
meant cannot be told from one value (``2024`` is a year, or 33 minutes after 1970), so Ferry
never guesses while it migrates: a column's ``integers`` setting in the plan names the
reading, and a number from a source column declared as a date or time without one rejects its
row with a hint. (Numbers from JSON, ``.env`` or text fields keep the documented epoch reading,
``epoch``, unless the setting says otherwise.)
``ferry init`` looks at the numbers (:func:`find_numbers`) and writes the reading they make
plausible, with a note that gives the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..shape.identifiers import quote
from .logical import CastError

if TYPE_CHECKING:
    from ..sources.base import SourceReader, SourceTable

IntegerReading = Literal["epoch_s", "epoch_ms", "epoch", "year", "null", "number"]
INTEGER_READINGS: tuple[str, ...] = get_args(IntegerReading)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: a reading outside these instants is implausible (a warning naming the row's key)
PLAUSIBLE_FROM = datetime(1971, 1, 1, tzinfo=UTC)
PLAUSIBLE_UNTIL = datetime(2101, 1, 1, tzinfo=UTC)
_FIRST_S, _LAST_S = int(PLAUSIBLE_FROM.timestamp()), int(PLAUSIBLE_UNTIL.timestamp()) - 1
_FIRST_YEAR, _LAST_YEAR = 1900, 2100
#: today's reading (``epoch``): seconds, or milliseconds from 10**10 on
_EPOCH_MS_THRESHOLD = 10**10
_EXAMPLES = 3

#: what each reading means, for notes and hints
READING_WORDS = {
    "epoch_s": "epoch seconds",
    "epoch_ms": "epoch milliseconds",
    "epoch": "epoch seconds (milliseconds from 10^10 on)",
    "year": "a year (January 1st)",
    "null": "no value (NULL)",
    "number": "the number itself",
}

READINGS_HINT = (
    'Say how to read them with integers = "epoch_s", "epoch_ms", "year", "null" or "number" '
    "on that column under [tables.columns] (ferry init writes it when it sees them)."
)


def declared_times(table: SourceTable) -> list[str]:
    """The columns ``table``'s database declares as a date or time (``DATETIME``, ``DATE``...):
    a number in one is never read as a time unless the plan says how."""
    return [
        name
        for name, type_ in table.columns.items()
        if type_ in ("timestamp", "datetime", "date") and table.declared.get(name)
    ]


def is_number(value: Any) -> bool:
    """True for a number (not a boolean): what ``integers`` decides about."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def read_number(
    value: int | float | Decimal, reading: IntegerReading, as_date: bool
) -> tuple[Any, str]:
    """``value`` read as ``reading``: the moment (a date when ``as_date``), or None, or the
    number; and a problem text when the reading is implausible (else ``""``).

    Raises :class:`CastError` when the reading gives no date at all (out of range)."""
    if reading == "null":
        return None, ""
    if reading == "number":
        return value, ""
    try:
        if reading == "year":
            if value != int(value):
                raise CastError(f"{value!r} is not a whole year")
            year = int(value)
            moment = datetime(year, 1, 1, tzinfo=UTC)
            problem = (
                ""
                if _FIRST_YEAR <= year <= _LAST_YEAR
                else f"{value!r} read as a year is outside {_FIRST_YEAR}-{_LAST_YEAR}"
            )
            return (moment.date() if as_date else moment), problem
        millis = reading == "epoch_ms" or (
            reading == "epoch" and abs(float(value)) >= _EPOCH_MS_THRESHOLD
        )
        # Whole numbers stay exact (a timedelta of an int does not round through a float).
        amount = value if isinstance(value, int) else float(value)
        moment = _EPOCH + (timedelta(milliseconds=amount) if millis else timedelta(seconds=amount))
    except (OverflowError, ValueError) as exc:
        raise CastError(f"{value!r} read as {READING_WORDS[reading]} is out of range") from exc
    problem = ""
    if not PLAUSIBLE_FROM <= moment < PLAUSIBLE_UNTIL:
        problem = (
            f"{value!r} read as {READING_WORDS[reading]} is {moment:%Y-%m-%d %H:%M:%S}, "
            f"{'before 1971' if moment < PLAUSIBLE_FROM else 'after 2100'}"
        )
    return (moment.date() if as_date else moment), problem


# ---------------------------------------------------------------------- finding them (init/check)


@dataclass
class NumberFinding:
    """Numbers in one date/time column of a SQLite source table."""

    table: str  # source table (plan name: ``app.events``)
    column: str
    declared: str
    count: int
    integers: bool  # all of them whole numbers
    #: (key text, value) of the first rows holding one, and the first implausible one
    examples: list[tuple[str, Any]] = field(default_factory=list)
    #: the reading the values make plausible (None: none does)
    reading: IntegerReading | None = None
    #: how many values that reading makes plausible
    plausible: int = 0

    def evidence(self) -> str:
        """What the column holds: ``column at (DATETIME) holds 3 integers, e.g. 0 at id=9``."""
        kind = "integers" if self.integers else "numbers"
        shown = ", ".join(f"{v!r} at {k}" for k, v in self.examples)
        return f"column {self.column} ({self.declared}) holds {self.count:,} {kind}, e.g. {shown}"

    def note(self) -> str:
        """The note ``ferry init`` writes for the table: the evidence and the reading."""
        if self.reading is None:
            return f"{self.evidence()}: no reading makes them plausible dates"
        how = f'read as {READING_WORDS[self.reading]} (integers = "{self.reading}")'
        if self.plausible == self.count:
            return f"{self.evidence()}: {how} because all of them give a plausible date"
        return (
            f"{self.evidence()}: {how} because {self.plausible:,} of them give a plausible "
            "date; the others are warnings naming their rows: check this reading"
        )


def find_numbers(reader: SourceReader, table: SourceTable) -> list[NumberFinding]:
    """The date/time columns of ``table`` (a SQLite source table: the reader's capabilities
    say ``samples_columns``) that hold numbers."""
    found: list[NumberFinding] = []
    origin = table.origin
    declared = {
        str(row[0]): str(row[1] or "")
        for row in reader.query_all(
            "SELECT name, type FROM pragma_table_info(?)", (origin,), origin
        )
    }
    key = list(table.key)
    for column, type_ in table.columns.items():
        if type_ not in ("timestamp", "datetime", "date"):
            continue
        x = quote(column)
        numeric = f"typeof({x}) IN ('integer', 'real')"
        counts = reader.query_one(
            f"SELECT count(*), sum(typeof({x}) = 'integer'), "
            f"sum({x} BETWEEN {_FIRST_S} AND {_LAST_S}), "
            f"sum({x} BETWEEN {_FIRST_S * 1000} AND {_LAST_S * 1000 + 999}), "
            f"sum({x} BETWEEN {_FIRST_YEAR} AND {_LAST_YEAR} AND typeof({x}) = 'integer') "
            f"FROM {quote(origin)} WHERE {numeric}",
            (),
            origin,
        )
        count = int(counts[0] or 0)
        if not count:
            continue
        plausible = {
            "epoch_s": int(counts[2] or 0),
            "epoch_ms": int(counts[3] or 0),
            "year": int(counts[4] or 0),
        }
        best = max(plausible, key=lambda r: plausible[r])
        reading: IntegerReading | None = best if plausible[best] * 2 > count else None  # type: ignore[assignment]
        finding = NumberFinding(
            table.name,
            column,
            declared.get(column, ""),
            count,
            int(counts[1] or 0) == count,
            reading=reading,
            plausible=plausible[best] if reading else 0,
        )
        keys = ", ".join(quote(k) for k in key) if key else "rowid"
        names = key or ["rowid"]
        rows = reader.query_all(
            f"SELECT {x}, {keys} FROM {quote(origin)} WHERE {numeric} ORDER BY rowid LIMIT ?",
            (_EXAMPLES,),
            origin,
        )
        examples = [(_key_text(names, row[1:]), row[0]) for row in rows]
        if reading is not None and finding.plausible < count:
            odd = reader.query_all(
                f"SELECT {x}, {keys} FROM {quote(origin)} WHERE {numeric} "
                f"AND NOT ({_plausible_sql(x, reading)}) ORDER BY rowid LIMIT 1",
                (),
                origin,
            )
            shown = {k for k, _ in examples}
            examples += [
                (k, row[0]) for row in odd if (k := _key_text(names, row[1:])) not in shown
            ]
        finding.examples = examples
        found.append(finding)
    return found


def _plausible_sql(x: str, reading: IntegerReading) -> str:
    if reading == "epoch_s":
        return f"{x} BETWEEN {_FIRST_S} AND {_LAST_S}"
    if reading == "epoch_ms":
        return f"{x} BETWEEN {_FIRST_S * 1000} AND {_LAST_S * 1000 + 999}"
    return f"{x} BETWEEN {_FIRST_YEAR} AND {_LAST_YEAR} AND typeof({x}) = 'integer'"


def _key_text(names: list[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{n}={v!r}" for n, v in zip(names, values, strict=True))


__all__ = [
    "INTEGER_READINGS",
    "READINGS_HINT",
    "IntegerReading",
    "NumberFinding",
    "find_numbers",
    "is_number",
    "read_number",
]
