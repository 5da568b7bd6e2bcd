"""Batches: sized by bytes as well as rows, and read ahead while the last one is mapped.

Several batches are in flight at once (read, mapped, being written), so a batch of wide rows
(long texts) is cut at about ``BATCH_BYTES`` of Python values, well before ``batch_size``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from sys import getsizeof
from typing import Any

from ..sources.base import Batch, next_batch

#: about this many bytes of Python values per batch
BATCH_BYTES = 2 * 1024 * 1024
#: rows read first to size the batches of a table
SIZING_ROWS = 100
#: what a row costs besides its values (its dict or tuple)
_ROW_OVERHEAD = 400


class Prefetch:
    """Reads a source's next batch in a worker thread while the current one is mapped (the
    database driver releases the GIL while it reads).

    ``ahead=False`` reads a batch only when it is asked for, still in a worker thread: for a
    source parsed in Python, which holds the GIL all along, reading ahead makes the reading
    and the mapping threads take turns on one core, each slower for it (a JSON run took 7%
    longer)."""

    def __init__(self, batches: Iterator[Batch], ahead: bool = True) -> None:
        self._batches = batches
        self._ahead = ahead
        self._next: asyncio.Future[Batch | None] | None = None

    async def __aenter__(self) -> Prefetch:
        if self._ahead:
            self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        # The worker thread cannot be interrupted: let a read still under way finish before
        # the reader is closed (its batch, or its error, is not wanted any more), even when
        # the task is being cancelled; the cancellation then goes on.
        pending, self._next = self._next, None
        if pending is None:
            return
        try:
            await asyncio.shield(pending)
        except asyncio.CancelledError:
            await asyncio.wait({pending})
            raise
        except Exception:
            pass

    def _start(self) -> None:
        self._next = asyncio.ensure_future(asyncio.to_thread(next_batch, self._batches))

    async def next(self) -> Batch | None:
        """The next batch (None at the end); starts reading the one after (``ahead``)."""
        if self._next is None:
            self._start()
        assert self._next is not None
        # Shielded: cancelling the caller must not lose the handle on the worker thread.
        batch = await asyncio.shield(self._next)
        self._next = None
        if batch is not None and self._ahead:
            self._start()
        return batch


def rows_per_batch(sample: Sequence[Iterable[Any]], batch_size: int) -> int:
    """How many rows like ``sample`` make a batch of about ``BATCH_BYTES`` (at most
    ``batch_size``, at least one)."""
    size = sum(getsizeof(value) for row in sample for value in row)
    per_row = max(size // max(len(sample), 1) + _ROW_OVERHEAD, 1)
    return max(1, min(batch_size, BATCH_BYTES // per_row))


__all__ = ["BATCH_BYTES", "SIZING_ROWS", "Prefetch", "rows_per_batch"]
