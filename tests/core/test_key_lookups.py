"""A hashed comparison's row-by-row statements (``Target.key_lookups``) are planned as the
index lookups they are: the planner takes each key range of ``unnest(…) JOIN … BETWEEN`` for a
ninth of the table and, for the row hash's cost at that estimate, chose JIT compilation and
parallel scans of the whole table (a 1% delta right after a first run: 197 s instead of 17).
Real PostgreSQL, one behaviour per test."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pgkit import pg_exec

from ferry.plan import TargetSpec
from ferry.targets import open_target

pytestmark = pytest.mark.pg

#: a range join as the comparison's, with a costly expression per row
RANGES = (
    "SELECT id, md5(md5(md5(name))) FROM unnest(CAST(ARRAY[1, 3, 5] AS bigint[])) AS u(g) "
    "JOIN rows_by_key ON id BETWEEN u.g << 7 AND (u.g << 7) + 127 ORDER BY id"
)
#: settings that make the planner reach for JIT and parallel workers at any size
EAGER = {
    "jit_above_cost": "0",
    "cpu_operator_cost": "10",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "max_parallel_workers_per_gather": "2",
}


def _plans(url: str, folder: Path) -> tuple[str, str, str]:
    """The statement's plan outside the block, inside it, and after it."""

    async def run() -> tuple[str, str, str]:
        target = open_target(TargetSpec(url=url), folder)
        await target.open()
        conn = target.conn

        async def plan() -> str:
            found = await conn.exec_driver_sql("EXPLAIN " + RANGES)
            return "\n".join(str(r[0]) for r in found.all())

        try:
            for name, value in EAGER.items():
                await conn.exec_driver_sql(f"SELECT set_config('{name}', '{value}', true)")
            before = await plan()
            async with target.key_lookups():
                inside = await plan()
            return before, inside, await plan()
        finally:
            await target.finish(commit=False)

    return asyncio.run(run())


@pytest.fixture
def plans(tmp_path: Path, pg_url: str) -> tuple[str, str, str]:
    pg_exec(
        pg_url,
        "CREATE TABLE rows_by_key (id bigint PRIMARY KEY, name text)",
        "INSERT INTO rows_by_key SELECT i, 'row ' || i FROM generate_series(1, 200000) AS i",
        "ANALYZE rows_by_key",
    )
    return _plans(pg_url, tmp_path)


def test_the_range_join_uses_no_jit_and_no_parallel_workers(plans: tuple[str, str, str]) -> None:
    before, inside, _ = plans
    assert "Gather" in before and "JIT" in before  # the settings alone would take both
    assert "Gather" not in inside and "JIT" not in inside
    assert "Index" in inside


def test_the_settings_before_the_block_come_back(plans: tuple[str, str, str]) -> None:
    _, _, after = plans
    assert "Gather" in after and "JIT" in after
