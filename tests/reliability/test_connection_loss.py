"""PostgreSQL goes away mid-run, or never answers at all.

The session is cut with ``pg_terminate_backend`` while pg_stat_activity shows Ferry's session
running the statement named (a COPY into the stage, the verify's reads): the command must end
with one clear line and exit code 5, nothing committed, and a re-run must complete. A server
that accepts the TCP connection and then says nothing must hit ``connect_timeout``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import (
    FerryProcess,
    assert_one_line_error,
    ferry_run,
    pg_exec,
    pg_query,
    pg_tables,
    stop_cluster,
    throwaway_cluster,
    wait_for_backend,
)
from test_kill import pg_digests

from conftest import BIG_PLAN, expected_digests
from ferry.load.journal import journal_tables

#: Ferry's journal in this test's target (ferry.load.journal)
RUNS = journal_tables("postgresql")[0]

pytestmark = pytest.mark.slow


def terminate_when(
    server_url: str, database: str, like: str | list[str], proc: FerryProcess, active: bool = True
) -> None:
    """Cut Ferry's server session the moment it runs a statement matching ``like``."""
    running = lambda: proc.proc.poll() is None  # noqa: E731
    pids = wait_for_backend(server_url, database, like, running, active)
    assert pids, f"the run ended before it ran {like!r}:\n{proc.stderr}"
    for pid in pids:
        pg_exec(server_url, f"SELECT pg_terminate_backend({pid})")


def plan_for(folder: Path, sources: Path, url: str) -> Path:
    plan = folder / "ferry.toml"
    plan.write_text(BIG_PLAN.format(url=url, folder=sources), encoding="utf-8")
    return plan


def test_a_session_cut_during_the_copy_commits_nothing_and_a_rerun_completes(
    big_sources: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    plan = plan_for(tmp_path, big_sources, pg_url)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    terminate_when(pg_server_url, pg_url.rsplit("/", 1)[1], "COPY %", proc)
    code = proc.wait()

    line = assert_one_line_error(proc.stderr, code, 5)
    assert "the connection was lost while" in line
    assert "nothing was committed" in line
    assert pg_tables(pg_url) == set()
    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert pg_digests(pg_url) == expected_digests()


def test_a_session_cut_during_verify_is_a_clear_error_and_a_rerun_passes(
    big_sources: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    plan = plan_for(tmp_path, big_sources, pg_url)
    assert ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path).returncode == 0
    runs = pg_query(pg_url, f"SELECT run_id FROM {RUNS}")
    proc = FerryProcess(["verify", str(plan)], cwd=tmp_path)

    # The verify streams each target table through a server-side cursor (DECLARE ... SELECT,
    # then FETCH): cut it once that has begun.
    reading = ['%FROM "items"%', "FETCH %"]
    terminate_when(pg_server_url, pg_url.rsplit("/", 1)[1], reading, proc, active=False)
    code = proc.wait()

    line = assert_one_line_error(proc.stderr, code, 5)
    assert "the connection was lost while" in line
    assert pg_digests(pg_url) == expected_digests()
    assert pg_query(pg_url, f"SELECT run_id FROM {RUNS}") == runs
    again = ferry_run("verify", plan, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "PASS" in again.stdout


# ------------------------------------------------------------------------------ silent server


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # keep it open, read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


SILENT_PLAN = """name = "silent"

[target]
url = "postgresql://ferry@127.0.0.1:{port}/app"
connect_timeout = 2

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""


@pytest.mark.parametrize(
    "command",
    [["migrate", "--no-backup"], ["check"], ["verify"], ["backup"], ["preview"]],
    ids=lambda c: c[0] + ("-no-backup" if len(c) > 1 else ""),
)
def test_a_server_that_never_answers_hits_the_connect_timeout(
    command: list[str], silent_server: int, tmp_path: Path
) -> None:
    (tmp_path / "jobs.json").write_text('[{"id": 1}]', encoding="utf-8")
    plan = tmp_path / "ferry.toml"
    plan.write_text(SILENT_PLAN.format(port=silent_server), encoding="utf-8")

    started = time.monotonic()
    done = ferry_run(command[0], plan, *command[1:], cwd=tmp_path)
    took = time.monotonic() - started

    assert took < 20, f"{command[0]} took {took:.1f} s against a silent server"
    assert "Traceback" not in done.stderr
    text = done.stdout + done.stderr
    assert f"127.0.0.1:{silent_server}" in text, text
    assert "did not answer in time" in text, text
    assert done.returncode != 0


# ------------------------------------------------------------------------------ server stopped


@pytest.fixture
def own_server() -> Iterator[object]:
    with throwaway_cluster("ferry-stop-") as cluster:
        yield cluster


def test_the_server_stopped_during_the_copy_commits_nothing_and_a_rerun_completes(
    big_sources: Path, own_server: object, tmp_path: Path
) -> None:
    port = own_server.start()  # type: ignore[attr-defined]
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    plan = plan_for(tmp_path, big_sources, url)
    proc = FerryProcess(["migrate", str(plan), "--no-backup"], cwd=tmp_path)

    running = lambda: proc.proc.poll() is None  # noqa: E731
    assert wait_for_backend(url, "postgres", "COPY %", running)
    stop_cluster(own_server)
    code = proc.wait()

    line = assert_one_line_error(proc.stderr, code, 5)
    assert "the connection was lost while" in line and "nothing was committed" in line
    port = own_server.start()  # type: ignore[attr-defined]  # (maybe on another port)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    assert pg_tables(url) == set()
    plan = plan_for(tmp_path, big_sources, url)
    done = ferry_run("migrate", plan, "--no-backup", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert pg_digests(url) == expected_digests()
