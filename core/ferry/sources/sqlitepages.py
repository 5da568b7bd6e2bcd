"""A SQLite table's rows read from the file's pages: which leaf pages changed since a kept
page map, and each row's *cell print* on the pages that did (delta runs, :mod:`ferry.load.delta`).

A rowid table is a b-tree: interior pages (type 0x05) hold (left child, rowid) cells and a
right-most child, leaf pages (0x0D) hold the rows as cells (payload size, rowid, the record;
a payload too long for the page continues on a chain of overflow pages), the leaves in rowid
order. A leaf's rows are its cells, so a leaf whose bytes (its overflow chains included: SQLite
rewrites an overflow page in place when a long value keeps its size) are a kept leaf's holds
exactly the rows kept for that leaf: the kept map has each leaf's hash and cell count, so its
rows are a slice of the kept keys, told at C speed (xxh3 over the page) wherever the leaf now
sits in the tree. Only the cells of changed leaves are parsed, in Python.

A row's cell print is xxh3 of its cell's local bytes plus its overflow chain's payload (not the
page numbers: a VACUUM that moves rows to other pages changes no print), seeded with the
table's ``CREATE`` statement, so a schema change prints every row anew. Kept prints of
another kind (``ferry_row_print`` over the values) never meet these: the form is kept with
them.

The bytes must be the snapshot the reader reads: only files in rollback-journal mode qualify
(in WAL mode a snapshot's pages may sit in the ``-wal`` file), read while the reader's
connection holds its read transaction (its SHARED lock: no writer can commit), the header's
change counter checked before and after. Anything the parser does not recognise raises
:class:`PagesUnreadable` with the reason, and the caller prints the rows in SQL instead.

``python -S -P …/sqlitepages.py URI TABLE`` scans a table in a process of its own (a first run
prints its source this way while the load reads it); the module imports nothing of Ferry, so
the process starts quickly. Long for that reason: the side process runs this file alone, so
the whole page reader (header, b-tree walk, cells, overflow, the scan against a kept map)
stays in it rather than in modules it would have to import.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import compress, islice, pairwise, repeat
from operator import add, gt, lt, mul, sub
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from xxhash import xxh3_64, xxh3_64_intdigest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: leaves parsed at a time by a first scan (a few hundred kB of keys and prints)
_WINDOW = 256
_TOP = 2**63
_SPAN = 2**64
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
#: leaves this many pages apart or closer are read at once, with the pages between
_GAP = 4
_LITTLE = sys.byteorder == "little"
#: where a first scan's rows go, a window of leaves at a time: (keys, prints)
PartSink: TypeAlias = "Callable[[array[int], array[int]], None]"


class PagesUnreadable(Exception):
    """The table's pages cannot be read as they are (the reason is the message)."""


@dataclass
class PageMap:
    """A table's leaf pages in rowid order as one run left them: each leaf's hash and cell
    count (so the kept keys of leaf ``j`` are the ``counts[j]`` after those of the leaves
    before it), and for the leaves whose cells continue on overflow pages, those pages in
    chain order (``overflow[i]`` belongs to leaf ``owners[i]``, ascending) and a hash over
    them (``chained[leaf]``)."""

    hashes: array[int] = field(default_factory=lambda: array("q"))
    #: (2 bytes a leaf: a page's cell count is a 16-bit field)
    counts: array[int] = field(default_factory=lambda: array("H"))
    owners: array[int] = field(default_factory=lambda: array("q"))
    overflow: array[int] = field(default_factory=lambda: array("q"))
    chained: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.hashes)


@dataclass(slots=True)  # (a delta holds one a changed leaf and one a run of kept ones)
class Leaf:
    """One leaf of a scan: either as kept (its bytes and overflow pages are those of kept
    leaf ``kept``: its rows are the kept ones at ``start``, ``count`` of them) or the rowids
    and cell prints parsed from it, in rowid order."""

    kept: int = -1
    start: int = 0
    count: int = 0
    keys: array[int] = field(default_factory=lambda: array("q"))
    prints: array[int] = field(default_factory=lambda: array("q"))
    #: its cells' overflow pages, in chain order (parsed leaves)
    chain: list[int] = field(default_factory=list)


@dataclass
class Parsed:
    """Every leaf of a table parsed in file order (a first run): rowids, prints (unsigned),
    where each page's rows start, the overflow pages of those that have any."""

    keys: array[int] = field(default_factory=lambda: array("q"))
    prints: array[int] = field(default_factory=lambda: array("Q"))
    starts: dict[int, int] = field(default_factory=dict)
    chains: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Header:
    """What the scan needs of the file's 100-byte header."""

    page_size: int
    usable: int
    page_count: int
    change_counter: int
    wal: bool


def read_header(data: bytes) -> Header:
    """The header of a SQLite file (its first 100 bytes)."""
    if len(data) < 100 or data[:16] != b"SQLite format 3\x00":
        raise PagesUnreadable("the file does not start with a SQLite header")
    size = _U16.unpack_from(data, 16)[0]
    page_size = 65536 if size == 1 else size
    if page_size < 512 or page_size & (page_size - 1):
        raise PagesUnreadable(f"page size {page_size} is not one SQLite writes")
    if data[18] not in (1, 2) or data[19] not in (1, 2):
        raise PagesUnreadable(f"file format version {data[18]}/{data[19]} is not known")
    return Header(
        page_size=page_size,
        usable=page_size - data[20],
        page_count=_U32.unpack_from(data, 28)[0],
        change_counter=_U32.unpack_from(data, 24)[0],
        wal=data[18] == 2 or data[19] == 2,
    )


def _varint(page: bytes | memoryview, at: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        byte = page[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | page[at + 8], at + 9


def _cell_count(high: int, low: int) -> int:
    return high << 8 | low


def _signed(value: int) -> int:
    return value - _SPAN if value >= _TOP else value


class PageFile:
    """The pages of a SQLite file, read by offset (no map: mapped pages would count as the
    process's memory). Keep it open as long as the connection whose lock it reads under:
    closing a file descriptor of the database drops every POSIX lock this process holds on
    it, SQLite's included."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.handle = open(path, "rb", buffering=0)  # noqa: SIM115 (closed in close())
        self.size = 0
        self.count = 0
        self.usable = 0

    def header(self) -> Header:
        """The file's header as it is now (and the page size the reads use)."""
        self.handle.seek(0)
        head = read_header(self.handle.read(100) or b"")
        self.size, self.count, self.usable = head.page_size, head.page_count, head.usable
        return head

    def page(self, number: int) -> bytes:
        """Page ``number`` (from 1)."""
        if not 1 <= number <= self.count:
            raise PagesUnreadable(f"page {number} is out of the file")
        self.handle.seek((number - 1) * self.size)
        data = self.handle.read(self.size) or b""
        if len(data) != self.size:
            raise PagesUnreadable("the file is shorter than its header says")
        return data

    def leaf_hashes(
        self, numbers: list[int], seed: int, parsed: Parsed | None = None
    ) -> dict[int, tuple[int, int]]:
        """Page number -> (hash, cell count) of the leaves ``numbers``, read in file order,
        pages next to each other at once (a table's leaves mostly are); ``parsed``: every
        leaf's cells into it too (no kept map to compare with)."""
        usable = self.usable
        order, size = sorted(numbers), self.size
        found: dict[int, tuple[int, int]] = {}
        at = 0
        while at < len(order):
            end = at + 1
            while end < len(order) and end - at < 256 and order[end] == order[end - 1] + 1:
                end += 1
            first = order[at]
            if first < 1 or order[end - 1] > self.count:
                raise PagesUnreadable(f"page {order[end - 1]} is out of the file")
            self.handle.seek((first - 1) * size)
            data = memoryview(self.handle.read(size * (end - at)) or b"")
            if len(data) != size * (end - at):
                raise PagesUnreadable("the file is shorter than its header says")
            if data[::size].tobytes().count(0x0D) != end - at:
                raise PagesUnreadable("a page of the table's b-tree is not a leaf")
            if parsed is None:  # a delta's common case: C-speed loops over the pages
                length = len(data)
                pages = map(
                    data.__getitem__,
                    map(slice, range(0, length, size), range(size, length + size, size)),
                )
                digests = array("Q", map(xxh3_64_intdigest, pages, repeat(seed)))
                signed = array("q", digests.tobytes())
                counts = map(_cell_count, data[3::size], data[4::size])
                found.update(
                    zip(
                        range(first, first + end - at),
                        zip(signed, counts, strict=True),
                        strict=True,
                    )
                )
                at = end
                continue
            for i in range(end - at):
                page = data[i * size : (i + 1) * size]
                found[first + i] = (_signed(xxh3_64_intdigest(page, seed)), page[3] << 8 | page[4])
                if parsed is not None:
                    chain: list[int] = []
                    parsed.starts[first + i] = len(parsed.keys)
                    _parse(self, page, usable, seed, parsed.keys, parsed.prints, chain)
                    if chain:
                        parsed.chains[first + i] = chain
            at = end
        return found

    def ascending_hashes(
        self, numbers: list[int], seed: int, hashes: array[int], counts: array[int]
    ) -> None:
        """Append the hash and cell count of each leaf of ``numbers`` (ascending) to
        ``hashes`` and ``counts``: leaves at most :data:`_GAP` pages apart are read at once
        with the pages between them (interior pages, another table's), and no leaf has a
        Python object of its own but its page's offset."""
        at = 0
        # where a gap wider than _GAP starts a new read (found at C speed)
        gaps = map(gt, map(sub, islice(numbers, 1, None), numbers), repeat(_GAP))
        breaks = [*compress(range(1, len(numbers)), gaps), len(numbers)]
        for stop in breaks:
            while at < stop:
                end = min(stop, at + 256)
                self._hash_run(numbers[at:end], seed, hashes, counts)
                at = end

    def _hash_run(
        self, numbers: list[int], seed: int, hashes: array[int], counts: array[int]
    ) -> None:
        """:meth:`ascending_hashes` of a few leaves close together, read at once."""
        size, first, last = self.size, numbers[0], numbers[-1]
        if first < 1 or last > self.count:
            raise PagesUnreadable(f"page {last} is out of the file")
        self.handle.seek((first - 1) * size)
        span = size * (last - first + 1)
        data = memoryview(self.handle.read(span) or b"")
        if len(data) != span:
            raise PagesUnreadable("the file is shorter than its header says")
        starts = list(map(mul, map(sub, numbers, repeat(first)), repeat(size)))
        if bytes(map(data.__getitem__, starts)).count(0x0D) != len(numbers):
            raise PagesUnreadable("a page of the table's b-tree is not a leaf")
        pages = map(data.__getitem__, map(slice, starts, map(add, starts, repeat(size))))
        hashes.frombytes(array("Q", map(xxh3_64_intdigest, pages, repeat(seed))).tobytes())
        pairs = bytearray(2 * len(numbers))  # each page's 16-bit cell count, big-endian
        pairs[0::2] = bytes(map(data.__getitem__, map(add, starts, repeat(3))))
        pairs[1::2] = bytes(map(data.__getitem__, map(add, starts, repeat(4))))
        cells = array("H", pairs)
        if _LITTLE:
            cells.byteswap()
        counts.extend(cells)

    def close(self) -> None:
        """Close the file (after the connection that locked it)."""
        self.handle.close()


def scan_table(
    pages: PageFile,
    root: int,
    seed: int,
    kept: PageMap | None,
    parts: PartSink | None = None,
) -> tuple[list[Leaf], PageMap]:
    """The leaves of the table whose b-tree starts at page ``root``, compared with the
    ``kept`` map (None: every leaf is parsed), and the map to keep. Call it while a
    connection holds a read transaction on the file. ``parts``: with no kept map, the rows
    go there a window of leaves at a time (keys ascending) and no leaf is returned; one leaf
    of them all held 16 bytes a row."""
    head, leaves = _table_leaves(pages, root)
    if kept is None and parts is not None:
        new = PageMap()
        for keys, prints in _first_parts(pages, leaves, seed, head, new):
            parts(keys, prints)
        return [], new
    if kept is None:
        return _first_scan(pages, leaves, seed, head)
    values, counts = _leaf_hashes(pages, leaves, seed)
    # this run's map is its leaves' hashes and counts: a leaf as kept has the kept ones
    new = PageMap(values, counts)
    place = _Places(kept, values)
    found: list[Leaf] = []
    number = expect = 0
    while number < len(leaves):
        value, cells = values[number], counts[number]
        at = place.find(value, expect)
        if at >= 0 and kept.counts[at] == cells:
            # (owners ascend: leaves are added in order)
            first, last = bisect_left(kept.owners, at), bisect_right(kept.owners, at)
            if first < last:  # its overflow pages must be as kept too
                chain = kept.overflow[first:last].tolist()
                expect = at + 1  # (as kept or not: past it, as the index's walk is)
                if _chain_hash(pages, chain, seed) == kept.chained.get(at):
                    found.append(Leaf(at, place.start(at), cells))
                    _add(new, number, chain, kept.chained[at])
                    number += 1
                    continue
            else:
                # the leaves from here on as kept from ``at`` on: noted as one run
                limit = min(len(leaves) - number, len(kept) - at)
                if last < len(kept.owners):  # up to the next kept leaf with a chain
                    limit = min(limit, kept.owners[last] - at)
                run = _same_run(values, number, kept.hashes, at, limit)
                start = place.start(at)
                found.append(Leaf(at, start, place.start(at + run) - start))
                number, expect = number + run, at + run
                continue
        leaf = _cells(pages, pages.page(leaves[number]), head.usable, seed)
        found.append(leaf)
        _add(new, number, leaf.chain, _chain_hash(pages, leaf.chain, seed))
        number += 1
    if pages.header().change_counter != head.change_counter:
        raise PagesUnreadable("the file changed while its pages were read")
    return found, new


#: kept leaves looked at past the expected one before the fallback indexes
_NEAR = 8
#: every this many kept leaves, one in the sampled index (re-finds the kept order after a gap)
_SAMPLE = 64
#: unplaced leaves indexed at most (past them a leaf not in the kept order is parsed: a table
#: whose every leaf changed, a new schema's seed, would otherwise index all)
_WANTED = 65536


class _Places:
    """Where this run's leaves sit in the kept map, without an index of every kept leaf
    (sorted copies of the kept hashes held some 100 bytes a leaf at their peak). An unchanged
    stretch of the file has its leaves in the kept order: a leaf is looked for among the few
    kept ones after the last match, then in a sample of the kept hashes (one in
    :data:`_SAMPLE`: after a run of new or dropped leaves, the order is found again within
    that many), and only the hashes neither found are indexed exactly, in one pass over the
    kept map. Hashes of one table's leaves differ (two leaves never hold the same rowid), and
    the leaves found as kept come in the kept order (both are in rowid order): a leaf is as
    kept after the last one found, or not at all."""

    def __init__(self, kept: PageMap, values: array[int]) -> None:
        self.kept = kept
        self.sample = {kept.hashes[j]: j for j in range(0, len(kept), _SAMPLE)}
        # the walk :func:`scan_table` makes, by hashes alone: which leaves it cannot place
        self.wanted: set[int] = set()
        number = expect = 0
        while number < len(values):
            at = self._near(values[number], expect)
            if at < 0:
                if len(self.wanted) < _WANTED:
                    self.wanted.add(values[number])
                number += 1
                continue
            limit = min(len(values) - number, len(kept) - at)
            run = _same_run(values, number, kept.hashes, at, limit)
            number, expect = number + run, at + run
        hits = compress(range(len(kept)), map(self.wanted.__contains__, kept.hashes))
        self.where = {kept.hashes[j]: j for j in hits}
        self.at = self.total = 0

    def _near(self, value: int, expect: int) -> int:
        try:
            return expect + self.kept.hashes[expect : expect + _NEAR].index(value)
        except ValueError:
            return self.sample.get(value, -1)

    def find(self, value: int, expect: int) -> int:
        """The kept leaf of hash ``value`` (-1: none, or past :data:`_WANTED` unplaced
        leaves), ``expect`` the one the kept order gives (the scan walks as the index's walk
        did: a leaf is as kept at or after ``expect``, or not at all)."""
        at = self._near(value, expect)
        if at >= 0:
            return at
        return self.where.get(value, -1)

    def start(self, at: int) -> int:
        """Where kept leaf ``at``'s rows start among the kept keys (summed from the last
        asked: the scan asks mostly forwards)."""
        counts, low, high = self.kept.counts, min(at, self.at), max(at, self.at)
        moved = sum(sum(counts[s : min(s + 65536, high)]) for s in range(low, high, 65536))
        self.total += moved if at >= self.at else -moved
        self.at = at
        return self.total


def _leaf_hashes(pages: PageFile, leaves: array[int], seed: int) -> tuple[array[int], array[int]]:
    """Each leaf's hash and cell count, in the order of ``leaves`` (read a few thousand at
    a time: a dict of them all held ~150 bytes a leaf)."""
    hashes, counts = array("q"), array("H")
    for base in range(0, len(leaves), _WINDOW * 16):
        window = leaves[base : base + _WINDOW * 16].tolist()
        if all(map(lt, window, islice(window, 1, None))):  # in file order: most tables
            pages.ascending_hashes(window, seed, hashes, counts)
            continue
        hashed = pages.leaf_hashes(window, seed)
        hashes.extend(hashed[pgno][0] for pgno in window)
        counts.extend(hashed[pgno][1] for pgno in window)
    return hashes, counts


def _table_leaves(pages: PageFile, root: int) -> tuple[Header, array[int]]:
    """The file's header and the table's leaf pages in rowid order."""
    head = pages.header()
    if head.wal:
        raise PagesUnreadable("the file is in WAL mode (its pages may sit in the -wal file)")
    leaves = _leaves(pages, root)
    if min(leaves) < 1 or max(leaves) > pages.count:
        raise PagesUnreadable("a page of the table's b-tree is out of the file")
    # a byte a page of the file, not a set of the leaves (some 60 bytes a leaf)
    seen = bytearray(pages.count + 1)
    for pgno in leaves:
        if seen[pgno]:
            raise PagesUnreadable("a page is twice in the table's b-tree")
        seen[pgno] = 1
    return head, leaves


def _first_scan(
    pages: PageFile, leaves: array[int], seed: int, head: Header
) -> tuple[list[Leaf], PageMap]:
    """Every leaf parsed (no kept map): one :class:`Leaf` holding all rows, and the map."""
    new = PageMap()
    keys, prints = array("q"), array("q")
    for part_keys, part_prints in _first_parts(pages, leaves, seed, head, new):
        keys.extend(part_keys)
        prints.extend(part_prints)
    return [Leaf(keys=keys, prints=prints, count=len(keys))], new


def _first_parts(
    pages: PageFile, leaves: array[int], seed: int, head: Header, new: PageMap
) -> Iterator[tuple[array[int], array[int]]]:
    """Every leaf parsed (no kept map), :data:`_WINDOW` leaves at a time in rowid order:
    their keys and prints; the map goes into ``new`` as they come."""
    last: int | None = None
    for base in range(0, len(leaves), _WINDOW):
        window = leaves[base : base + _WINDOW].tolist()
        parsed = Parsed()
        hashed = pages.leaf_hashes(window, seed, parsed)
        keys, prints = parsed.keys, array("q", parsed.prints.tobytes())
        if window != sorted(window):  # parsed in file order: put in rowid order
            ends = dict(pairwise([*sorted(parsed.starts.values()), len(keys)]))
            ordered_keys, ordered_prints = array("q"), array("q")
            for pgno in window:
                start = parsed.starts[pgno]
                ordered_keys.extend(keys[start : ends[start]])
                ordered_prints.extend(prints[start : ends[start]])
            keys, prints = ordered_keys, ordered_prints
        if (keys and last is not None and last >= keys[0]) or not all(
            map(lt, keys, islice(keys, 1, None))
        ):
            raise PagesUnreadable("the table's rowids are not ascending")
        last = keys[-1] if keys else last
        new.hashes.extend(hashed[pgno][0] for pgno in window)
        new.counts.extend(hashed[pgno][1] for pgno in window)
        for number, pgno in enumerate(window, base):
            chain = parsed.chains.get(pgno)
            if chain:
                new.owners.extend([number] * len(chain))
                new.overflow.extend(chain)
                new.chained[number] = _chain_hash(pages, chain, seed)
        yield keys, prints
    if pages.header().change_counter != head.change_counter:
        raise PagesUnreadable("the file changed while its pages were read")


def _same_run(ours: array[int], at: int, kept: array[int], start: int, limit: int) -> int:
    """How many hashes from ``ours[at]`` on equal those from ``kept[start]`` on (at least
    the first; at most ``limit``): slices compared at C speed, doubling then halving."""
    good, step = 1, 2
    while step <= limit and ours[at : at + step] == kept[start : start + step]:
        good, step = step, step * 2
    bad = min(step, limit + 1)
    while bad - good > 1:
        middle = (good + bad) // 2
        if ours[at : at + middle] == kept[start : start + middle]:
            good = middle
        else:
            bad = middle
    return good


def _add(new: PageMap, number: int, chain: list[int], whole: int) -> None:
    if chain:
        new.owners.extend([number] * len(chain))
        new.overflow.extend(chain)
        new.chained[number] = whole


def _chain_hash(pages: PageFile, chain: list[int], seed: int) -> int:
    """The hash over the overflow pages ``chain`` (0 for none)."""
    if not chain:
        return 0
    digest = xxh3_64(b"", seed)
    for number in chain:
        if not 1 <= number <= pages.count:
            return 0  # not a page of the file: matches no kept chain
        digest.update(pages.page(number))
    return _signed(digest.intdigest()) or 1


def _leaves(pages: PageFile, root: int) -> array[int]:
    """The page numbers of the leaves under ``root``, in rowid order. Every leaf of a b-tree
    is as deep as the others: the first child of a page tells whether its children are
    leaves (they are not read here; :func:`scan_table` checks their type as it hashes them).
    An array: a list held some 36 bytes a leaf, and a table of long rows has a leaf a row."""
    if pages.page(root)[0] == 0x0D:
        return array("I", [root])
    level = array("I", [root])
    seen = 0
    while True:
        children: array[int] = array("I")  # (page numbers are 32-bit: 4 bytes a leaf)
        for pgno in level:
            seen += 1
            if pgno == 1 or seen > pages.count:
                raise PagesUnreadable(f"page {pgno} cannot be in a table's b-tree")
            page = pages.page(pgno)
            if page[0] != 0x05:
                raise PagesUnreadable(f"page {pgno} is not a table b-tree page (type {page[0]})")
            cells = _U16.unpack_from(page, 3)[0]
            pointers = struct.unpack_from(f">{cells}H", page, 12)
            # each cell's first 4 bytes, its left child (big-endian), at C speed
            lefts = array(
                "I",
                b"".join(
                    map(page.__getitem__, map(slice, pointers, map(add, pointers, repeat(4))))
                ),
            )
            if _LITTLE:
                lefts.byteswap()
            children.extend(lefts)
            children.append(_U32.unpack_from(page, 8)[0])
        if pages.page(children[0])[0] == 0x0D:
            return children
        level = children


def _cells(pages: PageFile, page: bytes, usable: int, seed: int) -> Leaf:
    """A leaf parsed: its rowids, cell prints and overflow pages (``page`` as bytes: read
    a byte at a time faster than through a memoryview)."""
    keys: array[int] = array("q")
    prints: array[int] = array("Q")
    chain: list[int] = []
    _parse(pages, page, usable, seed, keys, prints, chain)
    if not all(map(lt, keys, islice(keys, 1, None))):
        raise PagesUnreadable("a leaf's rowids are not ascending")
    return Leaf(-1, 0, len(keys), keys, array("q", prints.tobytes()), chain)


def _parse(
    pages: PageFile,
    page: memoryview | bytes,
    usable: int,
    seed: int,
    keys: array[int],
    prints: array[int],
    chain: list[int],
) -> None:
    """Append a leaf's rowids to ``keys``, its cells' prints (unsigned: as signed later, at
    C speed) to ``prints``, its overflow pages to ``chain``. Every source row passes here
    on a first run: the common short varints are read inline."""
    most = usable - 35
    least = (usable - 12) * 32 // 255 - 23
    key, out, digest_of = keys.append, prints.append, xxh3_64_intdigest
    for at in struct.unpack_from(f">{page[3] << 8 | page[4]}H", page, 8):
        length = page[at]
        if length < 0x80:
            body = at + 1
        elif page[at + 1] < 0x80:
            length = (length & 0x7F) << 7 | page[at + 1]
            body = at + 2
        else:
            length, body = _varint(page, at)
        rowid = page[body]
        if rowid < 0x80:
            body += 1
        elif page[body + 1] < 0x80:
            rowid = (rowid & 0x7F) << 7 | page[body + 1]
            body += 2
        elif page[body + 2] < 0x80:
            rowid = (rowid & 0x7F) << 14 | (page[body + 1] & 0x7F) << 7 | page[body + 2]
            body += 3
        else:
            rowid, body = _varint(page, body)
            rowid = _signed(rowid)
        key(rowid)
        if length <= most:
            if body + length > len(page):
                raise PagesUnreadable("a cell runs past the end of its page")
            out(digest_of(page[at : body + length], seed))
        else:
            out(_overflowing(pages, page, at, body, length, usable, least, most, seed, chain))


def _overflowing(
    pages: PageFile,
    page: memoryview | bytes,
    at: int,
    body: int,
    length: int,
    usable: int,
    least: int,
    most: int,
    seed: int,
    chain: list[int],
) -> int:
    """The (unsigned) print of a cell whose payload continues on overflow pages: its local
    bytes and its chain's payload (not the page numbers); the pages join ``chain``."""
    local = least + (length - least) % (usable - 4)
    if local > most:
        local = least
    digest = xxh3_64(page[at : body + local], seed)
    left = length - local
    number = _U32.unpack_from(page, body + local)[0]
    while left > 0:
        if len(chain) > pages.count:
            raise PagesUnreadable("an overflow chain loops")
        chain.append(number)
        data = pages.page(number)
        take = min(left, usable - 4)
        digest.update(data[4 : 4 + take])
        left -= take
        number = _U32.unpack_from(data, 0)[0]
    return int(digest.intdigest())


def table_root(conn: sqlite3.Connection, table: str) -> tuple[int, int]:
    """The root page of ``table`` and the seed of its prints (its ``CREATE`` statement's
    hash), read on ``conn`` (inside the reader's transaction)."""
    row = conn.execute(
        "SELECT rootpage, sql FROM sqlite_schema WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if row is None or not row[0]:
        raise PagesUnreadable(f"table {table!r} has no b-tree of its own")
    return int(row[0]), xxh3_64_intdigest(str(row[1]).encode())


def rowid_blocker(conn: sqlite3.Connection, table: str, key: str) -> str:
    """Why ``table``'s rows cannot be printed from its pages keyed by ``key`` ("" when they
    can): a WITHOUT ROWID table, or a key that is not the rowid's alias (its
    ``INTEGER PRIMARY KEY``: SQLite then reads the rowid, not a column)."""
    quoted = '"' + table.replace('"', '""') + '"'
    named = '"' + key.replace('"', '""') + '"'
    kind = conn.execute(
        "SELECT type, rootpage FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')",
        (table,),
    ).fetchone()
    if kind is None or kind[0] != "table" or not kind[1]:
        return "not a table with a b-tree of its own (a view or a virtual table)"
    try:
        conn.execute(f"SELECT rowid FROM {quoted} LIMIT 0").fetchall()
    except sqlite3.OperationalError:
        return "a WITHOUT ROWID table"
    found = conn.execute(f"EXPLAIN SELECT {named} FROM {quoted} NOT INDEXED")
    steps = [str(r[1]) for r in found]
    if "Rowid" not in steps or "Column" in steps:
        return f"the key {key!r} is not the table's INTEGER PRIMARY KEY (its rowid)"
    return ""


#: what the side process gives per table: its page map, or why its pages could not be read
#: (its keys and prints went to the caller's ``sink`` as they came)
SideScan: TypeAlias = "PageMap | str"
#: where the side process's rows go, a part at a time: (table, keys, prints)
Sink: TypeAlias = "Callable[[str, array[int], array[int]], None]"


def side_scan(uri: str, tables: list[str], path: str, sink: Sink) -> dict[str, SideScan]:
    """Scan ``tables`` of the file at ``uri`` in one process of its own (``path``: its
    PYTHONPATH), under one read transaction: per table every row's key and cell print, in
    rowid order, a few hundred leaves at a time into ``sink`` (never all at once: a process's
    memory stays flat), and its page map, or why its pages could not be read (then what
    ``sink`` got of it is to be dropped)."""
    import subprocess

    if getattr(sys, "frozen", False):
        return dict.fromkeys(tables, "a frozen app starts no process of its own")
    env = dict(os.environ, PYTHONPATH=path)
    # this file as a script (it imports nothing of Ferry): the child starts in a fraction of
    # the time importing the package takes; -P keeps its folder (json.py, …) off the path,
    # -S skips site (its .pth files: an editable install's finder): ``path`` has xxhash
    child = subprocess.Popen(
        [sys.executable, "-S", "-P", __file__, uri, *tables],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    found: dict[str, SideScan] = {}
    try:
        while True:  # our own child's output: (kind, table, …) pickles, one after another
            try:
                kind, table, *rest = pickle.load(child.stdout)
            except EOFError:
                break
            if kind == "rows":
                sink(table, array("q", rest[0]), array("q", rest[1]))
            elif kind == "map":
                hashes, counts, owners, overflow, chained = rest
                found[table] = PageMap(hashes, counts, owners, overflow, chained)
            else:
                found[table] = rest[0]
    except (pickle.UnpicklingError, ValueError) as exc:
        found = {}
        broken = f"the process reading the pages gave what is not a scan ({exc})"
    else:
        broken = ""
    finally:
        child.stdout.close()
        errors = child.stderr.read()
        child.stderr.close()
        code = child.wait()
    if code != 0 or broken:
        last = errors.decode(errors="replace").strip().splitlines() or [broken or "failed"]
        return dict.fromkeys(tables, f"the process reading the pages failed: {last[-1]}")
    for table in tables:
        found.setdefault(table, "the process reading the pages said nothing of it")
    return found


def _scan_file(uri: str, tables: list[str]) -> None:
    """The side process: scan ``tables`` of the file at ``uri`` under one read transaction;
    per table its rows a window of leaves at a time, then its map's arrays (or why not), as
    pickles to stdout (plain values: run as __main__, this module's classes would not
    unpickle)."""

    out = sys.stdout.buffer
    # No waiting: the run's reader holds its read lock, so a writer waiting to commit would
    # wait on it while this waited on the writer, until the app's write timed out.
    conn = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    pages = PageFile(path)  # (closed at exit, after the lock)
    for table in tables:
        try:
            root, seed = table_root(conn, table)
            head, leaves = _table_leaves(pages, root)
            new = PageMap()
            for keys, prints in _first_parts(pages, leaves, seed, head, new):
                pickle.dump(("rows", table, keys.tobytes(), prints.tobytes()), out, 5)
            chained = new.chained
            pickle.dump(
                ("map", table, new.hashes, new.counts, new.owners, new.overflow, chained), out, 5
            )
        except PagesUnreadable as exc:
            pickle.dump(("failed", table, str(exc)), out, 5)
        except (OSError, ValueError, IndexError, struct.error) as exc:
            pickle.dump(("failed", table, f"the file's pages could not be parsed ({exc})"), out, 5)
    out.flush()


#: a table a side process compares with its kept map: (name, root page, seed, kept map)
DeltaJob: TypeAlias = "tuple[str, int, int, PageMap]"
#: what it gives per table: the leaves and the map to keep, or why its pages were not read
DeltaScan: TypeAlias = "tuple[list[Leaf], PageMap] | str"


class PageComparison(Protocol):
    """What compares a table's pages with its kept map for a delta run: a
    :class:`SideDelta`, or the process begun with the command (:mod:`ferry.earlydelta`)."""

    tables: list[str]

    def ready(self, table: str) -> bool:
        """Whether :meth:`result` of ``table`` would answer at once."""
        ...

    def result(self, table: str) -> DeltaScan:
        """``table``'s leaves and map, or why not."""
        ...

    def close(self) -> None:
        """End what still runs of it."""
        ...


class SideDelta:
    """Tables scanned against their kept page maps by a process of its own, while the run
    is planned or compares another table (a delta run: one core would idle otherwise).

    The process reads the file's pages only, no connection of its own: the caller's reader
    holds its read transaction from before :meth:`start` until after :meth:`close`, so in
    rollback-journal mode no writer can commit meanwhile and the pages are the caller's
    snapshot. ``counter`` is the header's change counter the caller read under that lock;
    the process checks it before each table and (:func:`scan_table`) after, so pages of
    another snapshot are never taken (the table is then scanned by the caller)."""

    def __init__(self, path: str, jobs: list[DeltaJob], counter: int, pythonpath: str) -> None:
        import threading

        self.tables = [job[0] for job in jobs]
        self._input = (path, counter, [(t, r, s, *map_fields(m)) for t, r, s, m in jobs])
        self._pythonpath = pythonpath
        self._found: dict[str, DeltaScan] = {}
        self._ready = {table: threading.Event() for table in self.tables}
        self._child: Any = None
        self._thread = threading.Thread(target=self._run, name="ferry-side-delta", daemon=True)

    def start(self) -> None:
        """Start the process (and the thread that feeds it and collects what it gives)."""
        self._thread.start()

    def ready(self, table: str) -> bool:
        """Whether :meth:`result` of ``table`` would answer at once."""
        return self._ready[table].is_set()

    def result(self, table: str) -> DeltaScan:
        """``table``'s leaves and map, once the process gave them (or why not)."""
        self._ready[table].wait()
        return self._found[table]

    def close(self) -> None:
        """End the process if it still runs, and wait for it: the caller's lock must outlive
        every read of the file the process makes."""
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()
        if self._thread.ident is not None:  # (started)
            self._thread.join()

    def _run(self) -> None:
        import subprocess

        try:
            self._child = subprocess.Popen(
                [sys.executable, "-S", "-P", __file__, "--delta"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONPATH=self._pythonpath),
            )
            child = self._child
            assert child.stdin is not None and child.stdout is not None
            with child.stdin:
                pickle.dump(self._input, child.stdin, 5)
            self._input = ("", 0, [])
            while True:  # our own child's pickles: ("delta", table, leaves, *map) or failed
                try:
                    kind, table, *rest = pickle.load(child.stdout)
                except EOFError:
                    break
                self._found[table] = delta_of(rest) if kind == "delta" else str(rest[0])
                self._ready[table].set()
            child.stdout.close()
            if child.wait() != 0:
                raise OSError(f"it ended with status {child.returncode}")
        except (OSError, ValueError, pickle.UnpicklingError) as exc:
            for table in self.tables:
                self._found.setdefault(table, f"the process reading the pages failed: {exc}")
        finally:
            for table in self.tables:
                self._found.setdefault(table, "the process reading the pages said nothing of it")
                self._ready[table].set()


def map_fields(pages: PageMap) -> tuple[Any, ...]:
    """A map's arrays, as a side process sends them (:func:`delta_of` takes them back)."""
    return pages.hashes, pages.counts, pages.owners, pages.overflow, pages.chained


def map_digest(pages: PageMap) -> int:
    """A hash of everything in a map: two processes holding maps of one digest hold the same
    map."""
    digest = xxh3_64()
    for values in (pages.hashes, pages.counts, pages.owners, pages.overflow):
        digest.update(len(values).to_bytes(8, "little"))
        digest.update(values.tobytes())
    for leaf, value in sorted(pages.chained.items()):
        digest.update(leaf.to_bytes(8, "little", signed=True))
        digest.update(value.to_bytes(8, "little", signed=True))
    return int(digest.intdigest())


#: chunk numbers of a kept page map's bands in ``row_prints`` (:mod:`ferry.load.pagemaps`):
#: -1 - i (leaf counts, hashes), then overflow pages by leaf, then the chains' hashes by leaf
MAP_BANDS = (-1, -(2**20) - 1, -(2**21) - 1)


def kept_array(data: bytes) -> array[int]:
    """A kept map's or print chunk's 8-byte integers (kept little-endian)."""
    values = array("q", data)
    if not _LITTLE:
        values.byteswap()
    return values


def page_map_of(rows: list[tuple[int, bytes, bytes]]) -> PageMap | None:
    """A page map from its ``row_prints`` rows (chunk, keys, prints), chunks descending
    (None: no rows)."""
    bands: list[tuple[array[int], array[int]]] = [(array("q"), array("q")) for _ in MAP_BANDS]
    bands[0] = (array("H"), array("q"))  # the leaves' counts: 2 bytes each in memory
    for chunk, keys, values in rows:
        band = sum(1 for first in MAP_BANDS[1:] if chunk <= first)
        bands[band][0].fromlist(kept_array(keys).tolist())
        bands[band][1].extend(kept_array(values))
    if not rows:
        return None
    (counts, hashes), (owners, overflow), (leaves, chain_hashes) = bands
    return PageMap(hashes, counts, owners, overflow, dict(zip(leaves, chain_hashes, strict=True)))


def coded_leaves(leaves: list[Leaf]) -> list[tuple[Any, ...]]:
    """A scan's leaves as plain values (as kept: (kept, start, count, None); parsed: (-1,
    keys, prints, chain)), as a side process sends them."""
    return [
        (leaf.kept, leaf.start, leaf.count, None)
        if leaf.kept >= 0
        else (-1, leaf.keys.tobytes(), leaf.prints.tobytes(), leaf.chain)
        for leaf in leaves
    ]


def delta_of(rest: list[Any]) -> tuple[list[Leaf], PageMap]:
    """A side process's leaves and map (plain values: :func:`coded_leaves`,
    :func:`map_fields`) as a scan's."""
    coded, *fields = rest
    leaves = []
    for kept, first, second, chain in coded:
        if kept >= 0:  # (kept, start, count)
            leaves.append(Leaf(kept, first, second))
        else:  # (-1, keys, prints, chain)
            keys = array("q", first)
            leaves.append(Leaf(keys=keys, prints=array("q", second), count=len(keys), chain=chain))
    return leaves, PageMap(*fields)


def _delta_file() -> None:
    """The side process of :class:`SideDelta`: (path, counter, jobs) from stdin; per table
    its leaves (as kept: (kept, start, count, None); parsed: (-1, keys, prints, chain)) and
    its map's arrays, or why not, as pickles to stdout."""

    out = sys.stdout.buffer
    path, counter, jobs = pickle.load(sys.stdin.buffer)
    pages = PageFile(path)
    for table, root, seed, *kept in jobs:
        try:
            if pages.header().change_counter != counter:
                raise PagesUnreadable("the file changed since the run's read began")
            leaves, new = scan_table(pages, root, seed, PageMap(*kept))
            pickle.dump(("delta", table, coded_leaves(leaves), *map_fields(new)), out, 5)
        except PagesUnreadable as exc:
            pickle.dump(("failed", table, str(exc)), out, 5)
        except (OSError, ValueError, IndexError, struct.error) as exc:
            pickle.dump(("failed", table, f"the file's pages could not be parsed ({exc})"), out, 5)
        out.flush()  # (the caller takes each table as it comes)


if __name__ == "__main__":
    if sys.argv[1:] == ["--delta"]:
        _delta_file()
    else:
        _scan_file(sys.argv[1], sys.argv[2:])


__all__ = [
    "MAP_BANDS",
    "DeltaJob",
    "DeltaScan",
    "Header",
    "Leaf",
    "PageComparison",
    "PageFile",
    "PageMap",
    "PagesUnreadable",
    "SideDelta",
    "SideScan",
    "Sink",
    "coded_leaves",
    "delta_of",
    "kept_array",
    "map_digest",
    "map_fields",
    "page_map_of",
    "read_header",
    "rowid_blocker",
    "scan_table",
    "side_scan",
    "table_root",
]
