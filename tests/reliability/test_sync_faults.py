"""``ferry sync`` under faults (issue 20, item 8): SIGKILL, a lost PostgreSQL connection and
Ctrl-C during a cycle, SQLite → PostgreSQL and JSON → SQLite.

Each case runs the real command in a loop (``--every``), lets its first cycle commit, has the
app write between the cycles, takes a snapshot of the whole target (every table, Ferry's journal
included, and PostgreSQL's sequences), strikes while the second cycle loads its rows, and then
checks that the target equals that snapshot — the state after the last committed cycle — and
that the next ``ferry sync --cycles 1`` completes with the target equal to the source.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from faultkit import FerryProcess, Relay, assert_one_line_error, ferry_run
from syncfaultkit import (
    KINDS,
    WriteHold,
    app_folder,
    app_writes,
    assert_struck_before_commit,
    journal_runs,
    kind_target,
    snapshot,
    source_rows,
    strike_at_line,
    strike_mid_load,
    target_rows,
    wait_for_cycle,
)

pytestmark = pytest.mark.slow

#: the pause between cycles: long enough for the test to write and take its snapshot
EVERY = "3s"


def _first_cycle_then_app_writes(
    proc: FerryProcess, folder: Path, kind: str, url: str | None, hold: WriteHold | None = None
) -> dict[str, object]:
    """Cycle 1 commits (then ``hold`` holds cycle 2's writes); the app writes; the target as
    cycle 2 will find it."""
    wait_for_cycle(proc, 1)
    if hold is not None:
        hold.take()
    app_writes(folder)
    return snapshot(folder, kind, url)


def _next_sync_completes(plan: Path, folder: Path, kind: str, url: str | None) -> None:
    done = ferry_run("sync", plan, "--cycles", "1", "--no-backup", "-q", cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cycle 1" in done.stdout and "Sync done: 1 cycle(s)" in done.stdout
    assert target_rows(folder, kind, url) == source_rows(folder, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_during_a_cycle_leaves_the_last_committed_cycle(
    kind: str, sync_stores: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    url = kind_target(kind, pg_url)
    plan = app_folder(sync_stores, tmp_path, kind, pg_url)
    proc = FerryProcess(["sync", str(plan), "--every", EVERY, "--no-backup"], cwd=tmp_path)

    with WriteHold(kind, url) as hold:
        before = _first_cycle_then_app_writes(proc, tmp_path, kind, url, hold)
        runs = journal_runs(tmp_path, kind, url)
        strike_mid_load(proc, kind, signal.SIGKILL, 2, pg_server_url, _db(pg_url), hold=hold)
    assert proc.wait() == -signal.SIGKILL
    assert_struck_before_commit(proc, nth=2)

    assert snapshot(tmp_path, kind, url) == before
    assert len(runs) == 1  # cycle 1's run: still there, and nothing of cycle 2's
    _next_sync_completes(plan, tmp_path, kind, url)
    assert journal_runs(tmp_path, kind, url)[:1] == runs


def test_sigkill_right_after_a_cycle_moved_the_sequence_leaves_it_where_it_was(
    sync_stores: Path, pg_url: str, tmp_path: Path
) -> None:
    """Cycle 2 adds rows with new ids, so it moves the table's sequence past them and says so
    (``warning: items: sequence … moved``); killed at that line, the sequence is where cycle 1
    left it: Ferry moves it with ``ALTER SEQUENCE … RESTART``, undone with the transaction
    (``setval`` would not be). The moment lasts a few ms (the journal step, then the commit):
    a kill that lands after the cycle's ``- journal`` line may find the cycle committed —
    then whole, never half."""
    kind = "sqlite-to-postgres"
    plan = app_folder(sync_stores, tmp_path, kind, pg_url)
    proc = FerryProcess(["sync", str(plan), "--every", EVERY, "--no-backup"], cwd=tmp_path)

    before = _first_cycle_then_app_writes(proc, tmp_path, kind, pg_url)
    strike_at_line(proc, "sequence public.items_id_seq moved", signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL

    after = snapshot(tmp_path, kind, pg_url)
    if proc.count("- journal") < 2:
        assert after == before
    elif after != before:  # struck in the commit: cycle 2 whole
        print("the kill landed after the journal step: cycle 2 committed")
        assert target_rows(tmp_path, kind, pg_url) == source_rows(tmp_path, kind)
        assert len(journal_runs(tmp_path, kind, pg_url)) == 2
    _next_sync_completes(plan, tmp_path, kind, pg_url)


@pytest.mark.parametrize("kind", KINDS)
def test_ctrl_c_during_a_cycle_rolls_it_back_with_exit_130_and_keeps_the_earlier_ones(
    kind: str, sync_stores: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    url = kind_target(kind, pg_url)
    plan = app_folder(sync_stores, tmp_path, kind, pg_url)
    proc = FerryProcess(["sync", str(plan), "--every", EVERY, "--no-backup"], cwd=tmp_path)

    with WriteHold(kind, url) as hold:
        before = _first_cycle_then_app_writes(proc, tmp_path, kind, url, hold)
        strike_mid_load(proc, kind, signal.SIGINT, 2, pg_server_url, _db(pg_url), hold=hold)
    code = proc.wait()

    assert code == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (
        "error: Cancelled during sync cycle 2: that cycle was rolled back; the 1 cycle(s) "
        "before it stay committed." in proc.stderr
    )
    assert "1 cycle(s) committed before it; the freeze window will need about" in proc.stderr
    assert snapshot(tmp_path, kind, url) == before
    if kind == "json-to-sqlite":
        assert not (tmp_path / "target.db-journal").exists()
    _next_sync_completes(plan, tmp_path, kind, url)


def test_a_connection_lost_during_a_cycle_fails_it_clearly_and_keeps_the_earlier_ones(
    sync_stores: Path, pg_url: str, tmp_path: Path
) -> None:
    """The network between Ferry and the server drops every connection (a relay closes its
    sockets) the moment cycle 2 sends its COPY: the cycle fails with one line naming the
    target, nothing of it committed, cycle 1 stays; once the network is back the next sync
    completes."""
    kind = "sqlite-to-postgres"
    relay = Relay("127.0.0.1", int(re.findall(r":(\d+)/", pg_url)[0]))
    try:
        plan = app_folder(sync_stores, tmp_path, kind, relay.url(pg_url))
        proc = FerryProcess(["sync", str(plan), "--every", EVERY, "--no-backup"], cwd=tmp_path)
        before = _first_cycle_then_app_writes(proc, tmp_path, kind, pg_url)
        relay.cut_on = b"COPY"  # cycle 2's first COPY into the stage
        code = proc.wait()

        assert relay.was_cut.is_set()
        line = assert_one_line_error(proc.stderr, code, 5)
        assert f"127.0.0.1:{relay.port}" in line, line  # the target, as the plan names it
        assert "the connection was lost while" in line and "nothing was committed" in line
        assert "1 cycle(s) committed before it" in proc.stderr
        assert snapshot(tmp_path, kind, pg_url) == before
        relay.cut_on = None  # the network is back
        _next_sync_completes(plan, tmp_path, kind, pg_url)
    finally:
        relay.close()


def _db(pg_url: str) -> str:
    return pg_url.rsplit("/", 1)[1]
