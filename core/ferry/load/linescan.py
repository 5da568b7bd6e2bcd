"""The lines of a JSON array laid out one record per line, read at C speed.

A delta run over such a file (:mod:`ferry.load.jsonlines`) needs each record line's print and,
for the few lines whose print is new, their text; it parses nothing else. A line's print is
that of its bytes as they are in the file (:func:`line_print`: whitespace, a comma or a
bracket at its edges included): the same bytes are the same record, and a comma that moved
only makes a record look changed, which costs one parse, never a missed change.

The file is read in blocks of a mebibyte split at newlines; the layout is checked a block at a time
with operations over whole byte strings, not a Python step per line: each line's first and
last two characters are gathered into byte strings (``map(itemgetter(0), lines)``), mapped
to classes (``bytes.translate``) and compared as a whole, so that every line holds ``{…}``
with at most one comma at one edge, and exactly one comma separates two records. A block the
fast check does not accept as it is (spaces between a comma and a brace, say) is checked a
line at a time in Python (:class:`_LineLayout`), which either accepts it or says why the file is
not one record per line (:class:`NotLines`). The first and the last lines (the array's
brackets, a byte-order mark) always go that way.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator
from itertools import compress, repeat
from operator import itemgetter
from pathlib import Path

from xxhash import xxh3_64_digest, xxh3_64_intdigest

#: bytes read at a time (8 MiB held 30 MiB more at the peak and ran slower: the caches)
BLOCK_BYTES = 1024 * 1024
#: JSON's whitespace (``bytes.strip()`` would also take form feeds and vertical tabs)
_SPACE = b" \t\r\n"
#: edge classes: 0 the brace, 1 a comma, 2 anything else
_LEAD = bytes(0 if b == ord("{") else 1 if b == ord(",") else 2 for b in range(256))
_TRAIL = bytes(0 if b == ord("}") else 1 if b == ord(",") else 2 for b in range(256))
_OPEN = bytes(1 if b == ord("{") else 0 for b in range(256))
_CLOSE = bytes(1 if b == ord("}") else 0 for b in range(256))
#: 0 ↔ 1 (a comma due / not due)
FLIP = bytes.maketrans(b"\0\1", b"\1\0")
_FIRST, _SECOND, _LAST, _BEFORE_LAST = itemgetter(0), itemgetter(1), itemgetter(-1), itemgetter(-2)


class NotLines(Exception):
    """The file is not (or no longer) laid out one record per line."""


def line_print(line: bytes) -> int:
    """A record line's print: XXH3 (64 bits) of its bytes, as a signed 64-bit integer."""
    value = xxh3_64_intdigest(line)
    return value - 2**64 if value >= 2**63 else value


def signed_prints(lines: list[bytes]) -> array[int]:
    """:func:`line_print` of each line, at C speed: the digests' bytes joined and read as
    one array (a third faster than an integer per line)."""
    prints = array("q")
    prints.frombytes(b"".join(map(xxh3_64_digest, lines)))
    if sys.byteorder == "little":  # (digests are big-endian)
        prints.byteswap()
    return prints


def record_text(line: bytes) -> bytes:
    """The record's own JSON text on a line the layout check accepted (its edges taken off)."""
    text = line.strip(_SPACE)
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:].strip(_SPACE)
    if text.startswith(b"["):
        text = text[1:].strip(_SPACE)
    if text.endswith(b"]"):
        text = text[:-1].strip(_SPACE)
    if text.startswith(b","):
        text = text[1:].strip(_SPACE)
    if text.endswith(b","):
        text = text[:-1].strip(_SPACE)
    return text


class _LineLayout:
    """Where the check stands between lines: inside the array, and whether the last record
    gave the comma that must come before the next."""

    def __init__(self) -> None:
        self.started = self.ended = False
        #: the last record's trailing comma (1), none (0), or no record yet (None)
        self.trailing: int | None = None
        self.first_line = True

    def line(self, raw: bytes) -> bytes | None:
        """Check one line in Python; the record's text, or None for a line with no record."""
        text = raw.strip(_SPACE)
        if self.first_line and text.startswith(b"\xef\xbb\xbf"):  # a BOM
            text = text[3:].strip(_SPACE)
        if text:
            self.first_line = False
        if not text:
            return None
        if self.ended:
            raise NotLines("text after the array")
        if not self.started:
            if not text.startswith(b"["):
                raise NotLines("not an array")
            self.started, text = True, text[1:].strip(_SPACE)
        if text.endswith(b"]"):
            self.ended, text = True, text[:-1].strip(_SPACE)
        if not text:
            return None
        if text.startswith(b","):
            if self.trailing != 0:
                raise NotLines("a comma with no record before it")
            text = text[1:].strip(_SPACE)
        elif self.trailing == 0:
            raise NotLines("two records without a comma between them")
        self.trailing = 1 if text.endswith(b",") else 0
        if self.trailing:
            text = text[:-1].strip(_SPACE)
        if not (text.startswith(b"{") and text.endswith(b"}")):
            raise NotLines("a line that is not one object")
        return text

    def end(self) -> None:
        if not self.ended or self.trailing == 1:
            raise NotLines("the array does not end as JSON does")

    def block(self, lines: list[bytes]) -> list[bytes]:
        """The record lines of ``lines`` (inside the array, neither first nor last), checked
        over whole byte strings where it can (module docstring)."""
        if self.started and not self.ended:
            # as they are, then (spaces or a CR at an edge) stripped
            fast = self._fast(lines, lines)
            if fast is None:
                fast = self._fast(lines, list(map(bytes.strip, lines, repeat(_SPACE))))
            if fast is not None:
                return fast
        return [raw for raw in lines if self.line(raw) is not None]

    def _fast(self, lines: list[bytes], view: list[bytes]) -> list[bytes] | None:
        if not all(view):  # blank lines carry no record
            lines = list(compress(lines, view))
            view = list(filter(None, view))
        if not view:
            return lines
        try:
            starts = bytes(map(_FIRST, view)).translate(_LEAD)
            ends = bytes(map(_LAST, view)).translate(_TRAIL)
            if 2 in starts or 2 in ends:
                return None
            # a comma at an edge sits against the brace (looked at only where a line has
            # one: the commas of most files all lead or all trail)
            if 1 in starts and not _against(starts, bytes(map(_SECOND, view)), _OPEN):
                return None
            if 1 in ends and not _against(ends, bytes(map(_BEFORE_LAST, view)), _CLOSE):
                return None
        except IndexError:  # a line of one character: "{", "," …
            return None
        # exactly one comma between two records: one ends with it or the next starts with it
        due = 0 if self.trailing is None else 1 - self.trailing
        if starts[0] != due or ends[:-1] != starts[1:].translate(FLIP):
            return None
        self.trailing = ends[-1]
        return lines


def _against(commas: bytes, beside: bytes, brace: bytes) -> bool:
    """Whether every line with a comma at an edge (1 in ``commas``) has the brace beside it
    (``beside``: each line's character next to that edge; ``brace``: 1 for the brace)."""
    return not int.from_bytes(commas, "little") & ~int.from_bytes(beside.translate(brace), "little")


def record_line_blocks(path: Path) -> Iterator[list[bytes]]:
    """The record lines of the file, a block at a time, each as its bytes in the file (no
    newline); raises :class:`NotLines` when the file is not one record per line."""
    layout = _LineLayout()
    carry = b""
    with path.open("rb") as handle:
        while chunk := handle.read(BLOCK_BYTES):
            lines = chunk.split(b"\n")
            if len(lines) < 3:  # lines longer than a block
                carry += chunk
                continue
            if carry:
                held = carry.split(b"\n")
                lines[0] = held.pop() + lines[0]
                lines[:0] = held
            # the last complete line waits for the next block: it may be the array's end
            carry = lines[-2] + b"\n" + lines[-1]
            del lines[-2:]
            head: list[bytes] = []
            while lines and not layout.started:  # the array's opening line(s)
                raw = lines.pop(0)
                if layout.line(raw) is not None:
                    head.append(raw)
            found = head + layout.block(lines)
            if found:
                yield found
    tail = [raw for raw in carry.split(b"\n") if layout.line(raw) is not None]
    layout.end()
    if tail:
        yield tail


def record_lines(path: Path) -> Iterator[bytes]:
    """The text of each record (edges stripped), a line at a time in Python: for a look at
    the file's first records; raises :class:`NotLines` where the layout breaks."""
    layout = _LineLayout()
    with path.open("rb", buffering=1024 * 1024) as handle:
        for raw in handle:
            text = layout.line(raw)
            if text is not None:
                yield text
    layout.end()


__all__ = [
    "BLOCK_BYTES",
    "FLIP",
    "NotLines",
    "line_print",
    "record_line_blocks",
    "record_lines",
    "record_text",
    "signed_prints",
]
