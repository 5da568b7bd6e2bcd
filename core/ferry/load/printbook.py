"""This run's prints of a table's source rows (:mod:`ferry.load.delta`): which rows are new or
changed against the prints the last run kept, and the prints to keep for the next run."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from itertools import compress, islice
from operator import lt, ne
from typing import TYPE_CHECKING, Any

from ..plan import TableSpec
from ..values.rowprint import record_print
from ..values.transform import PLAIN_FIELDS, RowMapper
from .printfile import PrintFile

if TYPE_CHECKING:
    from ..sources.sqlitepages import Leaf, PageComparison, PageMap

#: a kept row no source row met: 1
_UNSEEN = bytes.maketrans(b"\0\1", b"\1\0")
#: rows of a page scan's leaves noted at a time (:meth:`PrintBook.note_leaves`)
LEAF_ROWS = 65536


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
    which rows are new or changed. Both sets of prints lie in temporary files
    (:class:`~ferry.load.printfile.PrintFile`): :meth:`close` drops them."""

    def __init__(
        self,
        field: str,
        kept: PrintFile | None = None,
        in_sql: bool = False,
        lines: bool = False,
        cells: bool = False,
    ) -> None:
        #: the source field holding the key
        self.field = field
        #: SQLite prints the rows in the query (else :meth:`take` prints them as read)
        self.in_sql = in_sql
        #: a JSON file one record per line: a record's print is its line's
        #: (:mod:`ferry.load.jsonlines`)
        self.lines = lines
        #: a SQLite table printed from its file's pages: a row's print is its cell's
        #: (:mod:`ferry.sources.sqlitepages`)
        self.cells = cells
        #: the page map the last run kept (cells; None: every leaf is parsed)
        self.kept_pages: PageMap | None = None
        #: the kept map's comparison begun while the run was planned (cells, a delta run:
        #: :mod:`ferry.load.earlyscan`; None: the load scans)
        self.early: PageComparison | None = None
        #: this run's page map, kept with the prints
        self.pages: PageMap | None = None
        #: this run's keys and prints, in the order noted
        self.mine = PrintFile()
        #: every row printed (False once a key is not a 64-bit integer: nothing is kept)
        self.whole = True
        self.ascending = True
        #: the last run's, keys ascending
        self.kept = kept
        #: which kept rows a source row met (a byte each)
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
        #: the kept chunk in view (from position ``_base`` on)
        self._view_keys: array[int] = array("q")
        self._view_prints: array[int] = array("q")
        self._base = 0

    def _find(self, key: int) -> int:
        """The kept position of ``key`` (-1: none), its chunk then in view."""
        kept = self.kept
        assert kept is not None
        at = self.cursor
        offset = at - self._base
        if not 0 <= offset < len(self._view_keys) and at < len(kept):
            self._view(at)  # the cursor walked into the next chunk (or elsewhere)
            offset = at - self._base
        if 0 <= offset < len(self._view_keys) and self._view_keys[offset] == key:
            return at
        at = kept.find(key, -1)
        if at >= 0:
            self._view(at)
        return at

    def _view(self, at: int) -> None:
        """Bring the kept chunk holding position ``at`` into view."""
        assert self.kept is not None
        size = self.kept.chunk
        self._view_keys, self._view_prints = self.kept.chunk_at(at // size)
        self._base = at - at % size

    def _follows(self, first: int) -> None:
        """Rows from key ``first`` on are noted next: the order holds while they come after
        the last one noted."""
        last = self.mine.last
        if self.ascending and last is not None and last >= first:
            self.ascending = False

    def note(self, key: Any, value: int) -> bool:
        """Note one row's print; True when the row must be loaded (new, changed, or no kept
        prints to compare with)."""
        if type(key) is not int or not -(2**63) <= key < 2**63:
            self.whole = False
            return True
        mine = self.mine
        if self.ascending and mine.last is not None and mine.last >= key:
            self.ascending = False
        mine.append(key, value)
        if self.kept is None:
            return True
        at = self._find(key)
        if at >= 0:
            self.cursor = at + 1
            if self.seen[at]:
                self.repeated = True
                return True
            self.seen[at] = 1
            if self._view_prints[at - self._base] == value:
                self.unchanged += 1
                return False
        self.changed.append(key)
        return True

    def note_sorted(self, keys: list[Any], prints: list[int]) -> list[int]:
        """Note rows in ascending key order (SQL prints); the keys to load. A run of keys
        the kept ones hold in the same places is compared at C speed."""
        kept, at, count = self.kept, self.cursor, len(keys)
        if kept is None:
            if self._note_window(keys, prints):
                return keys
        elif count and self.whole and self.ascending:
            try:
                window = array("q", keys)
            except (TypeError, OverflowError):
                window = None
            last = self.mine.last
            if window is not None and (last is None or last < window[0]):
                held, old = kept.span(at, at + count)
                if held == window:
                    changed = [
                        keys[i] for i, (a, b) in enumerate(zip(old, prints, strict=True)) if a != b
                    ]
                    self.mine.extend(window, prints)
                    self.seen[at : at + count] = b"\1" * count
                    self.cursor = at + count
                    self.unchanged += count - len(changed)
                    self.changed.extend(changed)
                    return changed
        return [k for k, p in zip(keys, prints, strict=True) if self.note(k, p)]

    def note_kept(self, start: int, count: int) -> None:
        """The ``count`` kept rows from ``start`` on are still as kept (a leaf page as the last
        run left it), noted at C speed; they come after every row noted so far."""
        kept = self.kept
        assert kept is not None
        if not count:
            return
        end = start + count
        self._follows(kept.key_at(start))
        if any(self.seen[start:end]):
            self.repeated = True
        self.mine.extend_from(kept, start, end)
        self.seen[start:end] = b"\1" * count
        self.cursor = end
        self.unchanged += count

    def note_leaves(self, leaves: Iterable[Leaf]) -> list[int]:
        """Note a page scan's leaves in key order (as kept, or parsed); the keys to load.
        Leaves whose rows lie, key for key, at the kept positions that follow each other are
        noted together at C speed, up to :data:`LEAF_ROWS` rows at a time (a delta touching
        a third of a table's leaves: one call per changed leaf took most of the noting);
        anything else one leaf at a time (:meth:`note_kept`, :meth:`note_sorted`)."""
        changed: list[int] = []
        run: list[Leaf] = []
        at = rows = 0
        for leaf in leaves:
            if run and (
                rows + leaf.count > LEAF_ROWS or (leaf.kept >= 0 and leaf.start != at + rows)
            ):
                changed += self._note_run(run, at, rows)
                run = []
            if not run:  # (a parsed leaf first: its rows follow the last ones noted)
                at, rows = (leaf.start if leaf.kept >= 0 else self.cursor), 0
            run.append(leaf)
            rows += leaf.count
        return changed + self._note_run(run, at, rows)

    def _note_run(self, run: list[Leaf], at: int, rows: int) -> list[int]:
        """Note ``run``'s ``rows`` rows as the kept ones from position ``at`` on, or one leaf
        at a time where they are not."""
        kept = self.kept
        if not run:
            return []
        if kept is not None and all(leaf.kept >= 0 for leaf in run):
            self.note_kept(at, rows)  # (their kept positions follow each other)
            return []
        # (one leaf past LEAF_ROWS: every row, no page map was kept; noted a window at a time)
        found = None if kept is None or rows > LEAF_ROWS else self._noted_in_place(run, at, rows)
        if found is not None:
            return found
        changed: list[int] = []
        for leaf in run:
            if leaf.kept >= 0:
                self.note_kept(leaf.start, leaf.count)
                continue
            for start in range(0, len(leaf.keys), LEAF_ROWS):
                end = start + LEAF_ROWS
                changed += self.note_sorted(
                    leaf.keys[start:end].tolist(), leaf.prints[start:end].tolist()
                )
        return changed

    def _noted_in_place(self, run: list[Leaf], at: int, rows: int) -> list[int] | None:
        """:meth:`_note_run` where every row of ``run`` is the kept row at its position
        (after the last one noted, none met yet): the changed rows' keys; None where not
        (nothing noted)."""
        kept = self.kept
        assert kept is not None
        last = self.mine.last
        if not (self.whole and self.ascending) or at < self.cursor or at + rows > len(kept):
            return None
        held, old = kept.span(at, at + rows)
        if (last is not None and held and last >= held[0]) or any(self.seen[at : at + rows]):
            return None
        keys: array[int] = array("q")
        prints: array[int] = array("q")
        parsed = []
        for leaf in run:
            if leaf.kept >= 0:
                offset = leaf.start - at
                keys.extend(held[offset : offset + leaf.count])
                prints.extend(old[offset : offset + leaf.count])
            else:
                parsed.append((len(keys), len(keys) + leaf.count))
                keys.extend(leaf.keys)
                prints.extend(leaf.prints)
        if keys != held:
            return None
        # (only the parsed leaves' rows can differ: the others are the kept ones)
        changed = [keys[i] for start, end in parsed for i in _differing(old, prints, start, end)]
        self.mine.extend(keys, prints)
        self.seen[at : at + rows] = b"\1" * rows
        self.cursor = at + rows
        self.unchanged += rows - len(changed)
        self.changed.extend(changed)
        return changed

    def note_all(self, keys: array[int], prints: array[int], ascending: bool = False) -> None:
        """Rows with no kept prints to compare with, after those noted so far (``ascending``:
        the keys are known to be strictly ascending)."""
        assert self.kept is None
        if not keys:
            return
        self._follows(keys[0])
        if self.ascending and not ascending:
            self.ascending = all(map(lt, keys, islice(keys, 1, None)))
        self.mine.extend(keys, prints)

    def adopt(self, found: PrintFile) -> None:
        """Every row at once, keys strictly ascending, with no kept prints to compare with:
        ``found`` becomes this run's prints (the book closes it)."""
        assert self.kept is None and not len(self.mine)
        self.mine.close()
        self.mine = found

    @property
    def form(self) -> str:
        """What a print is of (kept with them, :class:`ferry.load.rowprints.PrintsEntry`)."""
        return "lines" if self.lines else "cells" if self.cells else "values"

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
            keys = [row.get(field) for row in rows]
            if self.kept is None and self._note_window(keys, bytes(8 * len(keys))):
                return rows
            return [row for row in rows if note(row.get(field), 0)]
        return [row for row in rows if note(row.get(field), record_print(row))]

    def note_keys(self, keys: list[Any]) -> None:
        """Note the keys of rows read from a file's lines with no kept prints to compare with
        (rows parsed in worker processes, :mod:`ferry.load.inworker`): as :meth:`take` notes
        them, their prints come from the lines after the read."""
        assert self.lines and self.kept is None
        if not self._note_window(keys, bytes(8 * len(keys))):
            for key in keys:
                self.note(key, 0)

    def _note_window(self, keys: list[Any], prints: Iterable[int] | bytes) -> bool:
        """Note rows with no kept prints to compare with at C speed (``prints`` as a list,
        or as the bytes of an array): False when a key is not a 64-bit integer (:meth:`note`
        tells then)."""
        if not self.whole or not keys or set(map(type, keys)) != {int}:
            return False
        try:
            window = array("q", keys)
        except OverflowError:
            return False
        self._follows(window[0])
        if self.ascending and not all(map(lt, window, islice(window, 1, None))):
            self.ascending = False
        self.mine.extend(window, array("q", prints) if isinstance(prints, bytes) else prints)
        return True

    def vanished(self) -> list[int]:
        """Kept keys no source row has any more."""
        kept, seen = self.kept, self.seen
        if kept is None:
            return []
        found: list[int] = []
        # only the chunks holding an unseen row are read (none in most delta runs)
        at = seen.find(0)
        while at >= 0:
            number = at // kept.chunk
            keys = kept.chunk_at(number)[0]
            start = number * kept.chunk
            found += compress(keys, seen[start : start + len(keys)].translate(_UNSEEN))
            at = seen.find(0, start + len(keys))
        return found

    def result(self) -> PrintFile | None:
        """This run's prints in key order, or None when they cannot be kept (a key that is
        not an integer, or repeated)."""
        if not self.whole or self.repeated:
            return None
        if not self.ascending:  # (ascending means strictly: no key repeated)
            ordered = self.mine.sorted()
            self.mine.close()
            if ordered is None:
                self.whole = False
                return None  # a key repeated: the staged load reported it
            self.mine, self.ascending = ordered, True
        return self.mine

    def close(self) -> None:
        """Drop the prints' temporary files (the run is over, or starts over)."""
        self.mine.close()
        if self.kept is not None:
            self.kept.close()
        if self.early is not None:
            self.early.close()
            self.early = None


def _differing(old: array[int], new: array[int], start: int, end: int) -> Iterator[int]:
    """The positions from ``start`` up to ``end`` where ``old`` and ``new`` differ, found
    at C speed."""
    return compress(range(start, end), map(ne, old[start:end], new[start:end]))


__all__ = ["LEAF_ROWS", "PrintBook", "print_key_field"]
