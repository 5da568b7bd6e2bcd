"""A SQLite source table's page map (:class:`ferry.sources.sqlitepages.PageMap`), kept beside
its row prints: in the same ``row_prints`` rows of the table, under negative chunk numbers
(one band per array), so forgetting the prints forgets the map too."""

from __future__ import annotations

import sys
from array import array

from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from ..sources.sqlitepages import MAP_BANDS, PageMap, page_map_of
from ..targets import Target
from .printfile import CHUNK_ROWS
from .rowprints import chunk_table

_BANDS = MAP_BANDS


def _pack(values: array[int]) -> bytes:
    if values.typecode != "q":  # kept as 8 bytes each (a map's counts are 2 in memory)
        values = array("q", values)
    if sys.byteorder == "big":  # kept little-endian
        values = array("q", values)
        values.byteswap()
    return values.tobytes()


async def keep_page_map(target: Target, table: str, pages: PageMap) -> None:
    """Replace the page map kept for ``table`` (in the run's transaction; its prints are
    kept by :func:`ferry.load.rowprints.keep_prints`)."""
    chunks = chunk_table(target)
    chained = sorted(pages.chained)
    pairs = (
        (pages.counts, pages.hashes),
        (pages.owners, pages.overflow),
        (array("q", chained), array("q", (pages.chained[n] for n in chained))),
    )
    try:
        await target.conn.execute(
            chunks.delete().where(chunks.c.table_name == table, chunks.c.chunk < 0)
        )
        for first, (keys, values) in zip(_BANDS, pairs, strict=True):
            for number, start in enumerate(range(0, len(keys), CHUNK_ROWS)):
                await target.conn.execute(
                    chunks.insert().values(
                        table_name=table,
                        chunk=first - number,
                        keys=_pack(keys[start : start + CHUNK_ROWS]),
                        prints=_pack(values[start : start + CHUNK_ROWS]),
                    )
                )
    except sa_exc.DBAPIError as exc:
        raise target.wrap(exc, f"keeping the page map of {table}") from None


async def read_page_map(target: Target, table: str) -> PageMap | None:
    """The page map kept for ``table``, or None when none is."""
    chunks = chunk_table(target)
    result = await target.fetch_binary(
        select(chunks.c.chunk, chunks.c["keys"], chunks.c.prints)
        .where(chunks.c.table_name == table, chunks.c.chunk < 0)
        .order_by(chunks.c.chunk.desc()),
        f"reading the page map of {table}",
    )
    return page_map_of([(int(c), bytes(k), bytes(p)) for c, k, p in result])


__all__ = ["keep_page_map", "read_page_map"]
