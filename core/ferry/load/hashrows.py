"""Compare-first by row hashes, row by row in one pass: both sides' ``(key, MD5)`` of every
row, merged by key as they come (:func:`compare_streams`).

The bucket path (:mod:`ferry.load.hashload`) sums each bucket of 128 keys on both sides, then
reads the rows of every bucket that differs a second time on both sides. That pays while few
buckets differ (a write that changed nothing, a handful of rows). When most differ (a first
sync right after a first run: 1% of the rows changed, spread over the table, leaves two
buckets in three differing), every row would be written and hashed twice on both sides and
the source read again in thousands of small range queries. Then the table is compared here
instead, each row written and hashed once:

- SQLite writes every source row in key order on the reader's connection (the run's one
  snapshot) and a worker thread hashes them a batch at a time (keys checked 64-bit and
  ascending, as the bucket path does), handing on each batch's keys (``array('q')``) and
  digests (16 bytes a row, one buffer) through a short queue;
- PostgreSQL writes every target row's key and MD5 (as 16 bytes) in key order through a
  server-side cursor (:meth:`ferry.targets.base.Target.stream_rows`);
- a target batch is merged once the source has reached its last key: same keys in the same
  order with the same digests (compared as one buffer, then in blocks) are unchanged; a row
  with another digest, or a NULL on either side (a row SQL could not write: never proof),
  is to be read; a source key the target lacks is to be read; a target key the source lacks
  is missing from the source.

What it finds is a :class:`HashDiff`, as the bucket path's, so the run goes on exactly as it
would. Memory stays flat: only the rows between the two sides' positions are held.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import queue
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from operator import lt
from typing import TYPE_CHECKING, Any, TypeAlias

from ..events import CancelToken
from ..targets import Target
from ..verify.fastsource import SMALL_ROW_BYTES, small_md5

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource
    from .hashsql import HashSql

_LOW, _HIGH = -(2**63), 2**63
#: target rows per fetch from the server-side cursor
_TARGET_ROWS = 10_000
#: source batches hashed ahead of the merge, at most (memory: a few MB)
_AHEAD = 8
#: rows whose digests are compared as one slice before they are compared one by one
_BLOCK = 64
#: the digest of a row SQL could not write (its key is listed apart: never compared equal)
_NO_DIGEST = bytes(16)


@dataclass
class HashDiff:
    """What the comparison of both sides' row hashes found."""

    #: rows whose hashes match
    same: int = 0
    #: source keys to read: another hash, a NULL hash, or not in the target
    changed: array[int] = field(default_factory=lambda: array("q"))
    #: target keys the source lacks
    vanished: array[int] = field(default_factory=lambda: array("q"))


class NotHashed(Exception):
    """The source's keys do not allow the comparison (the table is compared the usual way)."""

    #: the position of the table among those compared
    table = 0


class KeyCheck:
    """Checks that source keys are 64-bit integers, strictly ascending."""

    def __init__(self) -> None:
        self.last = _LOW - 1

    def check(self, key: Any) -> None:
        if type(key) is not int or not self.last < key < _HIGH:
            why = "repeats" if type(key) is int and key <= self.last else "is not a 64-bit integer"
            raise NotHashed(f"a source key {why}")
        self.last = key

    def batch(self, keys: list[Any]) -> None:
        """Check a batch's keys (at once where they are plain ascending integers)."""
        if not ascending(keys, self.last):
            for key in keys:  # which key, and why
                self.check(key)
        self.last = keys[-1]


def ascending(keys: list[Any], last: int) -> bool:
    """The keys are 64-bit integers, each above the one before (``last``: the one before
    the first)."""
    if any(type(key) is not int for key in keys):
        return False
    return last < keys[0] and keys[-1] < _HIGH and all(map(lt, keys, islice(keys, 1, None)))


def digests_of(written: list[bytes | None]) -> bytes:
    """The MD5s of rows written by SQL, 16 bytes each, joined (:data:`_NO_DIGEST` for a row
    SQL could not write). Short rows with :data:`small_md5` (cheaper to set up), long ones
    with OpenSSL's (it releases the GIL)."""
    if None in written:
        md5 = hashlib.md5
        return b"".join([_NO_DIGEST if one is None else md5(one).digest() for one in written])
    short = small_md5 if written and len(written[0] or b"") < SMALL_ROW_BYTES else hashlib.md5
    return b"".join([short(one).digest() for one in written])  # type: ignore[arg-type]


#: one hashed source batch: keys, their digests, the keys of rows SQL could not write
Hashed: TypeAlias = "tuple[array[int], bytes, list[int]]"


class _SourceFeed:
    """Hashes the source rows in a worker thread and hands them on, a batch at a time."""

    def __init__(
        self,
        reader: SqliteSource,
        sql: str,
        origin: str,
        cancel: CancelToken,
        report: Callable[[int], None] | None,
        size: int,
    ) -> None:
        self.reader, self.sql, self.origin, self.size = reader, sql, origin, size
        self.cancel, self.report = cancel, report
        self.batches: queue.Queue[Hashed | None] = queue.Queue(_AHEAD)
        #: set when the merge stops early (a target error): the thread stops too
        self.stop = threading.Event()
        self.done = threading.Event()
        #: the thread ended on an error (its future raises it): the target need not be read on
        self.failed = False

    def run(self) -> None:
        """The worker thread: every source row, in key order."""
        try:
            keys = KeyCheck()
            hashed = 0
            batches = self.reader.iter_query(self.sql, (), self.origin, self.size)
            with contextlib.closing(batches):
                for batch in batches:
                    self.cancel.raise_if_cancelled()
                    ordered = [key for key, _ in batch]
                    keys.batch(ordered)
                    written = [row for _, row in batch]
                    nulls = [k for k, w in zip(ordered, written, strict=True) if w is None]
                    if not self._put((array("q", ordered), digests_of(written), nulls)):
                        return
                    hashed += len(batch)
                    if self.report is not None:
                        self.report(hashed)
        except BaseException:
            self.failed = True
            raise
        finally:
            self.done.set()

    def _put(self, item: Hashed) -> bool:
        while not self.stop.is_set():
            with contextlib.suppress(queue.Full):
                self.batches.put(item, timeout=0.2)
                return True
        return False

    def take(self) -> Hashed | None:
        """The next hashed batch (a thread of its own may wait here); None once the thread
        has ended (its error, if any, is its future's)."""
        while True:
            with contextlib.suppress(queue.Empty):
                return self.batches.get(timeout=0.2)
            if self.done.is_set() and self.batches.empty():
                return None


class _Merge:
    """Both sides merged by key: the source rows not merged yet, and what was found."""

    def __init__(self) -> None:
        self.diff = HashDiff()
        self.keys: array[int] = array("q")
        self.digests = bytearray()
        #: keys of held rows SQL could not write
        self.nulls: set[int] = set()

    def add(self, hashed: Hashed) -> None:
        keys, digests, nulls = hashed
        self.keys.extend(keys)
        self.digests += digests
        self.nulls.update(nulls)

    def reaches(self, key: int) -> bool:
        """The held source rows reach ``key``: every source key up to it is held."""
        return bool(self.keys) and self.keys[-1] >= key

    def target(self, batch: list[tuple[Any, ...]]) -> None:
        """Merge a target batch (``(key, digest)`` ascending) with the source rows held, which
        reach its last key or are all the source has."""
        count = len(batch)
        theirs = array("q", [int(row[0]) for row in batch])
        digests = [row[1] for row in batch]
        if (
            self.keys[:count] == theirs
            and None not in digests
            and not (self.nulls and any(theirs[0] <= k <= theirs[-1] for k in self.nulls))
        ):
            self._same_keys(theirs, digests)
            used = count
        else:
            used = self._by_key(theirs, digests)
        self._drop(used)

    def _same_keys(self, keys: array[int], digests: list[bytes]) -> None:
        """The rows of the same keys on both sides, in blocks: a block of equal digests is
        unchanged, the others are compared row by row."""
        mine, joined = self.digests, b"".join(digests)
        if mine[: len(joined)] == joined:
            self.diff.same += len(keys)
            return
        changed = self.diff.changed
        for start in range(0, len(keys), _BLOCK):
            end = min(start + _BLOCK, len(keys))
            if mine[16 * start : 16 * end] == joined[16 * start : 16 * end]:
                self.diff.same += end - start
                continue
            for at in range(start, end):
                if mine[16 * at : 16 * at + 16] == digests[at]:
                    self.diff.same += 1
                else:
                    changed.append(keys[at])

    def _by_key(self, keys: array[int], digests: list[bytes | None]) -> int:
        """Merge row by row; the held source rows used."""
        mine, held, nulls = self.keys, len(self.keys), self.nulls
        diff = self.diff
        at = 0
        for key, theirs in zip(keys, digests, strict=True):
            while at < held and mine[at] < key:
                diff.changed.append(mine[at])  # not in the target
                at += 1
            if at < held and mine[at] == key:
                if (
                    theirs is not None
                    and key not in nulls
                    and (self.digests[16 * at : 16 * at + 16] == theirs)
                ):
                    diff.same += 1
                else:  # another row, or one SQL could not write: compared by the merge
                    diff.changed.append(key)
                at += 1
            else:
                diff.vanished.append(key)
        return at

    def rest(self) -> None:
        """The target has no more rows: the held source rows are not in it."""
        self.diff.changed.extend(self.keys)
        self._drop(len(self.keys))

    def _drop(self, used: int) -> None:
        if used:
            last = self.keys[used - 1]
            del self.keys[:used]
            del self.digests[: 16 * used]
            if self.nulls:
                self.nulls = {k for k in self.nulls if k > last}


async def compare_streams(
    target: Target,
    reader: SqliteSource,
    sql: HashSql,
    origin: str,
    cancel: CancelToken,
    report: Callable[[int], None] | None = None,
    size: int = 10_000,
) -> HashDiff:
    """Every row of one table compared by hash, both sides read once (module docstring);
    ``report``: told the source rows hashed so far; ``size``: source rows per fetch. A
    source key that is not a 64-bit integer, or repeats, raises :class:`NotHashed`."""
    feed = _SourceFeed(reader, sql.source_all, origin, cancel, report, size)
    hashing = asyncio.ensure_future(asyncio.to_thread(feed.run))
    merge = _Merge()
    ended = False  # the source has no more rows
    try:
        rows = target.stream_rows(sql.target_stream, "comparing row hashes", _TARGET_ROWS)
        async with contextlib.aclosing(rows):
            async for batch in rows:
                while not ended and not merge.reaches(int(batch[-1][0])):
                    hashed = await asyncio.to_thread(feed.take)
                    ended = hashed is None
                    if hashed is not None:
                        merge.add(hashed)
                if feed.failed:
                    break  # (a cancel, a key refused, a read error: raised below)
                merge.target(batch)
        while not ended:
            hashed = await asyncio.to_thread(feed.take)
            ended = hashed is None
            if hashed is not None:
                merge.add(hashed)
        merge.rest()
    finally:
        feed.stop.set()
        await asyncio.wait({hashing})  # a thread is not cancelled with its future
        if not hashing.cancelled():
            hashing.exception()  # (raised below, or after the target's error)
    hashing.result()  # the source's error (NotHashed, a cancel, a read error) comes first
    return merge.diff


__all__ = ["HashDiff", "KeyCheck", "NotHashed", "ascending", "compare_streams", "digests_of"]
