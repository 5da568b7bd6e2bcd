"""The evidence behind a column's inferred type: how many values of each kind, and where.

A column of 1,204 floats and one ``"n/a"`` is inferred as text: every value still loads, but
as text, which nobody asked for. :class:`EvidenceTracker` infers types as
:class:`~ferry.values.logical.TypeTracker` does and also counts the values of each kind per column,
keeping the first few of each with their row's key, so ``ferry init`` can write into the
table's notes why a column got the type it got (:class:`Mixed`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .logical import LogicalType, TypeTracker, merge_types, value_type
from .sqlitenumbers import kept_by_sqlite
from .textbytes import BadText

#: examples kept per column and kind
EXAMPLES = 3
#: kinds that widen into one another without changing any value's meaning (a decimal holds
#: every integer and float exactly; where SQLite would round one, :class:`LongNumbers` says so)
_HARMLESS = ({"integer", "float", "decimal"}, {"date", "timestamp", "datetime"})
_NOUNS: dict[str, tuple[str, str]] = {
    "integer": ("integer", "integers"),
    "float": ("float", "floats"),
    "decimal": ("decimal number", "decimal numbers"),
    "boolean": ("boolean", "booleans"),
    "text": ("text value", "text values"),
    "timestamp": ("timestamp", "timestamps"),
    "datetime": ("date and time", "dates and times"),
    "date": ("date", "dates"),
    "json": ("JSON value", "JSON values"),
    "bytes": ("byte string", "byte strings"),
}
_SHOWN_CHARS = 40


class EvidenceTracker(TypeTracker):
    """A :class:`TypeTracker` that also counts each column's values by kind and keeps the
    first :data:`EXAMPLES` of each kind with the row's ``key`` values (or its number)."""

    def __init__(self, key: Sequence[str] = ()) -> None:
        super().__init__()
        self.key = tuple(key)
        self.rows = 0
        #: (column, kind) -> values of that kind
        self.counts: dict[tuple[str, LogicalType], int] = {}
        #: (column, kind) -> the first examples, as ``'n/a' at id 13``
        self.examples: dict[tuple[str, LogicalType], list[str]] = {}
        #: a one-column key -> whether every value so far is a whole number's own text
        #: ("12"): ``ferry init`` drafts such a key as an integer
        self.whole: dict[str, bool] = {self.key[0]: True} if len(self.key) == 1 else {}
        #: column -> its numbers a SQLite NUMERIC column would round (:class:`LongNumbers`)
        self.long: dict[str, LongNumbers] = {}
        #: a one-column key's lowest and highest value while every one is a whole number
        #: (an int or its text); None once one is not: ``ferry init`` drafts an identity
        self.key_span: tuple[int, int] | None = (0, -1) if len(self.key) == 1 else None

    def _span(self, values: list[Any]) -> None:
        """Widen :attr:`key_span` by ``values`` of the key (None once one is no number)."""
        span = self.key_span
        if span is None or not values:
            return
        try:
            numbers = [v if type(v) is int else int(v) for v in values]
        except (TypeError, ValueError, OverflowError):  # OverflowError: a key of 1e999 (inf)
            self.key_span = None
            return
        low, high = min(numbers), max(numbers)
        self.key_span = (
            (low, high) if span[1] < span[0] else (min(low, span[0]), max(high, span[1]))
        )

    def add(self, row: dict[str, Any]) -> None:
        """Widen the tracked types with one row's values and count them by kind."""
        if self.key_span is not None:
            self._span([row.get(self.key[0])])
        self.rows += 1
        types, counts = self.types, self.counts
        whole = self.whole
        for name, value in row.items():
            if whole.get(name):
                whole[name] = _whole_number_text(value)
            kind = value_type(value)
            types[name] = merge_types(types.get(name), kind)
            if kind is None:
                continue
            if isinstance(value, BadText):
                kind = "text"  # text all the same: its bytes get their own note (invalid_text)
            if kind == "decimal":
                self._long(name, value, row)
            slot = (name, kind)
            seen = counts.get(slot, 0)
            counts[slot] = seen + 1
            if seen < EXAMPLES:
                self.examples.setdefault(slot, []).append(f"{_shown(value)} at {self._where(row)}")

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """:meth:`add` each of ``rows``, a column at a time where they share their keys (a
        database's rows): the same types, counts and examples, without Python's per-value
        bookkeeping (``ferry init`` reads every row of a source)."""
        if not rows:
            return
        keys = rows[0].keys()
        if not all(row.keys() == keys for row in rows):
            for row in rows:
                self.add(row)
            return
        first = self.rows
        self.rows += len(rows)
        types, counts = self.types, self.counts
        whole = self.whole
        for name in whole:
            if whole[name]:
                whole[name] = all(_whole_number_text(row.get(name)) for row in rows)
        if self.key_span is not None:
            self._span([row.get(self.key[0]) for row in rows])
        for name in keys:
            values = [row[name] for row in rows]
            kinds = list(map(value_type, values))
            tally = Counter(kinds)
            merged = types.get(name)
            for kind in tally:  # the merge is a join: the order of the kinds does not matter
                merged = merge_types(merged, kind)
            types[name] = merged
            if "bytes" in tally and any(isinstance(value, BadText) for value in values):
                # text all the same: its bytes get their own note (invalid_text)
                kinds = [
                    "text" if isinstance(v, BadText) else k
                    for v, k in zip(values, kinds, strict=True)
                ]
                tally = Counter(kinds)
            if "decimal" in tally:
                for at, kind in enumerate(kinds):
                    if kind == "decimal":
                        self._long(name, values[at], rows[at], first + at + 1)
            for kind, many in tally.items():
                if kind is None:
                    continue
                slot = (name, kind)
                seen = counts.get(slot, 0)
                counts[slot] = seen + many
                at = -1
                for _ in range(min(EXAMPLES - seen, many)):  # the first of the kind, in order
                    at = kinds.index(kind, at + 1)
                    shown = f"{_shown(values[at])} at {self._where(rows[at], first + at + 1)}"
                    self.examples.setdefault(slot, []).append(shown)

    def _long(self, name: str, value: Any, row: dict[str, Any], number: int | None = None) -> None:
        """Count ``value`` (a decimal kind) in :attr:`long` when SQLite would round it."""
        if kept_by_sqlite(Decimal(value)):
            return
        found = self.long.setdefault(name, LongNumbers())
        found.count += 1
        if len(found.examples) < EXAMPLES:
            found.examples.append(f"{_shown(value)} at {self._where(row, number)}")

    def _where(self, row: dict[str, Any], number: int | None = None) -> str:
        if self.key and all(k in row for k in self.key):
            return ", ".join(f"{k} {_shown(row[k])}" for k in self.key)
        return f"row {self.rows if number is None else number}"

    def kinds(self) -> dict[str, frozenset[LogicalType]]:
        """Column -> the kinds of its values, every column's (mixed or not)."""
        found: dict[str, set[LogicalType]] = {}
        for name, kind in self.counts:
            found.setdefault(name, set()).add(kind)
        return {name: frozenset(kinds) for name, kinds in found.items()}

    def mixed(self) -> dict[str, Mixed]:
        """Column -> its :class:`Mixed` values, for each column whose values are of kinds
        that do not widen into one another (floats and text, say)."""
        kinds: dict[str, dict[LogicalType, int]] = {}
        for (name, kind), count in self.counts.items():
            kinds.setdefault(name, {})[kind] = count
        found = {}
        for name, seen in kinds.items():
            if len(seen) < 2 or any(set(seen) <= pair for pair in _HARMLESS):
                continue
            ordered = sorted(seen.items(), key=lambda item: -item[1])
            found[name] = Mixed(
                tuple((k, n, tuple(self.examples.get((name, k), ()))) for k, n in ordered)
            )
        return found


#: a whole number as its own text: no sign but minus, no leading zero, fits a 64-bit integer
_WHOLE = re.compile(r"-?[1-9][0-9]{0,17}|0")


def _whole_number_text(value: Any) -> bool:
    return type(value) is str and _WHOLE.fullmatch(value) is not None


@dataclass(frozen=True)
class Mixed:
    """A column's values of several kinds: (kind, count, first examples) per kind, the most
    common first."""

    kinds: tuple[tuple[LogicalType, int, tuple[str, ...]], ...]

    def summary(self, type_: LogicalType) -> str:
        """``1,204 floats and 1 text value: 'n/a' at id 13``: the examples of the kinds that
        are not the column's type ``type_`` (of all but the most common where it is none)."""
        usual = type_ if any(k == type_ for k, _, _ in self.kinds) else self.kinds[0][0]
        parts = []
        for kind, count, shown in self.kinds:
            if kind == usual:
                parts.append(_count(kind, count))
            else:
                more = ", …" if count > len(shown) else ""
                parts.append(f"{_count(kind, count)}: {', '.join(shown)}{more}")
        return " and ".join(parts)

    def note(self, column: str, type_: LogicalType) -> str:
        """The note ``ferry init`` writes for ``column``, which is of type ``type_``."""
        most = self.kinds[0][0]
        if type_ == "text" and most != "text":
            advice = (
                f" (every value loads as text; types.{column} = {most!r} loads them as "
                f"{most} and rejects the others, naming their keys)"
            )
        elif type_ not in ("text", "json"):
            advice = f" (values that are not {type_} are rejected, naming their keys)"
        else:
            advice = ""
        summary = self.summary(type_ if type_ != "text" else most)
        return f"column {column!r} holds mixed values, so it is {type_}: {summary}{advice}"


@dataclass
class LongNumbers:
    """A column's numbers with more digits than a SQLite NUMERIC column keeps (an integer
    beyond 64 bits, a decimal beyond a double's digits): their count and first examples."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, column: str) -> str:
        """The note of a draft into SQLite that makes the column text."""
        more = ", …" if self.count > len(self.examples) else ""
        return (
            f"column {column!r} holds {self.count:,} "
            f"{'number' if self.count == 1 else 'numbers'} with more digits than SQLite keeps "
            f"in a NUMERIC column: {', '.join(self.examples)}{more}; so it is text, every "
            f'value as its digits (types.{column} = "decimal" stores them rounded, named in the '
            "run's warnings; a PostgreSQL target keeps them as numeric)"
        )


def _count(kind: LogicalType, count: int) -> str:
    one, many = _NOUNS.get(kind, (kind, kind + "s"))
    return f"{count:,} {one if count == 1 else many}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


__all__ = ["EXAMPLES", "EvidenceTracker", "LongNumbers", "Mixed"]
