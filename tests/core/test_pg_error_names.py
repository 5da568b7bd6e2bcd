"""A PostgreSQL refusal on a live connection is not named a lost connection."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ferry.planspecs import TargetSpec
from ferry.targets import open_target


def test_a_lock_not_available_is_named_as_refused_not_as_a_lost_connection(
    tmp_path: Path, pg_url: str
) -> None:
    # found restoring a foreign key: "the connection was lost while restoring foreign key …
    # (cannot ALTER TABLE "flow_run" because it has pending trigger events)"
    with psycopg.connect(pg_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE flow_run (id int PRIMARY KEY)")
    with psycopg.connect(pg_url) as holder, psycopg.connect(pg_url) as waiter:
        holder.execute("LOCK TABLE flow_run IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET lock_timeout = '50ms'")
        with pytest.raises(psycopg.OperationalError) as refused:
            waiter.execute("LOCK TABLE flow_run IN ACCESS EXCLUSIVE MODE")
    target = open_target(TargetSpec(url=pg_url), tmp_path)
    message = str(target.wrap(refused.value, "locking flow_run"))
    assert "connection was lost" not in message
    assert "locking flow_run failed: canceling statement due to lock timeout" in message
