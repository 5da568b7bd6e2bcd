"""The PostgreSQL side of verification's fast path (``ferry.verify.fastsql.pg_sql``) sums
exactly the row digests the general path computes from the rows it reads, for any column
types, NULLs, NOT NULL declarations and values (real PostgreSQL, property-tested): the
server writes each row's text with ``||`` (no ``concat``), leaves out the NULL handling of a
NOT NULL column and trims the header's commas only when the last value is NULL, and none of
that may change a byte."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ferry.values.logical import LogicalType
from ferry.verify.checksum import hash_form, row_digest
from ferry.verify.fastsql import MOD, Cell, Fingerprint, pg_fingerprint, pg_sql
from ferry.verify.normalize import normalizer

#: PostgreSQL type, the logical type the fast path maps it from, values of that type
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
MOMENTS = {"min_value": datetime(900, 1, 1), "max_value": datetime(9999, 12, 30)}
INFINITE = st.sampled_from(["infinity", "-infinity"])
KINDS: dict[str, tuple[LogicalType, st.SearchStrategy[Any]]] = {
    "text": ("text", TEXT),
    "varchar": ("text", TEXT),
    "int8": ("integer", st.integers(-(2**63), 2**63 - 1)),
    "int4": ("integer", st.integers(-(2**31), 2**31 - 1)),
    "int2": ("integer", st.integers(-(2**15), 2**15 - 1)),
    "float8": ("float", st.floats()),
    "bool": ("boolean", st.booleans()),
    "timestamptz": ("timestamp", st.datetimes(**MOMENTS, timezones=OFFSETS) | INFINITE),
    "timestamp": ("timestamp", st.datetimes(**MOMENTS) | INFINITE),
    "bytea": ("bytes", st.binary(max_size=24)),
}
SQL_TYPE = {"int8": "bigint", "int4": "integer", "int2": "smallint", "float8": "float8"}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[tuple[str, bool, bool]], list[list[Any]]]:
    """Columns (PostgreSQL type, NOT NULL, required: NULL is refused) after the key, and rows."""
    columns = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(KINDS)), st.booleans(), st.booleans()), max_size=6
        )
    )
    columns = [(kind, not_null, required and not not_null) for kind, not_null, required in columns]
    ids = draw(st.lists(st.integers(-(2**63), 2**63 - 1), unique=True, max_size=6))
    rows = []
    for id_ in ids:
        row: list[Any] = [id_]
        for kind, not_null, _ in columns:
            values = KINDS[kind][1]
            row.append(draw(values if not_null else st.none() | values))
        rows.append(row)
    return columns, rows


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("SET TimeZone = 'Asia/Kolkata'")  # the SQL must not depend on it
        yield db


def _outside(value: Any) -> bool:
    """A time the fast path leaves to the general path (not four-digit years in UTC)."""
    if value is None:
        return False
    if isinstance(value, str):
        return True  # ±infinity
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.year < 1000


def expected(
    db: psycopg.Connection[Any], table: str, cells: list[Cell], rows: list[list[Any]]
) -> Fingerprint | None:
    """What the general path sums over the rows it reads back (None: the fast path declines)."""
    for row in rows:
        for cell, value in zip(cells, row, strict=True):
            if (cell.required and value is None) or (cell.type == "timestamp" and _outside(value)):
                return None
    names = ", ".join(f'"{cell.column}"' for cell in cells)
    total = 0
    read = db.execute(f'SELECT {names} FROM "{table}"').fetchall()
    for row in read:
        values = []
        for cell, value in zip(cells, row, strict=True):
            normal = normalizer(cell.type)(value)
            form = hash_form(cell.type)
            values.append(form(normal) if form and normal is not None else normal)
        total += int.from_bytes(row_digest(values), "big")
    return Fingerprint(len(read), total % MOD)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables())
@example(([("text", False, False)], [[1, None], [2, ""], [3, "é"]]))  # trailing NULL, empty
@example(([("text", True, False), ("int8", False, False)], [[1, "a", None], [2, "", 2**63 - 1]]))
@example(([("timestamptz", True, False)], [[1, datetime(1999, 1, 1, tzinfo=UTC)]]))
@example(([("timestamptz", False, False)], [[1, "infinity"]]))
@example(([("float8", False, False), ("bytea", True, False)], [[1, -0.0, b"\x00"]]))
def test_the_server_sums_the_general_paths_row_digests(
    conn: psycopg.Connection[Any],
    table: tuple[list[tuple[str, bool, bool]], list[list[Any]]],
) -> None:
    columns, rows = table
    name = f"rows_{uuid.uuid4().hex[:8]}"
    cells = [Cell("id", "id", "integer", True)]
    types = {"id": "int8"}
    not_null = {"id"}
    ddl = ['"id" bigint PRIMARY KEY']
    for i, (kind, declared_not_null, required) in enumerate(columns):
        column = f"c{i}"
        cells.append(Cell(column, column, KINDS[kind][0], required))
        types[column] = kind
        if declared_not_null:
            not_null.add(column)
        null = " NOT NULL" if declared_not_null else ""
        ddl.append(f'"{column}" {SQL_TYPE.get(kind, kind)}{null}')
    conn.execute(f'CREATE TABLE "{name}" ({", ".join(ddl)})')
    try:
        marks = ", ".join(["%s"] * len(cells))
        with conn.cursor() as cursor:
            cursor.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
        row = conn.execute(pg_sql(name, cells, types, frozenset(not_null))).fetchone()
        assert row is not None
        assert pg_fingerprint(row) == expected(conn, name, cells, rows)
    finally:
        conn.execute(f'DROP TABLE "{name}"')
