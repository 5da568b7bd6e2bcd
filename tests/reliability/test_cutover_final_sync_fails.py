"""``ferry cutover`` whose final sync itself fails or is stopped (issue 20, items 1, 2 and 8):
a source that cannot be read, a row the target rejects under ``on_reject = "stop"``, and
Ctrl-C (SIGINT) while the final sync loads.

What must hold each time: the final sync rolled back (the whole target, Ferry's journal
included, equals the snapshot taken before the cutover), one error line and a non-zero exit
(130 for Ctrl-C), a cutover report with status ``failed`` or ``cancelled`` and the reason (no
switch claimed), and the next ``ferry cutover``, once the cause is gone, ends in PASS. A lost
connection is in ``test_cutover_faults.py``.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest
from faultkit import FerryProcess, assert_one_line_error
from syncfaultkit import (
    CUTOVER,
    KINDS,
    WriteHold,
    app_folder,
    assert_struck_before_commit,
    kind_target,
    next_cutover_passes,
    no_switch_claimed,
    snapshot,
    strike_mid_load,
    synced_then_frozen,
)

pytestmark = pytest.mark.slow


def test_a_source_that_cannot_be_read_fails_the_cutover_with_a_report(
    sync_stores: Path, tmp_path: Path
) -> None:
    """The app left its JSON file cut short before it stopped: quiet, but not JSON."""
    kind = "json-to-sqlite"
    plan = app_folder(sync_stores, tmp_path, kind)
    synced_then_frozen(plan, tmp_path)
    good = (tmp_path / "jobs.json").read_bytes()
    (tmp_path / "jobs.json").write_bytes(good[: len(good) // 2])
    before = snapshot(tmp_path, kind)

    proc = FerryProcess(["cutover", str(plan), *CUTOVER], cwd=tmp_path)
    code = proc.wait()

    line = assert_one_line_error(proc.stderr, code, code)
    assert code not in (0, 130), proc.stderr
    assert "jobs.json" in line, line
    assert snapshot(tmp_path, kind) == before
    report = no_switch_claimed(plan, tmp_path, failed="failed")
    assert report["failed_step"] == "final sync"
    assert "jobs.json" in report["reasons"][0]
    assert "report: " in proc.stderr and "cutover-" in proc.stderr
    (tmp_path / "jobs.json").write_bytes(good)  # the app's file repaired
    next_cutover_passes(plan, tmp_path, kind, None)


def test_a_rejected_row_under_on_reject_stop_fails_the_cutover_with_a_report(
    sync_stores: Path, pg_url: str, tmp_path: Path
) -> None:
    """A row whose ``qty`` is text where the target column is an integer."""
    kind = "sqlite-to-postgres"
    plan = app_folder(sync_stores, tmp_path, kind, pg_url)
    plan.write_text(plan.read_text(encoding="utf-8") + 'on_reject = "stop"\n', encoding="utf-8")
    synced_then_frozen(plan, tmp_path)
    conn = sqlite3.connect(tmp_path / "src.db")
    with conn:
        conn.execute("INSERT INTO items VALUES (999999, 'odd', 'lots', 1.0)")
    conn.close()
    before = snapshot(tmp_path, kind, pg_url)

    proc = FerryProcess(["cutover", str(plan), *CUTOVER], cwd=tmp_path)
    code = proc.wait()

    assert_one_line_error(proc.stderr, code, code)
    assert code not in (0, 130), proc.stderr
    assert snapshot(tmp_path, kind, pg_url) == before
    report = no_switch_claimed(plan, tmp_path, failed="failed")
    assert report["failed_step"] == "final sync"
    assert "999999" in " ".join(report["reasons"]) or "qty" in " ".join(report["reasons"])
    conn = sqlite3.connect(tmp_path / "src.db")
    with conn:
        conn.execute("UPDATE items SET qty = 3 WHERE id = 999999")
    conn.close()
    next_cutover_passes(plan, tmp_path, kind, pg_url)


@pytest.mark.parametrize("kind", KINDS)
def test_ctrl_c_during_the_final_sync_rolls_back_reports_and_exits_130(
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
        strike_mid_load(proc, kind, signal.SIGINT, 1, pg_server_url, db, hold=hold)
    code = proc.wait()
    assert_struck_before_commit(proc)

    line = assert_one_line_error(proc.stderr, code, 130)
    assert "Cancelled" in line, line
    assert snapshot(tmp_path, kind, url) == before
    report = no_switch_claimed(plan, tmp_path, failed="cancelled")
    assert report["failed_step"] == "final sync"
    assert "rolled back" in " ".join(report["reasons"])
    next_cutover_passes(plan, tmp_path, kind, url)
