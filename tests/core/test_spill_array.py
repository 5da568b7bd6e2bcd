"""``SpillArray`` (a run's row prints in flat memory): what goes in comes back, in order,
whether it stayed in memory or went to the file."""

from __future__ import annotations

from array import array

import pytest

from ferry.load.spill import SpillArray


def test_items_come_back_by_index_slice_and_iteration_across_the_spilled_part() -> None:
    values = [(i * 7919) % 10007 - 5000 for i in range(1000)]
    spilled = SpillArray(chunk=64)
    for i, value in enumerate(values[:500]):
        spilled.append(value)
        if i % 100 == 99:
            spilled.settle()  # after a batch
    spilled.extend(iter(values[500:]))  # a generator is consumed a chunk at a time

    assert len(spilled) == 1000
    assert list(spilled) == values
    assert spilled[-1] == values[-1] and spilled[0] == values[0] and spilled[640] == values[640]
    assert spilled[60:200] == array("q", values[60:200])  # file and tail
    assert spilled[990:2000] == array("q", values[990:])
    assert spilled.to_array() == array("q", values)
    with pytest.raises(IndexError):
        spilled[1000]


def test_at_most_one_chunk_is_kept_in_memory() -> None:
    spilled = SpillArray(range(10_000), chunk=128)

    assert len(spilled._tail) < 128
    assert spilled[9_999] == 9_999 and len(spilled) == 10_000
