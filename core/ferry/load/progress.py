"""A table's total rows, estimated while it is read when its source cannot count ahead.

JSON and JSON Lines files give no row count without a full read (``ferry init`` does one; a
run does not). How far through its file the reader is (bytes) tells the rest: a table with
``rows_done`` rows at that share of the file ends near ``rows_done / share``. The CLI and the
wizard show it as the bar's total and ETA, as they do for sources that count ahead.
"""

from __future__ import annotations


def estimated_total(rows_done: int, share: float | None) -> int | None:
    """The total ``rows_done`` rows at ``share`` (0 to 1) of the input point to; ``None``
    while nothing tells (no share, or no rows yet). Never below ``rows_done``."""
    if not share or share <= 0 or rows_done <= 0:
        return None
    return max(rows_done, round(rows_done / min(share, 1.0)))


__all__ = ["estimated_total"]
