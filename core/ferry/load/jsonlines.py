"""JSON files laid out one record per line: a record's print is that of its line, so a delta
run parses only the lines that changed.

A JSON array written one record per line (``[``, then ``{…},`` lines, then ``]``; the commas
may lead instead) is common for app exports and is how the benchmark's file is laid out. A
run that reads such a file whole (the ordinary read) notes each record's key in file order;
a pass over the raw lines afterwards (:func:`record_line_prints`, a blake2b of each line
without its comma) gives each record its print, kept only when the lines and the records
agree in number and every line holds one ``{…}``. A delta run then reads the lines without
parsing them (:func:`changed_rows`): a line whose print is the one kept for the record at
the same place is unchanged and goes no further; any other line is parsed alone, exactly as
the whole read would parse it (:meth:`ferry.sources.json.JsonSource.rows_of_lines`), and
compared by its key. A line that is not one record, or records far from their kept order,
end the delta: the run starts over comparing in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..values.rowprint import text_print
from .route import Route
from .spill import SpillArray

if TYPE_CHECKING:
    from ..sources.json import JsonSource

#: records looked at, and their longest text, to tell a file laid out one record per line
_PROBE = 3
_PROBE_BYTES = 1024 * 1024
#: lines read before the share of lines out of their kept place is judged
_JUDGE_AFTER = 2000
#: lines out of their kept place (parsed alone) beyond which a delta gives up
_MAX_MISSES = 0.2


class NotLines(Exception):
    """The file is not (or no longer) laid out one record per line."""


def record_lines(path: Path) -> Iterator[bytes]:
    """The text of each record of a JSON array laid out one record per line (brackets,
    commas and surrounding whitespace stripped); raises :class:`NotLines` otherwise."""
    started = ended = False
    need_comma = dangling = False  # a comma is due before the next record / one is given
    first = True
    with path.open("rb", buffering=1024 * 1024) as handle:
        for raw in handle:
            text = raw.strip()
            if first and text.startswith(b"\xef\xbb\xbf"):  # a BOM
                text = text[3:].strip()
            first = False
            if not text:
                continue
            if ended:
                raise NotLines("text after the array")
            if not started:
                if not text.startswith(b"["):
                    raise NotLines("not an array")
                started, text = True, text[1:].strip()
            if text.endswith(b"]"):
                ended, text = True, text[:-1].strip()
            if not text:
                continue
            if text.startswith(b","):
                if not need_comma:
                    raise NotLines("a comma with no record before it")
                need_comma, text = False, text[1:].strip()
            elif need_comma:
                raise NotLines("two records without a comma between them")
            dangling = text.endswith(b",")
            if dangling:
                text = text[:-1].strip()
            need_comma = not dangling
            if not (text.startswith(b"{") and text.endswith(b"}")):
                raise NotLines("a line that is not one object")
            yield text
    if not ended or dangling:
        raise NotLines("the array does not end as JSON does")


def laid_by_line(path: Path) -> bool:
    """Whether the file's first records each lie alone on a line (a look at its start)."""
    try:
        texts = list(islice(record_lines(path), _PROBE))
        return bool(texts) and all(
            len(t) < _PROBE_BYTES and type(json.loads(t)) is dict for t in texts
        )
    except (NotLines, ValueError, OSError):
        return False


def record_line_prints(reader: JsonSource, route: Route) -> None:
    """After the ordinary read noted each record's key in file order: give each its line's
    print, or mark the book not to be kept when the file is not one record per line (a
    worker thread)."""
    book = route.prints
    assert book is not None
    try:
        prints = SpillArray(text_print(text) for text in record_lines(reader.path))
    except (NotLines, OSError):
        book.whole = False
        return
    if len(prints) != len(book.keys):
        book.whole = False
        return
    book.prints = prints


def changed_rows(reader: JsonSource, route: Route, batch_size: int) -> list[dict[str, Any]]:
    """Read the file a line at a time against the kept prints (a worker thread): the rows
    of the records that are new or changed. Raises :class:`NotLines` when the file is not
    laid out one record per line, or its records are far from their kept order."""
    book = route.prints
    assert book is not None and book.kept is not None
    kept_keys, kept_prints = book.kept.keys, book.kept.prints
    count = len(kept_keys)
    note, field, seen = book.note, book.field, book.seen
    keys, prints = book.keys, book.prints
    rows: list[dict[str, Any]] = []
    lines = misses = 0
    for text in record_lines(reader.path):
        lines += 1
        if not lines % 4096:
            book.settle()  # the prints out of memory a chunk at a time
        value = text_print(text)
        at = book.cursor
        if at < count and kept_prints[at] == value and not seen[at]:
            # the record kept here, unchanged (book.note's work, inline: the hot loop)
            key = kept_keys[at]
            if keys and keys[-1] >= key:
                book.ascending = False
            keys.append(key)
            prints.append(value)
            seen[at] = 1
            book.cursor = at + 1
            book.unchanged += 1
            continue
        misses += 1
        if lines > _JUDGE_AFTER and misses > lines * _MAX_MISSES:
            raise NotLines("the records are not in the order the last run kept")
        try:
            [row] = reader.rows_of_lines([text], field, batch_size)
        except Exception as exc:
            raise NotLines(str(exc)) from None
        if note(row.get(field), value):
            rows.append(row)
    book.settle()
    return rows


__all__ = ["NotLines", "changed_rows", "laid_by_line", "record_line_prints", "record_lines"]
