"""Kept row prints moved on by a delta run's changes, not written whole again.

A delta run changes a few rows of a table, but the prints it keeps are the whole table's: at a
million rows, deleting and writing 16 MB of them again was a fifth of a 1% delta's time. So
a delta keeps a *patch* instead: the keys it loaded (new or changed) with their prints, and the
kept keys no source row has any more. The next run reads the kept prints and applies every
patch, in order, to get exactly the prints the run would have written whole
(:func:`apply_patches`). Once the patches hold more than an eighth of the table's rows, or
there are :data:`MAX_PATCHES` of them, the run writes the prints whole again and drops them.

In ``row_prints`` a patch lies in the table's rows under chunk numbers from
:data:`PATCH_BASE` up: patch ``n``'s keys and prints at ``PATCH_BASE + 2n``, its gone keys at
``PATCH_BASE + 2n + 1`` (no prints). The prints themselves are chunks ``0, 1, …``, the page
map negative chunks (:mod:`ferry.load.pagemaps`).
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import compress

from sqlalchemy import Table, func, select

from ..targets import Target
from .printbook import PrintBook
from .printfile import PrintFile

#: the first chunk number of a patch in ``row_prints``
PATCH_BASE = 1 << 30
#: patches kept before the prints are written whole again
MAX_PATCHES = 32
#: and the share of the table's rows the patches may hold together
MAX_SHARE = 0.125


@dataclass
class PrintPatch:
    """One delta run's change to a table's kept prints: ``keys`` (ascending) now print as
    ``prints``, and the kept keys ``gone`` (ascending) no longer have a source row."""

    keys: array[int] = field(default_factory=lambda: array("q"))
    prints: array[int] = field(default_factory=lambda: array("q"))
    gone: array[int] = field(default_factory=lambda: array("q"))

    def __len__(self) -> int:
        return len(self.keys) + len(self.gone)


def patch_of(book: PrintBook, result: PrintFile) -> PrintPatch | None:
    """What changed from ``book``'s kept prints to ``result`` (its :meth:`PrintBook.result`),
    or None when that cannot be told from the rows the run noted as changed (then the
    prints are written whole)."""
    kept = book.kept
    if kept is None:
        return None
    patch = PrintPatch()
    keys = sorted(set(book.changed))
    prints = [value for value in result.prints_of(keys) if value is not None]
    if len(prints) != len(keys):  # a key the result lacks
        return None
    patch.keys.extend(keys)
    patch.prints.extend(prints)
    new = kept.prints_of(keys).count(None)
    patch.gone.extend(book.vanished())
    # every pair of the result is a kept one unchanged, or listed: the counts agree
    if len(kept) - len(patch.gone) + new != len(result):
        return None
    return patch


def apply_patches(base: PrintFile, patches: list[PrintPatch]) -> PrintFile:
    """``base`` (keys ascending) with ``patches`` applied in order: a new file (``base`` is
    left as it is), or ``base`` itself when there is nothing to apply."""
    merged: dict[int, int | None] = {}
    for patch in patches:
        merged.update(dict.fromkeys(patch.gone))
        merged.update(zip(patch.keys, patch.prints, strict=True))
    if not merged:
        return base
    touched = sorted(merged)
    out = PrintFile(base.chunk)
    at = 0
    for keys, prints in base.chunks():
        if not keys:
            continue
        end = bisect_right(touched, keys[-1], at)
        if end == at:
            out.extend(keys, prints)
            continue
        _apply_chunk(out, keys, prints, touched[at:end], merged)
        at = end
    for key in touched[at:]:  # beyond the last kept key: new rows only
        value = merged[key]
        if value is not None:
            out.append(key, value)
    return out


def _apply_chunk(
    out: PrintFile,
    keys: array[int],
    prints: array[int],
    touched: list[int],
    merged: dict[int, int | None],
) -> None:
    """Append one chunk of the base, its ``touched`` keys changed, dropped or added."""
    prints = array("q", prints)
    keep = bytearray(b"\1" * len(keys))
    added: list[int] = []
    for key in touched:
        at = bisect_left(keys, key)
        value = merged[key]
        if at < len(keys) and keys[at] == key:
            if value is None:
                keep[at] = 0
            else:
                prints[at] = value
        elif value is not None:
            added.append(key)
    if not added:
        if all(keep):
            out.extend(keys, prints)
        else:
            out.extend(_compress(keys, keep), _compress(prints, keep))
        return
    pairs = dict(zip(_compress(keys, keep), _compress(prints, keep), strict=True))
    for key in added:
        value = merged[key]
        assert value is not None  # (only keys given a print are added)
        pairs[key] = value
    ordered = sorted(pairs)
    out.extend(array("q", ordered), array("q", map(pairs.__getitem__, ordered)))


def _compress(values: array[int], keep: bytearray) -> array[int]:
    return array("q", compress(values, keep))


async def read_patches(target: Target, chunks: Table, table: str) -> list[PrintPatch]:
    """The patches kept for ``table`` in ``chunks`` (``row_prints``), in order."""
    result = await target.fetch_binary(
        select(chunks.c.chunk, chunks.c["keys"], chunks.c.prints).where(
            chunks.c.table_name == table, chunks.c.chunk >= PATCH_BASE
        ),
        f"reading the print patches of {table}",
    )
    found: dict[int, PrintPatch] = {}
    for chunk, keys, prints in sorted(result, key=lambda row: int(row[0])):
        number, gone = divmod(int(chunk) - PATCH_BASE, 2)
        patch = found.setdefault(number, PrintPatch())
        if gone:
            patch.gone = _native(keys)
        else:
            patch.keys, patch.prints = _native(keys), _native(prints)
    return [found[n] for n in sorted(found)]


async def keep_patch(
    target: Target, chunks: Table, table: str, rows: int, patch: PrintPatch
) -> bool:
    """Keep ``patch`` as ``table``'s next one (in the run's transaction); False, with
    nothing written, when the patches would then be too many or too big: the caller writes
    the prints whole instead."""
    mine = (chunks.c.table_name == table, chunks.c.chunk >= PATCH_BASE)
    top, size = (
        await target.conn.execute(
            select(
                func.coalesce(func.max(chunks.c.chunk), PATCH_BASE - 1),
                func.coalesce(func.sum(func.length(chunks.c["keys"])), 0),
            ).where(*mine)
        )
    ).one()
    number = (int(top) - PATCH_BASE) // 2 + 1
    if number + 1 > MAX_PATCHES or int(size) // 8 + len(patch) > MAX_SHARE * rows:
        return False
    for chunk, keys, prints in _rows(number, patch):
        await target.conn.execute(
            chunks.insert().values(table_name=table, chunk=chunk, keys=keys, prints=prints)
        )
    return True


def _rows(number: int, patch: PrintPatch) -> list[tuple[int, bytes, bytes]]:
    """The ``row_prints`` rows (chunk, keys, prints) of patch ``number``, little-endian."""
    rows = []
    if patch.keys:
        rows.append((PATCH_BASE + 2 * number, _little(patch.keys), _little(patch.prints)))
    if patch.gone:
        rows.append((PATCH_BASE + 2 * number + 1, _little(patch.gone), b""))
    return rows


def _native(data: bytes) -> array[int]:
    values = array("q", bytes(data))
    if sys.byteorder == "big":  # kept little-endian
        values.byteswap()
    return values


def _little(values: array[int]) -> bytes:
    if sys.byteorder == "big":
        values = array("q", values)
        values.byteswap()
    return values.tobytes()


__all__ = [
    "MAX_PATCHES",
    "MAX_SHARE",
    "PATCH_BASE",
    "PrintPatch",
    "apply_patches",
    "keep_patch",
    "patch_of",
    "read_patches",
]
