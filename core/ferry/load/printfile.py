"""Row prints held in an unnamed temporary file, a chunk at a time, so a run's memory for
them does not grow with the row count (16 bytes a row: 160 MB at ten million rows, twice
that in a delta run, which also holds the kept ones).

A :class:`PrintFile` is a list of (key, print) pairs by position. Appended pairs wait in memory
until a chunk of :data:`CHUNK_ROWS` is full, then go to the file as two runs of native
64-bit integers (keys, then prints); reads load one chunk at a time, the last few kept in a
small cache. Rows mostly come in key order, so a cursor walks the chunks one after another;
a lookup elsewhere loads one chunk. The file is made by :func:`tempfile.TemporaryFile` in the
system's temporary folder (never beside the user's data): it has no name on POSIX systems,
and it is gone once closed (:meth:`PrintFile.close`, or when the process ends). It is read
with ``read`` calls, not mapped: mapped pages would count towards the process's memory.
"""

from __future__ import annotations

import tempfile
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from itertools import pairwise
from typing import IO

from ..errors import FerryError

#: pairs per chunk of the file (and per row of ``row_prints``: 1 MiB of keys and prints)
CHUNK_ROWS = 65536
#: chunks held in memory after a read (the cursor's and a lookup's elsewhere)
_CACHED = 4


class PrintFile:
    """Keys and prints by position, in an unnamed temporary file a chunk at a time (module
    docstring). ``chunk_rows``: pairs per chunk (:data:`CHUNK_ROWS` when None)."""

    def __init__(self, chunk_rows: int | None = None) -> None:
        #: pairs per chunk
        self.chunk = chunk_rows or CHUNK_ROWS
        self._file: IO[bytes] | None = None
        #: reads may come from a worker thread while another appends
        self._lock = threading.Lock()
        #: the first key of each chunk in the file
        self._firsts: array[int] = array("q")
        #: pairs appended after the last full chunk (not in the file yet)
        self._keys: array[int] = array("q")
        self._prints: array[int] = array("q")
        self._cache: OrderedDict[int, tuple[array[int], array[int]]] = OrderedDict()
        #: the key last appended (None: none yet)
        self.last: int | None = None

    # -- writing ------------------------------------------------------------------------------
    def append(self, key: int, value: int) -> None:
        """Append one pair."""
        self._keys.append(key)
        self._prints.append(value)
        self.last = key
        if len(self._keys) >= self.chunk:
            self._spill()

    def extend(self, keys: Iterable[int], prints: Iterable[int]) -> None:
        """Append pairs (arrays of the same length), at C speed."""
        self._keys.extend(keys)
        self._prints.extend(prints)
        if len(self._keys) != len(self._prints):
            raise ValueError("as many prints as keys are appended")
        if self._keys:
            self.last = self._keys[-1]
        if len(self._keys) >= self.chunk:
            self._spill()

    def extend_from(self, other: PrintFile, start: int, end: int) -> None:
        """Append the pairs of ``other`` from position ``start`` up to ``end``, a chunk at a
        time."""
        end = min(end, len(other))
        while start < end:
            number, offset = divmod(start, other.chunk)
            keys, prints = other._chunk(number)
            stop = min(len(keys), offset + end - start)
            self.extend(keys[offset:stop], prints[offset:stop])
            start += stop - offset

    def _spill(self) -> None:
        with self._lock:
            try:
                if self._file is None:
                    # closed by close(), not a block: the file outlives this call
                    self._file = tempfile.TemporaryFile(prefix="ferry-prints-")  # noqa: SIM115
                size, written = self.chunk, 0
                while len(self._keys) - written >= size:
                    keys = self._keys[written : written + size]
                    prints = self._prints[written : written + size]
                    self._file.seek(len(self._firsts) * size * 16)
                    self._file.write(keys.tobytes())
                    self._file.write(prints.tobytes())
                    self._firsts.append(keys[0])
                    written += size
            except OSError as exc:
                raise FerryError(
                    f"the temporary folder {tempfile.gettempdir()} could not take the run's "
                    f"row prints ({exc.strerror or exc})",
                    hint="Free space there or set TMPDIR to a folder with room (16 bytes a "
                    "source row, twice that in a delta run), or set [options] row_prints = "
                    "false, and run again.",
                ) from None
            del self._keys[:written]
            del self._prints[:written]

    # -- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._firsts) * self.chunk + len(self._keys)

    def chunk_at(self, number: int) -> tuple[array[int], array[int]]:
        """Chunk ``number``'s keys and prints (the last: the pairs not in the file yet), to
        read, not to change."""
        return self._chunk(number)

    def _chunk(self, number: int) -> tuple[array[int], array[int]]:
        if number >= len(self._firsts):
            return self._keys, self._prints
        with self._lock:
            found = self._cache.get(number)
            if found is not None:
                self._cache.move_to_end(number)
                return found
            found = self._read(number)
            self._cache[number] = found
            if len(self._cache) > _CACHED:
                self._cache.popitem(last=False)
            return found

    def _read(self, number: int) -> tuple[array[int], array[int]]:
        assert self._file is not None
        size = self.chunk
        self._file.seek(number * size * 16)
        keys: array[int] = array("q")
        prints: array[int] = array("q")
        keys.frombytes(self._file.read(size * 8))
        prints.frombytes(self._file.read(size * 8))
        return keys, prints

    def chunks(self) -> Iterator[tuple[array[int], array[int]]]:
        """Every chunk's keys and prints in order (read past the cache: a pass over all)."""
        for number in range(len(self._firsts)):
            with self._lock:
                found = self._cache.get(number) or self._read(number)
            yield found
        if self._keys:
            yield self._keys, self._prints

    def key_at(self, at: int) -> int:
        """The key at position ``at``."""
        number, offset = divmod(at, self.chunk)
        return self._chunk(number)[0][offset]

    def print_at(self, at: int) -> int:
        """The print at position ``at``."""
        number, offset = divmod(at, self.chunk)
        return self._chunk(number)[1][offset]

    def span(self, start: int, end: int) -> tuple[array[int], array[int]]:
        """The keys and prints from position ``start`` up to ``end`` (copies)."""
        keys: array[int] = array("q")
        prints: array[int] = array("q")
        end = min(end, len(self))
        while start < end:
            number, offset = divmod(start, self.chunk)
            mine, theirs = self._chunk(number)
            stop = min(len(mine), offset + end - start)
            keys.extend(mine[offset:stop])
            prints.extend(theirs[offset:stop])
            start += stop - offset
        return keys, prints

    def position(self, key: int) -> int:
        """Where ``key`` is, or would go, among keys in ascending order (``bisect_left``)."""
        firsts = self._firsts
        number = bisect_right(firsts, key) - 1
        if self._keys and self._keys[0] <= key:
            number = len(firsts)
        if number < 0:
            return 0
        return number * self.chunk + bisect_left(self._chunk(number)[0], key)

    def find(self, key: int, hint: int) -> int:
        """The position of ``key`` among keys in ascending order, or -1; ``hint`` is looked
        at first (the position after the last one found: rows come in key order)."""
        size = self.chunk
        if 0 <= hint < len(self):
            keys = self._chunk(hint // size)[0]
            if keys[hint % size] == key:
                return hint
        at = self.position(key)
        if at < len(self) and self._chunk(at // size)[0][at % size] == key:
            return at
        return -1

    def prints_of(self, keys: list[int]) -> list[int | None]:
        """The print of each of ``keys`` (ascending, as this file's keys must be), None for a
        key it lacks: one pass over the chunks, a ``bisect`` in each (not a lookup per key)."""
        return [value for _, value in self._lookup(keys)]

    def places(self, keys: list[int]) -> list[tuple[int, bool]]:
        """Where each of ``keys`` (ascending) is, or would go (:meth:`position`), and whether
        it is there, in one pass as :meth:`prints_of`."""
        return [(at, value is not None) for at, value in self._lookup(keys)]

    def _lookup(self, keys: list[int]) -> Iterator[tuple[int, int | None]]:
        done = base = 0
        for number in range(len(self._firsts) + 1):
            if done == len(keys):
                return
            mine, theirs = self._chunk(number)
            if not mine:
                continue
            end = bisect_right(keys, mine[-1], done)
            at = 0
            for key in keys[done:end]:
                at = bisect_left(mine, key, at)
                yield base + at, theirs[at] if mine[at] == key else None
            done, base = end, base + len(mine)
        for _ in keys[done:]:  # beyond the last key
            yield len(self), None

    def with_prints(self, parts: Iterable[array[int]]) -> PrintFile | None:
        """These keys, each with the print at its place in ``parts`` (prints in order, in
        arrays of any length); None when there are more or fewer prints than keys."""
        out = PrintFile(self.chunk)
        pending: array[int] = array("q")
        chunks = (keys for keys, _ in self.chunks())
        keys = next(chunks, None)
        for part in parts:
            pending.extend(part)
            while keys is not None and len(pending) >= len(keys):
                count = len(keys)
                out.extend(keys, pending[:count])
                del pending[:count]
                keys = next(chunks, None)
            if keys is None and pending:
                out.close()
                return None
        if keys is not None or pending:
            out.close()
            return None
        return out

    def sorted(self) -> PrintFile | None:
        """The pairs in ascending key order (None: a key repeats). They are sorted in memory:
        only rows that came out of key order get here."""
        keys: array[int] = array("q")
        prints: array[int] = array("q")
        for mine, theirs in self.chunks():
            keys.extend(mine)
            prints.extend(theirs)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        out = PrintFile(self.chunk)
        for start in range(0, len(order), self.chunk):
            part = order[start : start + self.chunk]
            out.extend(array("q", map(keys.__getitem__, part)), map(prints.__getitem__, part))
        del keys, prints, order
        previous = None
        for mine, _ in out.chunks():
            if previous is not None and mine and previous >= mine[0]:
                out.close()
                return None
            if any(a >= b for a, b in pairwise(mine)):
                out.close()
                return None
            previous = mine[-1] if mine else previous
        return out

    def close(self) -> None:
        """Drop the file (and the pairs held in memory)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            self._cache.clear()
            self._firsts = array("q")
            self._keys, self._prints = array("q"), array("q")
            self.last = None


__all__ = ["CHUNK_ROWS", "PrintFile"]
