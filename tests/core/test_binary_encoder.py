"""The PostgreSQL target's binary COPY encoder (``PostgresTarget.binary_encoder``, which dumps
bytea with psycopg's plain bytes dumper) writes the bytes psycopg's own COPY writes for the
same rows, and the server reads them back as those values."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferry.plan import TargetSpec
from ferry.targets import open_target

pytestmark = pytest.mark.pg

TYPES = ["int8", "bytea", "float8", "bool", "bytea"]
ROWS = st.lists(
    st.tuples(
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | st.binary(max_size=40) | st.text(max_size=20).map(str.encode),
        st.none() | st.floats(allow_nan=False),
        st.none() | st.booleans(),
        st.none() | st.binary(max_size=3),
    ),
    max_size=20,
)


def encoded(url: str, folder: Path, rows: list[tuple[Any, ...]]) -> bytes:
    async def run() -> bytes:
        target = open_target(TargetSpec(url=url), folder)
        await target.open()
        try:
            encode = await target.binary_encoder(TYPES)
            assert encode is not None
            return bytes(encode(rows))
        finally:
            await target.finish(commit=False)

    return asyncio.run(run())


def psycopgs(url: str, rows: list[tuple[Any, ...]]) -> bytes:
    """What psycopg's COPY sends for ``rows`` (its default dumpers), read back through the
    server's own binary COPY output of the loaded table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS enc")
        conn.execute("CREATE TABLE enc (a int8, b bytea, c float8, d bool, e bytea, n serial)")
        with conn.cursor().copy("COPY enc (a, b, c, d, e) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(TYPES)
            for row in rows:
                copy.write_row(row)
        out = bytearray()
        sql = "COPY (SELECT a, b, c, d, e FROM enc ORDER BY n) TO STDOUT (FORMAT BINARY)"
        with conn.cursor().copy(sql) as copy:
            for block in copy:
                out += block
        return bytes(out)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=ROWS)
def test_encoder_bytes_are_psycopgs(
    tmp_path: Path, pg_url: str, rows: list[tuple[Any, ...]]
) -> None:
    assert encoded(pg_url, tmp_path, rows) == psycopgs(pg_url, rows)
