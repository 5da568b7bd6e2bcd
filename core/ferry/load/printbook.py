"""This run's prints of a table's source rows (:mod:`ferry.load.delta`): which rows are new or
changed against the prints the last run kept, and the prints to keep for the next run."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from itertools import pairwise
from typing import Any

from ..plan import TableSpec
from ..values.rowprint import record_print
from ..values.transform import PLAIN_FIELDS, RowMapper
from .rowprints import Prints
from .spill import SpillArray


def print_key_field(spec: TableSpec, mapper: RowMapper) -> str | None:
    """The source field the table's one-column integer key is copied from as it is (None:
    another key; no prints are kept for the table)."""
    if spec.mode != "merge" or spec.hook or len(mapper.key) != 1:
        return None
    for column in mapper.mapped_columns():
        if column.name != mapper.key[0]:
            continue
        plain = column.spec.from_ is not None and column.spec.model_fields_set <= PLAIN_FIELDS
        if plain and column.steps is None and column.stored is None and column.type == "integer":
            return column.spec.from_
    return None


class PrintBook:
    """This run's prints of one table's source rows, and, given the kept ones (a delta run),
    which rows are new or changed."""

    def __init__(
        self, field: str, kept: Prints | None = None, in_sql: bool = False, lines: bool = False
    ) -> None:
        #: the source field holding the key
        self.field = field
        #: SQLite prints the rows in the query (else :meth:`take` prints them as read)
        self.in_sql = in_sql
        #: a JSON file one record per line: a record's print is its line's
        #: (:mod:`ferry.load.jsonlines`)
        self.lines = lines
        # in flat memory: 16 bytes a row would be 190 MB at twelve million rows
        self.keys = SpillArray()
        self.prints = SpillArray()
        #: every row printed (False once a key is not a 64-bit integer: nothing is kept)
        self.whole = True
        self.ascending = True
        self.kept = kept
        self.seen = bytearray(len(kept) if kept is not None else 0)
        #: a kept key met twice: the run starts over, comparing in full
        self.repeated = False
        #: printed on a connection of its own: a snapshot of its own (see keep_run_prints)
        self.side = False
        #: rows not mapped, their print as kept
        self.unchanged = 0
        #: keys of the rows mapped and staged (new or changed)
        self.changed: list[int] = []
        #: where the next row is looked for among the kept ones (rows come in key order)
        self.cursor = 0

    def _find(self, key: int) -> int:
        assert self.kept is not None
        keys, at = self.kept.keys, self.cursor
        if at < len(keys) and keys[at] == key:
            self.cursor = at + 1
            return at
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            self.cursor = at + 1
            return at
        return -1

    def note(self, key: Any, value: int) -> bool:
        """Note one row's print; True when the row must be loaded (new, changed, or no kept
        prints to compare with)."""
        if type(key) is not int or not -(2**63) <= key < 2**63:
            self.whole = False
            return True
        keys = self.keys
        if self.ascending and keys and keys[-1] >= key:
            self.ascending = False
        keys.append(key)
        self.prints.append(value)
        if self.kept is None:
            return True
        at = self._find(key)
        if at >= 0:
            if self.seen[at]:
                self.repeated = True
                return True
            self.seen[at] = 1
            if self.kept.prints[at] == value:
                self.unchanged += 1
                return False
        self.changed.append(key)
        return True

    def note_sorted(self, keys: list[Any], prints: list[int]) -> list[int]:
        """Note rows in ascending key order (SQL prints); the keys to load. A run of keys
        the kept ones hold in the same places is compared at C speed."""
        kept, at, count = self.kept, self.cursor, len(keys)
        if kept is not None and count and self.whole and self.ascending:
            try:
                window = array("q", keys)
            except (TypeError, OverflowError):
                window = None
            if (
                window is not None
                and kept.keys[at : at + count] == window
                and (not self.keys or self.keys[-1] < window[0])
            ):
                old = kept.prints[at : at + count]
                changed = [
                    keys[i] for i, (a, b) in enumerate(zip(old, prints, strict=True)) if a != b
                ]
                self.keys.extend(window)
                self.prints.extend(prints)
                self.seen[at : at + count] = b"\1" * count
                self.cursor = at + count
                self.unchanged += count - len(changed)
                self.changed.extend(changed)
                return changed
        load = [k for k, p in zip(keys, prints, strict=True) if self.note(k, p)]
        self.settle()
        return load

    @property
    def prints_as_read(self) -> bool:
        """The ordinary read's rows pass :meth:`take` (not printed in SQL, nor a delta over
        a file's lines)."""
        return not self.in_sql and not (self.lines and self.kept is not None)

    def take(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Print rows as read (a worker thread); the ones to map. Over a file's lines only
        the keys are noted here, the prints come from the lines after the read."""
        field, note = self.field, self.note
        if self.lines:
            load = [row for row in rows if note(row.get(field), 0)]
        else:
            load = [row for row in rows if note(row.get(field), record_print(row))]
        self.settle()
        return load

    def settle(self) -> None:
        """After a batch of rows: move full chunks of the prints out of memory."""
        self.keys.settle()
        self.prints.settle()

    def vanished(self) -> list[int]:
        """Kept keys no source row has any more."""
        if self.kept is None:
            return []
        keys = self.kept.keys
        return [keys[i] for i, seen in enumerate(self.seen) if not seen]

    def result(self) -> Prints | None:
        """This run's prints in key order, or None when they cannot be kept (a key that is
        not an integer, or repeated)."""
        if not self.whole or self.repeated:
            return None
        if self.ascending:  # (ascending means strictly: no key repeated)
            return Prints(self.keys, self.prints)
        keys, prints = self.keys.to_array(), self.prints.to_array()  # sorting needs them all
        order = sorted(range(len(keys)), key=keys.__getitem__)
        keys = array("q", (keys[i] for i in order))
        prints = array("q", (prints[i] for i in order))
        if any(a == b for a, b in pairwise(keys)):
            return None  # a key repeated: the staged load reported it
        return Prints(keys, prints)


__all__ = ["PrintBook", "print_key_field"]
