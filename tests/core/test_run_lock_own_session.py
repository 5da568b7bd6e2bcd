"""A run right after another in the same process finds the PostgreSQL run lock still held by
that run's own session, closed a moment ago: the server frees an advisory lock when the
backend exits, not when the client closes. It waits for that instead of stopping as busy with
itself (a flake of tests/core/test_undo.py under load: the CLI's ``undo --keep-app-changes``
right after a refused ``undo``). Real PostgreSQL: the closing session is played by a session
that holds the lock under this process's tag and lets go a second later."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ferry.plan import TargetSpec
from ferry.safety.runlock import FERRY_NAMESPACE, hold_target


def _hold_as_this_process(url: str, seconds: float) -> threading.Event:
    held = threading.Event()

    def hold() -> None:
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tag = f"ferry-run {os.getpid()} {started} {socket.gethostname()}"[:63]
        with psycopg.connect(url, autocommit=True, application_name=tag) as conn:
            database = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
            key = int.from_bytes(hashlib.sha256(database.encode()).digest()[:4], "big")
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (FERRY_NAMESPACE, key & 0x7FFFFFFF))
            held.set()
            time.sleep(seconds)

    threading.Thread(target=hold, daemon=True).start()
    held.wait(10)
    return held


def test_a_lock_held_by_this_process_s_closing_session_is_waited_for(
    tmp_path: Path, pg_url: str
) -> None:
    _hold_as_this_process(pg_url, 1.0)
    started = time.monotonic()

    with hold_target(TargetSpec(url=pg_url), tmp_path):
        waited = time.monotonic() - started

    assert 0.5 < waited < 8
