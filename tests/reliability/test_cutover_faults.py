"""``ferry cutover`` under faults (issue 20, item 8): SIGKILL during its final sync and during
its verify, and a lost PostgreSQL connection during its final sync; SQLite → PostgreSQL and
JSON → SQLite.

Each case syncs once, has the app write and stop (the freeze window), snapshots the whole target
(every table, Ferry's journal included, and PostgreSQL's sequences), runs the real command and
strikes. What must hold: killed during the final sync, the target equals the snapshot; killed
during the verify, it holds the committed final sync (the verify writes nothing): the source's
rows and one more journaled run. Either way no cutover report, no reverse plan and no cutover in
``ferry runs`` claims a switch that did not happen, and the next ``ferry cutover`` ends in PASS.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
from faultkit import FerryProcess, Relay, assert_one_line_error
from syncfaultkit import (
    CUTOVER,
    KINDS,
    WriteHold,
    app_folder,
    assert_struck_before_commit,
    journal_runs,
    kind_target,
    next_cutover_passes,
    no_switch_claimed,
    snapshot,
    source_rows,
    strike_mid_load,
    synced_then_frozen,
    target_rows,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_during_the_final_sync_leaves_the_target_as_before_it(
    kind: str, sync_stores: Path, pg_url: str, pg_server_url: str, tmp_path: Path
) -> None:
    url = kind_target(kind, pg_url)
    plan = app_folder(sync_stores, tmp_path, kind, pg_url)
    synced_then_frozen(plan, tmp_path)
    before = snapshot(tmp_path, kind, url)
    with WriteHold(kind, url) as hold:
        hold.take()
        proc = FerryProcess(["cutover", str(plan), *CUTOVER], cwd=tmp_path)
        db = pg_url.rsplit("/", 1)[1]
        strike_mid_load(proc, kind, signal.SIGKILL, 1, pg_server_url, db, hold=hold)
    assert proc.wait() == -signal.SIGKILL
    assert_struck_before_commit(proc)

    assert snapshot(tmp_path, kind, url) == before
    assert "PASS" not in proc.stdout
    no_switch_claimed(plan, tmp_path)
    next_cutover_passes(plan, tmp_path, kind, url)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_during_the_verify_leaves_the_committed_final_sync(
    kind: str, sync_stores: Path, pg_url: str, tmp_path: Path
) -> None:
    url = kind_target(kind, pg_url)
    plan = app_folder(sync_stores, tmp_path, kind, pg_url)
    synced_then_frozen(plan, tmp_path)
    runs = journal_runs(tmp_path, kind, url)
    # The verify hashes both sides into a SQLite file in a temporary folder of its own: its
    # appearance in TMPDIR is the moment the verify runs.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = FerryProcess(
        ["cutover", str(plan), *CUTOVER], cwd=tmp_path, env={**os.environ, "TMPDIR": str(tmp)}
    )

    assert proc.wait_until(
        lambda: any(tmp.glob("ferry-verify-*/verify.sqlite")), "the verify's hash store"
    ), proc.stderr
    time.sleep(0.05)  # the verify reads
    assert proc.signal(signal.SIGKILL), f"the cutover ended first:\n{proc.stdout}"
    assert proc.wait() == -signal.SIGKILL

    assert proc.count("- journal") == 1  # the final sync had committed
    after = journal_runs(tmp_path, kind, url)
    assert after[: len(runs)] == runs and len(after) == len(runs) + 1
    assert target_rows(tmp_path, kind, url) == source_rows(tmp_path, kind)
    held = snapshot(tmp_path, kind, url)
    assert "PASS" not in proc.stdout
    no_switch_claimed(plan, tmp_path)
    # The final sync's data stands; the next cutover has nothing to move but verifies anew.
    assert snapshot(tmp_path, kind, url) == held
    next_cutover_passes(plan, tmp_path, kind, url)


def test_a_connection_lost_during_the_final_sync_fails_clearly_and_changes_nothing(
    sync_stores: Path, pg_url: str, tmp_path: Path
) -> None:
    """The network drops every connection (a relay closes its sockets) when the final sync
    sends its first COPY: one line naming the target, exit 5, the target as before, a cutover
    report that says the final sync failed (no switch claimed); with the network back the next
    cutover passes."""
    kind = "sqlite-to-postgres"
    relay = Relay("127.0.0.1", int(re.findall(r":(\d+)/", pg_url)[0]))
    try:
        plan = app_folder(sync_stores, tmp_path, kind, relay.url(pg_url))
        synced_then_frozen(plan, tmp_path)
        before = snapshot(tmp_path, kind, pg_url)
        relay.cut_on = b"COPY"
        proc = FerryProcess(["cutover", str(plan), *CUTOVER], cwd=tmp_path)
        code = proc.wait()

        assert relay.was_cut.is_set()
        line = assert_one_line_error(proc.stderr, code, 5)
        assert f"127.0.0.1:{relay.port}" in line, line
        assert "the connection was lost while" in line and "nothing was committed" in line
        assert snapshot(tmp_path, kind, pg_url) == before
        report = no_switch_claimed(plan, tmp_path, failed="failed")
        assert "the connection was lost while" in report["reasons"][0]
        assert f"report: {tmp_path / 'ferry-reports'}" in proc.stderr.replace("\n", "")
        relay.cut_on = None  # the network is back
        next_cutover_passes(plan, tmp_path, kind, pg_url)
    finally:
        relay.close()
