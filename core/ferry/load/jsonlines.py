"""JSON files laid out one record per line: a record's print is that of its line, so a delta
run parses only the lines that changed.

A JSON array written one record per line (``[``, then ``{…},`` lines, then ``]``; the commas
may lead instead) is common for app exports and is how the benchmark's file is laid out. A
run that reads such a file whole (the ordinary read) notes each record's key in file order;
a pass over the raw lines afterwards (:func:`record_line_prints`) gives each record its
line's print (:mod:`ferry.load.linescan`), kept only when the lines and the records agree in
number (then each line holds exactly one record).

A delta run reads the lines without parsing them (:func:`changed_rows`), and compares them
with the kept prints over whole arrays, not a Python step per line (first each line with the
print kept at its place, then what differs there as sets): a line whose print was kept is the
very text of a record the last run wrote, whatever its place in the file, and goes no further;
every other line is parsed alone, exactly as the whole read would parse it
(:meth:`ferry.sources.json.JsonSource.rows_of_lines`), and compared by its key. A kept print
no line has any more is a record changed or gone. A line that is not one record, or a line
met twice, ends the delta: the run starts over comparing in full (the reason in its
decision).
"""

from __future__ import annotations

import asyncio
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import compress, islice, pairwise
from operator import and_, eq, or_
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .linescan import FLIP, NotLines, record_line_blocks, record_lines, record_text, signed_prints
from .printbook import PrintBook
from .printfile import PrintFile
from .route import Route, RunView

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..sources.json import JsonSource

_T = TypeVar("_T")

#: lines unlike the kept ones at their place held in memory beyond which (and beyond that
#: share of the lines) a delta gives up: records far from the kept (key) order
_MAX_ODD = 100_000
_MAX_ODD_SHARE = 0.2
#: prints compared as one slice before one at a time (:func:`same_flags`), and its flags
_STRIDE = 32
_EQUAL = [b"\1" * n for n in range(_STRIDE + 1)]
#: ones in a flag string below one in this many are found one by one (:func:`ones`)
_FEW = 16
#: records looked at, and their longest text, to tell a file laid out one record per line
_PROBE = 3
_PROBE_BYTES = 1024 * 1024


def laid_by_line(path: Path) -> bool:
    """Whether the file's first records each lie alone on a line (a look at its start)."""
    try:
        texts = list(islice(record_lines(path), _PROBE))
        return bool(texts) and all(
            len(t) < _PROBE_BYTES and type(json.loads(t)) is dict for t in texts
        )
    except (NotLines, ValueError, OSError):
        return False


def line_prints(path: Path) -> Iterator[array[int]]:
    """The print of each record line, in file order, a block at a time (raises
    :class:`NotLines`)."""
    for block in record_line_blocks(path):
        yield signed_prints(block)


def record_line_prints(reader: JsonSource, route: Route) -> None:
    """After the ordinary read noted each record's key in file order: give each its line's
    print, or mark the book not to be kept when the file is not one record per line (a
    worker thread)."""
    book = route.prints
    assert book is not None
    try:
        paired = book.mine.with_prints(line_prints(reader.path))
    except (NotLines, OSError):
        paired = None
    if paired is None:  # (lines and records differ in number)
        book.whole = False
        return
    book.mine.close()
    book.mine = paired


def changed_rows(reader: JsonSource, route: Route, batch_size: int) -> list[dict[str, Any]]:
    """Read the file's lines against the kept prints (a worker thread): the rows of the
    records that are new or changed, the book told which. Raises :class:`NotLines` when the
    file is not laid out one record per line or a line repeats.

    Each line is first compared with the kept print at its own place (kept prints are in key
    order, which is the file's order in most exports; each block is lined up by its first
    record's key), at C speed and with no set of every print in memory; only the lines and
    kept prints that differ there are compared as sets, so a line that moved is still met
    unchanged. Too many lines out of place (a file in another order) end the delta."""
    book = route.prints
    assert book is not None and book.kept is not None
    kept = book.kept
    lines = at = 0
    matched = bytearray(len(kept))  # kept rows a line met at their place
    odd_lines: list[bytes] = []  # lines unlike the kept one at their place
    odd_prints: list[int] = []
    for block in record_line_blocks(reader.path):
        prints = signed_prints(block)
        count = len(prints)
        # the block lines up with the kept rows from its first record's key on: an insert
        # or a delete shifts the rest of one block at most
        at = _place_of(block[0], book.field, kept, at)
        window = kept.span(at, at + count)[1]
        same = same_flags(prints, window)
        before = matched[at : at + len(same)]
        if before.find(1) < 0:  # no kept row here met yet (a shift back only)
            matched[at : at + len(same)] = same
        elif any(map(and_, before, same)):
            raise NotLines("a line is repeated")
        else:
            matched[at : at + len(same)] = bytes(map(or_, before, same))
        differ = (same + bytes(count - len(same))).translate(FLIP)
        odd_lines += picked(block, differ)
        odd_prints += picked(prints, differ)
        lines += count
        at += count
        if len(odd_lines) > _MAX_ODD and len(odd_lines) > lines * _MAX_ODD_SHARE:
            raise NotLines("the records are far from the order the last run kept")
    unmatched = matched.translate(FLIP)
    odd_kept: list[int] = []  # kept prints no line met at their place
    odd_places: list[int] = []
    at = 0
    for _, theirs in kept.chunks():
        places = ones(unmatched[at : at + len(theirs)])
        odd_kept += map(theirs.__getitem__, places)
        odd_places += (at + place for place in places)
        at += len(theirs)
    met = set(odd_kept)
    fresh = set(odd_prints)
    if len(fresh) != len(odd_prints):
        raise NotLines("a line is repeated")
    new = bytes(map(met.__contains__, odd_prints)).translate(FLIP)
    texts = list(map(record_text, compress(odd_lines, new)))
    try:
        rows = reader.rows_of_lines(texts, book.field, batch_size) if texts else []
    except Exception as exc:
        raise NotLines(str(exc)) from None
    if len(rows) != len(texts):
        raise NotLines("a line holds other than one record")
    # kept rows no line has any more: changed or gone
    gone = list(compress(odd_places, bytes(map(fresh.__contains__, odd_kept)).translate(FLIP)))
    _note_lines(book, gone, [row.get(book.field) for row in rows], list(compress(odd_prints, new)))
    book.unchanged = lines - len(texts)
    return rows


def same_flags(prints: array[int], window: array[int]) -> bytes:
    """``bytes(map(eq, prints, window))`` (as long as the shorter): a run of
    :data:`_STRIDE` equal prints is told by one comparison of the two slices (at C speed),
    only a run that differs a print at a time."""
    found: list[bytes] = []
    count = min(len(prints), len(window))
    for start in range(0, count, _STRIDE):
        end = min(start + _STRIDE, count)
        mine, kept = prints[start:end], window[start:end]
        found.append(_EQUAL[end - start] if mine == kept else bytes(map(eq, mine, kept)))
    return b"".join(found)


def ones(flags: bytes | bytearray) -> list[int]:
    """The places of the ones in ``flags`` (bytes 0 or 1): found with ``find`` when they are
    few (the usual delta), else by ``compress`` over every place."""
    if flags.count(1) * _FEW > len(flags):
        return list(compress(range(len(flags)), flags))
    found: list[int] = []
    at = flags.find(1)
    while at >= 0:
        found.append(at)
        at = flags.find(1, at + 1)
    return found


def picked(values: Sequence[_T], flags: bytes | bytearray) -> list[_T]:
    """``compress(values, flags)``, a step per one rather than per value when they are few."""
    if flags.count(1) * _FEW > len(flags):
        return list(compress(values, flags))
    return list(map(values.__getitem__, ones(flags)))


def _place_of(line: bytes, field: str, kept: PrintFile, otherwise: int) -> int:
    """Where the record of ``line`` goes among the kept keys (``otherwise`` when its key
    cannot be told)."""
    try:
        key = json.loads(record_text(line)).get(field)
    except (ValueError, AttributeError):
        return otherwise
    return kept.position(key) if type(key) is int else otherwise


def _note_lines(book: PrintBook, gone: list[int], keys: list[Any], prints: list[int]) -> None:
    """Tell the book the outcome of a pass over the lines: the kept rows ``gone`` (their line
    changed or vanished; ascending) and the new or changed records' ``keys`` and ``prints``;
    build the prints this run keeps, in key order, from the kept ones a slice at a time."""
    kept = book.kept
    assert kept is not None
    count = len(kept)
    book.seen = bytearray(b"\1") * count
    for at in gone:
        book.seen[at] = 0
    gone_set = set(gone)
    # (place among the kept rows, 0 for a row that goes in before it / 1 for one left out)
    events: list[tuple[int, int, int, int]] = [(at, 1, 0, 0) for at in gone]
    pairs: list[tuple[int, int]] = []
    for key, value in zip(keys, prints, strict=True):
        if type(key) is not int or not -(2**63) <= key < 2**63:
            book.whole = False  # nothing is kept (PrintBook.note)
        else:
            pairs.append((key, value))
    pairs.sort()  # (looked up in one pass; the outcome does not depend on the order)
    for (key, value), (at, found) in zip(pairs, kept.places([k for k, _ in pairs]), strict=True):
        if found:
            if at not in gone_set or book.seen[at]:
                book.repeated = True  # its kept line is still there, or it came twice
            book.seen[at] = 1
        events.append((at, 0, key, value))
    book.changed = [key for key in keys if type(key) is int]
    events.sort()
    added = [(e[2], e[0]) for e in events if e[1] == 0]
    if any(a[0] >= b[0] for a, b in pairwise(added)):
        book.repeated = True  # a key twice among the new lines
    # this run's prints: the kept ones whose line is unchanged, the new ones merged in
    book.mine.close()
    book.mine = merged_prints(kept, gone, [(e[0], e[2], e[3]) for e in events if e[1] == 0])


def merged_prints(kept: PrintFile, gone: list[int], added: list[tuple[int, int, int]]) -> PrintFile:
    """The kept pairs but those at the places ``gone`` (ascending), with the pairs of
    ``added`` (place, key, print; in order) each put in before the kept pair at its place,
    built a kept chunk at a time: slices of the chunk in memory between the changes, a chunk
    nothing touches copied whole."""
    out = PrintFile()
    start = gone_at = added_at = 0
    for keys, prints in kept.chunks():
        end = start + len(keys)
        gone_end = bisect_left(gone, end, gone_at)
        added_end = bisect_left(added, (end,), added_at)
        changes = sorted(
            [(at - start, 1, 0, 0) for at in gone[gone_at:gone_end]]
            + [(at - start, 0, key, value) for at, key, value in added[added_at:added_end]]
        )
        done = 0
        for place, left_out, key, value in changes:
            if place > done:
                out.extend(keys[done:place], prints[done:place])
                done = place
            if left_out:
                done = place + 1
            else:
                out.append(key, value)
        out.extend(keys[done:], prints[done:])
        start, gone_at, added_at = end, gone_end, added_end
    for _, key, value in added[added_at:]:  # beyond the last kept key
        out.append(key, value)
    return out


async def line_source(run: RunView, spec: TableSpec) -> bool:
    """Whether ``spec`` is fed by a JSON file whose records may lie one per line, read whole
    by this spec alone (no child tables, no sample): its prints are then its lines'."""
    reader = run.readers.get(spec.source)
    if (
        run.sample is not None
        or reader is None
        or not reader.capabilities.record_lines
        or sum(1 for s in run.plan.tables if s.source == spec.source) != 1
        or any(name.startswith(spec.source + ".") for name in run.source_tables)
    ):
        return False
    json = cast("JsonSource", reader)  # the one reader that may lay records out by line
    return await asyncio.to_thread(json.line_records) and await asyncio.to_thread(
        laid_by_line, json.path
    )


__all__ = [
    "NotLines",
    "changed_rows",
    "laid_by_line",
    "line_prints",
    "line_source",
    "merged_prints",
    "record_line_prints",
]
