"""A PostgreSQL connection that stops answering, and a lock another session holds.

A :class:`~faultkit.Relay` between Ferry and the real server stops forwarding (sockets open,
no data) when Ferry sends its first COPY: the run must end within ``stall_timeout`` with a
clear error naming the step and the target, the target unchanged, and the server must end
Ferry's abandoned transaction by itself (``idle_in_transaction_session_timeout``). A lock held
by another session is waited for visibly ("held by other-app pid N"), not cut as a stall.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from faultkit import (
    FerryProcess,
    Relay,
    assert_one_line_error,
    ferry_run,
    pg_exec,
    pg_query,
    pg_tables,
)

from ferry.errors import SourceError
from ferry.plan import SourceSpec
from ferry.sources import open_source
from ferry.sources import postgres as pg_source

pytestmark = pytest.mark.slow

PLAN = """name = "stall"

[target]
url = "{url}"
stall_timeout = {stall}

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""


def write_plan(folder: Path, url: str, stall: int | None, rows: int = 2000, pad: int = 0) -> Path:
    jobs = [{"id": i, "label": f"job {i}" + "x" * pad} for i in range(rows)]
    (folder / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    plan = folder / "ferry.toml"
    text = PLAN.format(url=url, stall=stall)
    if stall is None:  # the default
        text = text.replace("stall_timeout = None\n", "")
    plan.write_text(text, encoding="utf-8")
    return plan


@pytest.fixture
def relay(pg_url: str) -> Iterator[Relay]:
    server = psycopg.conninfo.conninfo_to_dict(pg_url)
    relay = Relay(str(server.get("host", "127.0.0.1")), int(server.get("port", 5432)))
    try:
        yield relay
    finally:
        relay.close()


def ferry_sessions(pg_url: str) -> list[tuple[object, ...]]:
    database = pg_url.rsplit("/", 1)[1]
    return pg_query(
        pg_url,
        "SELECT pid, state FROM pg_stat_activity WHERE application_name = 'ferry' "
        f"AND datname = '{database}' AND pid <> pg_backend_pid()",
    )


def test_a_connection_that_stops_answering_mid_run_ends_within_the_stall_timeout(
    relay: Relay, pg_url: str, tmp_path: Path
) -> None:
    relay.freeze_on = b"COPY"
    plan = write_plan(tmp_path, relay.url(pg_url), stall=3)

    started = time.monotonic()
    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)
    took = time.monotonic() - started

    assert relay.frozen.is_set()
    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert f"127.0.0.1:{relay.port}" in line
    assert "the connection stalled while loading rows" in line and "jobs" in line
    assert "nothing was committed" in line
    assert took < 12, f"the run took {took:.1f} s with stall_timeout = 3"
    assert pg_tables(pg_url) == set()
    # The server ends the transaction Ferry left (idle_in_transaction = 2 x stall_timeout)
    # by itself: its locks are freed although the relay still holds the socket open.
    deadline = time.monotonic() + 10
    while ferry_sessions(pg_url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ferry_sessions(pg_url) == []


def test_a_slow_copy_that_keeps_moving_is_not_cut(
    relay: Relay, pg_url: str, tmp_path: Path
) -> None:
    relay.rate = 50_000  # bytes/s: the COPY of ~250 KB takes about 5 s, longer than the limit
    plan = write_plan(tmp_path, relay.url(pg_url), stall=4, rows=6_000, pad=24)

    started = time.monotonic()
    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)
    took = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert took > 6, f"the relay did not slow the run down to 1.5 x stall_timeout ({took:.1f} s)"
    assert pg_query(pg_url, "SELECT count(*) FROM jobs") == [(6_000,)]


def test_a_statement_the_server_works_on_longer_than_the_limit_is_not_cut(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, stall=1)
    (tmp_path / "schema.sql").write_text(
        "SELECT pg_sleep(3);\nCREATE TABLE jobs (id bigint PRIMARY KEY, label text);\n",
        encoding="utf-8",
    )
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("[target]\n", '[target]\nschema = "schema.sql"\n'),
        encoding="utf-8",
    )

    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert pg_query(pg_url, "SELECT count(*) FROM jobs") == [(2000,)]


def test_a_lock_held_by_another_session_is_named_and_waited_for(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, stall=2)
    with psycopg.connect(pg_url, autocommit=True) as setup:
        setup.execute("CREATE TABLE jobs (id bigint PRIMARY KEY, label text)")
    other = psycopg.connect(pg_url, application_name="other-app")
    try:
        other.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        pid = other.info.backend_pid
        proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)
        assert proc.wait_until(lambda: "other-app" in proc.stderr, "the lock warning")
        # Longer than stall_timeout: a lock wait is not a stall.
        time.sleep(3)
        assert proc.proc.poll() is None, proc.stderr
    finally:
        other.rollback()
        other.close()
    code = proc.wait()

    assert code == 0, proc.stderr
    said = " ".join(proc.stderr.split())  # (the console wraps long lines)
    assert f"waiting for a lock on table jobs held by other-app pid {pid}" in said
    assert pg_query(pg_url, "SELECT count(*) FROM jobs") == [(2000,)]


def test_a_postgresql_source_that_stops_answering_mid_read_is_a_clear_error(
    relay: Relay, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE notes (id integer PRIMARY KEY, body text)",
        "INSERT INTO notes SELECT i, 'note ' || i FROM generate_series(1, 5000) i",
    )
    monkeypatch.setattr(pg_source, "STALL_TIMEOUT", 2)
    spec = SourceSpec(name="app", kind="postgres", url=relay.url(pg_url))
    source = open_source(spec, tmp_path)

    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        for _ in source.batches(100):
            relay.freeze()  # after the first batch: the next FETCH gets no answer
    took = time.monotonic() - started
    source.close()

    assert f"127.0.0.1:{relay.port}" in caught.value.message
    assert "stopped answering while reading table 'notes'" in caught.value.message
    assert "(source 'app')" in caught.value.message
    assert took < 8, f"the read took {took:.1f} s with a stall limit of 2 s"


def test_a_connection_dropped_during_the_copy_names_the_copy_not_the_rollback(
    relay: Relay, pg_url: str, tmp_path: Path
) -> None:
    relay.cut_on = b"COPY"
    plan = write_plan(tmp_path, relay.url(pg_url), stall=None)

    done = ferry_run("migrate", plan, "--no-backup", cwd=tmp_path)

    assert relay.was_cut.is_set()
    line = assert_one_line_error(done.stderr, done.returncode, 5)
    assert "the connection was lost while loading rows into jobs" in line
    assert "finishing the transaction" not in line
    assert pg_tables(pg_url) == set()
