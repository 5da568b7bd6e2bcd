"""The SQL of a compare-first table compared by row hashes (:mod:`ferry.load.hashload`):
which tables qualify, and what each side runs.

Both databases write each row as the bytes verification's fast path hashes
(:mod:`ferry.verify.fastsql`: the mapped row exactly, or NULL where SQL cannot write it so).
The rows are grouped by key into buckets of ``2**BUCKET_BITS`` consecutive keys: PostgreSQL
sums each bucket's row MD5s itself (:data:`HashSql.target_buckets`), SQLite writes every row's
bytes in key order for Python to sum (:data:`HashSql.source_all`). A bucket whose sums differ
is looked at row by row (:data:`HashSql.source_range`, :data:`HashSql.target_rows`). A
table whose sampled buckets mostly differ is compared row by row from the start
(:mod:`ferry.load.hashrows`: :data:`HashSql.source_all` beside :data:`HashSql.target_stream`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..shape.identifiers import quote
from ..shape.schema import TableInfo
from ..sources import SourceTable
from ..targets import Target
from ..values.targetstyles import TableStyles
from ..values.transform import RowMapper
from ..verify.fast import mapped_cells
from ..verify.fastpg import PgSide
from ..verify.fastsource import connect
from ..verify.fastsql import (
    TABLE_INFO,
    SqliteColumns,
    pg_row_md5,
    pg_type_problem,
    sqlite_row_value,
)
from .printbook import print_key_field

if TYPE_CHECKING:
    from ..plan import TableSpec
    from ..sources.sqlite import SqliteSource

#: a bucket holds the keys with the same ``key >> BUCKET_BITS`` (128 keys: a few changed rows
#: spread over a table leave most buckets whole, and a million keys make 8,000 sums)
BUCKET_BITS = 7


@dataclass(frozen=True)
class HashSql:
    """Both sides' row-hash SQL of one table."""

    #: the source field holding the key
    field: str
    #: the target's key column
    key: str
    #: SQLite: ``(key, row bytes)`` of every source row, in key order
    source_all: str
    #: SQLite: the same for the keys between two parameters (inclusive)
    source_range: str
    #: PostgreSQL: per bucket, its row count, rows hashed, and the sum of the MD5s in three
    #: parts (as :func:`ferry.verify.fastsql.pg_fingerprint` reads them)
    target_buckets: str
    #: PostgreSQL: ``(key, row MD5)`` in key order of the buckets in ``{buckets}`` (a list)
    target_rows: str
    #: SQLite: the smallest and the largest key (each found in the key's index)
    source_bounds: str
    #: PostgreSQL: ``(key, row MD5 as 16 bytes)`` of every row, in key order
    target_stream: str


async def hash_sql(
    target: Target,
    reader: SqliteSource,
    spec: TableSpec,
    info: TableInfo,
    mapper: RowMapper,
    source: SourceTable,
    styles: TableStyles,
    kept_text: set[str],
) -> HashSql | str:
    """The row-hash SQL of a compare-first table fed by SQLite source table ``source`` alone,
    or why its rows are compared the ordinary way."""
    if not target.capabilities.sums_row_hashes:
        return "the target does not hash rows in SQL"
    field_name = print_key_field(spec, mapper)
    if field_name is None or mapper.hook is not None:
        return "the key is not one integer column copied as it is"
    if set(styles.chosen) & set(mapper.columns) or kept_text:
        return "the target table keeps its own spelling of values"
    compared = [c for c in mapper.columns if c not in mapper.key and c not in mapper.now_columns]
    cells = mapped_cells(spec, mapper, info, compared, source)
    if isinstance(cells, str):
        return cells
    pg = PgSide(target)
    if not await pg.usable():
        return "the database's encoding is not UTF-8"
    types, not_null = await pg.types(info.name)
    problem = pg_type_problem(cells, types)
    if problem is not None:
        return problem
    found = await asyncio.to_thread(_source_facts, reader, source.origin, field_name)
    if isinstance(found, str):
        return found
    row = sqlite_row_value(cells, source=True, zone=mapper.timezone, columns=found)
    by, table = quote(field_name), quote(source.origin)
    key = quote(mapper.key[0])
    md5 = pg_row_md5(cells, types, not_null)
    rows = f"SELECT {key} AS k, {md5} AS h FROM {quote(info.name)}"
    sums = ", ".join(
        f"coalesce(sum(substring(b from {start} for {size})::bigint), 0)"
        for start, size in ((1, 64), (65, 32), (97, 32))
    )
    return HashSql(
        field_name,
        mapper.key[0],
        f"SELECT {by}, {row} FROM {table} ORDER BY {by}",
        f"SELECT {by}, {row} FROM {table} WHERE {by} BETWEEN ? AND ? ORDER BY {by}",
        target.driver_sql(
            f"SELECT g, count(*), count(b), {sums} FROM (SELECT k >> {BUCKET_BITS} AS g, "
            f"('x' || h)::bit(128) AS b FROM ({rows}) AS r OFFSET 0) AS s GROUP BY g"
        ),
        target.driver_sql(f"SELECT {key}, {md5} FROM unnest(CAST(ARRAY[")
        + "{buckets}"
        + target.driver_sql(
            f"] AS bigint[])) AS u(g) JOIN {quote(info.name)} ON {key} "
            f"BETWEEN u.g << {BUCKET_BITS} AND (u.g << {BUCKET_BITS}) + "
            f"{(1 << BUCKET_BITS) - 1} ORDER BY {key}"
        ),
        f"SELECT (SELECT min({by}) FROM {table}), (SELECT max({by}) FROM {table})",
        target.driver_sql(
            f"SELECT {key}, decode({md5}, 'hex') FROM {quote(info.name)} ORDER BY {key}"
        ),
    )


def _source_facts(reader: SqliteSource, table: str, field: str) -> SqliteColumns | str:
    """The declared schema of the source table, or why its keys cannot be looked up by range
    (the buckets that differ are read by key range: the key must be the rowid or indexed)."""
    conn = connect(reader.path, reader.busy_timeout)
    try:
        declared = conn.execute(TABLE_INFO, (table,)).fetchall()
        rowid = conn.execute(
            "SELECT count(*) = 1 AND sum(name = ? AND upper(type) = 'INTEGER') = 1 "
            "FROM pragma_table_info(?) WHERE pk > 0",
            (field, table),
        ).fetchone()[0]
        indexed = conn.execute(
            "SELECT 1 FROM pragma_index_list(?) AS l, pragma_index_info(l.name) AS i "
            "WHERE i.seqno = 0 AND i.name = ?",
            (table, field),
        ).fetchone()
    except sqlite3.Error:
        return "the source's columns cannot be read"
    finally:
        conn.close()
    if not rowid and indexed is None:
        return f"the source's {field} is neither its rowid nor indexed"
    return SqliteColumns.of(declared)


__all__ = ["BUCKET_BITS", "HashSql", "hash_sql"]
