"""The fast path's row-hash statements on a PostgreSQL target run without parallel workers
(ferry.verify.fast.FastPath: ``max_parallel_workers_per_gather`` 0 while the target's side
works, the database's own setting again afterwards), and the result is unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from test_verify_fast import migrated
from test_verify_orphans_ahead import jobs_plan

from ferry.verify.fast import FastPath
from ferry.verify.integrity import OrphanCounts
from ferry.verify.run import verify

pytestmark = pytest.mark.pg

SETTING = text("SELECT current_setting('max_parallel_workers_per_gather')")


async def test_the_row_hashes_run_without_parallel_workers_and_the_setting_comes_back(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await migrated(jobs_plan(tmp_path, pg_url))
    with psycopg.connect(pg_url, autocommit=True) as pg:
        name = pg.execute("SELECT current_database()").fetchone()
        assert name is not None
        pg.execute(f'ALTER DATABASE "{name[0]}" SET max_parallel_workers_per_gather = 3')
    seen: dict[str, Any] = {}
    fingerprint, orphans_of = FastPath._fingerprint_targets, OrphanCounts.of

    async def fingerprint_and_look(self: FastPath, fast: Any) -> None:
        seen["hashing"] = (await self.target.conn.execute(SETTING)).scalar_one()
        await fingerprint(self, fast)

    async def of_and_look(self: OrphanCounts, *args: Any) -> Any:
        seen["after"] = (await self.target.conn.execute(SETTING)).scalar_one()
        return await orphans_of(self, *args)

    monkeypatch.setattr(FastPath, "_fingerprint_targets", fingerprint_and_look)
    monkeypatch.setattr(OrphanCounts, "of", of_and_look)
    result = await verify(plan, write_reports=False)
    assert result.verdict == "PASS"
    assert seen == {"hashing": "0", "after": "3"}
