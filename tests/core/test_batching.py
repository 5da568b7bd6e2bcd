"""Prefetch: reading a source's batches in a worker thread, ahead of the mapping or not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from ferry.load.batching import Prefetch
from ferry.sources.base import Batch


def counted(read: list[int], count: int = 3) -> Iterator[Batch]:
    for number in range(count):
        read.append(number)
        yield Batch("t", [{"n": number}])


async def test_reading_ahead_starts_the_next_batch_at_once() -> None:
    read: list[int] = []
    async with Prefetch(counted(read)) as batches:
        first = await batches.next()
        await asyncio.sleep(0.05)  # the worker thread reads the second batch meanwhile
        assert first is not None and first.rows == [{"n": 0}]
        assert read == [0, 1]


async def test_without_reading_ahead_a_batch_is_read_only_when_asked_for() -> None:
    read: list[int] = []
    async with Prefetch(counted(read), ahead=False) as batches:
        await asyncio.sleep(0.05)
        assert read == []
        first = await batches.next()
        await asyncio.sleep(0.05)
        assert first is not None and first.rows == [{"n": 0}]
        assert read == [0]
        rest = [await batches.next() for _ in range(3)]
    assert [b.rows for b in rest if b is not None] == [[{"n": 1}], [{"n": 2}]]
    assert rest[-1] is None
