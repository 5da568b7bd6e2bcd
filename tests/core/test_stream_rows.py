"""``Target.stream_rows``: a query's rows a batch at a time, blobs as ``bytes``, in the run's
transaction (PostgreSQL through a server-side cursor; SQLite read at once). Real databases,
one behaviour per test."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ferry.plan import TargetSpec
from ferry.targets import open_target

#: five rows, their key and a blob, written by the run's own transaction first
SETUP = [
    "CREATE TABLE blobs (id bigint PRIMARY KEY, data bytea)",
    "INSERT INTO blobs VALUES (1, 'a'), (2, 'b'), (3, NULL), (4, 'd'), (5, 'e')",
]
QUERY = "SELECT id, data FROM blobs ORDER BY id"


def _batches(url: str, folder: Path, setup: list[str]) -> list[list[tuple[Any, ...]]]:
    async def run() -> list[list[tuple[Any, ...]]]:
        target = open_target(TargetSpec(url=url), folder)
        await target.open()
        try:
            for statement in setup:
                await target.execute(statement, "setting up")
            rows = target.stream_rows(target.driver_sql(QUERY), "streaming", 2)
            return [[tuple(row) for row in batch] async for batch in rows]
        finally:
            await target.finish(commit=False)

    return asyncio.run(run())


WANTED = [[(1, b"a"), (2, b"b")], [(3, None), (4, b"d")], [(5, b"e")]]


@pytest.mark.pg
def test_postgresql_streams_the_rows_its_transaction_wrote(tmp_path: Path, pg_url: str) -> None:
    assert _batches(pg_url, tmp_path, SETUP) == WANTED


def test_sqlite_gives_the_same_batches(tmp_path: Path) -> None:
    setup = [
        s.replace("bytea", "BLOB")
        .replace("'a'", "x'61'")
        .replace("'b'", "x'62'")
        .replace("'d'", "x'64'")
        .replace("'e'", "x'65'")
        for s in SETUP
    ]

    assert _batches(f"sqlite:///{tmp_path / 'target.db'}", tmp_path, setup) == WANTED
