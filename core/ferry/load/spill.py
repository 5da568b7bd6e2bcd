"""An append-only array of 64-bit integers that keeps one chunk in memory and the rest in an
unnamed temporary file: a run's row prints (a key and a print per source row) take 16 bytes a
row, 190 MB at twelve million rows, where Ferry's memory must stay flat at any size.

Appends fill an in-memory tail at C speed (``append`` is the tail array's own: a row's print is
noted in the read's hot loop); :meth:`SpillArray.settle`, called once per batch of rows, writes
a full tail to the file. Reading back is by slice (the writer of the kept prints reads a chunk
at a time), by iteration, or one item (the last key, to see that keys ascend).
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import IO, overload

#: items kept in memory before they are written to the file (512 KiB)
CHUNK = 65536
_ITEM = array("q").itemsize


class SpillArray:
    """``array("q")``'s append, extend, len, iteration and read-only indexing, in flat memory
    (call :meth:`settle` after each batch of appends)."""

    def __init__(self, values: Iterable[int] = (), chunk: int = CHUNK) -> None:
        self._chunk = chunk
        self._tail: array[int] = array("q")
        self._file: IO[bytes] | None = None
        self._spilled = 0
        #: the last item written to the file
        self._last = 0
        #: the tail's own append (C speed; the tail array object is never replaced)
        self.append: Callable[[int], None] = self._tail.append
        self.extend(values)

    def settle(self) -> None:
        """Write the tail to the file once it holds a chunk or more."""
        if len(self._tail) >= self._chunk:
            self._flush()

    def extend(self, values: Iterable[int]) -> None:
        self.settle()
        items = iter(values)
        while True:
            room = self._chunk - len(self._tail)
            self._tail.extend(islice(items, room))
            if len(self._tail) < self._chunk:
                return
            self._flush()

    def _flush(self) -> None:
        if not self._tail:
            return
        if self._file is None:
            # lives as long as the array; unnamed, so nothing is left behind when it is freed
            self._file = tempfile.TemporaryFile(prefix="ferry-prints-")  # noqa: SIM115
        self._file.seek(0, 2)
        self._tail.tofile(self._file)
        self._spilled += len(self._tail)
        self._last = self._tail[-1]
        del self._tail[:]

    def __len__(self) -> int:
        return self._spilled + len(self._tail)

    def __bool__(self) -> bool:
        return len(self) > 0

    def _read(self, start: int, stop: int) -> array[int]:
        """Items ``start`` to ``stop`` (0 <= start <= stop <= len), from the file and the tail."""
        out: array[int] = array("q")
        if start < self._spilled and self._file is not None:
            upto = min(stop, self._spilled)
            self._file.seek(start * _ITEM)
            out.frombytes(self._file.read((upto - start) * _ITEM))
        if stop > self._spilled:
            out.extend(self._tail[max(start - self._spilled, 0) : stop - self._spilled])
        return out

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> array[int]: ...
    def __getitem__(self, index: int | slice) -> int | array[int]:
        size = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1:
                raise ValueError("SpillArray slices have step 1")
            return self._read(start, max(start, stop))
        if index == -1 and (self._tail or self._spilled):
            return self._tail[-1] if self._tail else self._last
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("SpillArray index out of range")
        return self._read(index, index + 1)[0]

    def __iter__(self) -> Iterator[int]:
        for start in range(0, len(self), self._chunk):
            yield from self._read(start, min(start + self._chunk, len(self)))

    def to_array(self) -> array[int]:
        """Every item in memory (sorting needs them all)."""
        return self._read(0, len(self))


__all__ = ["CHUNK", "SpillArray"]
