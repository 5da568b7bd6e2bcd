"""Two Ferry runs on one target: the second stops at once, naming the first (exit 9), or with
``--wait`` says whom it waits for and runs after it.

The first run is a real ``ferry migrate`` held open from outside: its source is a PostgreSQL
table the test locks (``ACCESS EXCLUSIVE`` in a transaction of its own), so the run blocks
reading it while holding the target's run lock; the test then starts the second run, and only
afterwards lets the first one go. The second run ending while the first is still blocked is the
proof that it did not wait for it.
"""

from __future__ import annotations

import re
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from faultkit import (
    FerryProcess,
    assert_one_line_error,
    ferry_run,
    pg_exec,
    pg_query,
    sqlite_query,
)

from ferry.load.journal import journal_tables
from ferry.safety.runlock import FERRY_NAMESPACE

#: Ferry's journal on each kind of target (ferry.load.journal)
SQLITE_RUNS, _ = journal_tables("sqlite")
PG_RUNS, _ = journal_tables("postgresql")

PLAN = """name = "two-runs"

[target]
url = "{target}"

[[sources]]
name = "old"
kind = "postgres"
url = "{source}"
tables = ["src"]

[[tables]]
name = "jobs"
source = "old.src"
key = ["id"]
"""


def write_plan(folder: Path, source_url: str, target_url: str) -> Path:
    pg_exec(
        source_url,
        "CREATE TABLE src (id integer PRIMARY KEY, title text)",
        "INSERT INTO src SELECT i, 'job ' || i FROM generate_series(1, 50) i",
    )
    plan = folder / "ferry.toml"
    plan.write_text(PLAN.format(target=target_url, source=source_url), encoding="utf-8")
    return plan


@contextmanager
def source_locked(url: str) -> Iterator[None]:
    """The source table locked by another session until the block ends: a reader blocks."""
    with psycopg.connect(url) as conn:
        conn.execute("LOCK TABLE src IN ACCESS EXCLUSIVE MODE")
        yield
        conn.rollback()


def first_run_holding_the_lock(plan: Path, pg_url: str) -> FerryProcess:
    """``ferry migrate`` blocked on its source after taking the target's run lock."""
    first = FerryProcess(["migrate", str(plan), "--no-backup", "-q"], cwd=plan.parent)
    # The source reader blocks once it reads rows: by then the run lock is long held.
    first.wait_until(
        lambda: bool(
            pg_query(
                pg_url,
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%src%' AND pid <> pg_backend_pid()",
            )
        ),
        "the first run to block on its source",
    )
    return first


def lock_holders(pg_url: str) -> list[tuple[str]]:
    return pg_query(
        pg_url,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        f"WHERE l.locktype = 'advisory' AND l.classid = {FERRY_NAMESPACE} AND l.granted "
        # this test's database only: other runs on the same server hold their own locks
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )


def test_a_second_run_on_a_postgres_target_stops_at_once_naming_the_first(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, pg_url)
    with source_locked(pg_url):
        first = first_run_holding_the_lock(plan, pg_url)
        assert [h[0].split(" ")[:2] for h in lock_holders(pg_url)] == [
            ["ferry-run", str(first.proc.pid)]
        ]

        second = FerryProcess(["migrate", str(plan), "-q"], cwd=tmp_path)
        code = second.wait()
        assert first.proc.poll() is None  # the first is still blocked: the second did not wait

    line = assert_one_line_error(second.stderr, code, 9)
    # the target as Ferry names it: user@host:port/database (the server the fixture gave)
    where, host = re.escape(pg_url.split("://", 1)[1]), re.escape(socket.gethostname())
    assert re.fullmatch(
        rf"error: another Ferry run \(pid {first.proc.pid}, host {host}, "
        r"started at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\) is writing to this target "
        rf"\({where}\); nothing was changed",
        line,
    ), line
    assert "hint: Wait for that run to finish, or run again with --wait to wait for it." in (
        second.stderr
    )
    assert not (tmp_path / "ferry-backups").exists()  # the second took no backup either
    assert first.wait() == 0, first.stderr
    assert pg_query(pg_url, f"SELECT count(*), status FROM {PG_RUNS} GROUP BY status") == [
        (1, "completed")
    ]
    assert pg_query(pg_url, "SELECT count(*) FROM jobs") == [(50,)]
    assert lock_holders(pg_url) == []  # freed with the first run's session


def test_with_wait_the_second_run_says_whom_it_waits_for_and_runs_after_it(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, pg_url)
    with source_locked(pg_url):
        first = first_run_holding_the_lock(plan, pg_url)
        second = FerryProcess(["migrate", str(plan), "-q", "--wait"], cwd=tmp_path)
        second.wait_until(lambda: "waiting:" in second.stderr, "the waiting line")
        assert second.proc.poll() is None and first.proc.poll() is None
    assert first.wait() == 0, first.stderr
    assert second.wait() == 0, second.stderr

    waiting = next(line for line in second.stderr.splitlines() if line.startswith("waiting:"))
    assert waiting.startswith(f"waiting: another Ferry run (pid {first.proc.pid}, host ")
    assert waiting.endswith("; waiting for it to finish (Ctrl-C stops waiting)")
    assert pg_query(pg_url, f"SELECT count(*), status FROM {PG_RUNS} GROUP BY status") == [
        (2, "completed")
    ]


def test_a_second_run_on_a_sqlite_target_stops_at_once_naming_the_first(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, "sqlite:///app.db")
    with source_locked(pg_url):
        first = first_run_holding_the_lock(plan, pg_url)
        lock_file = tmp_path / "app.db.ferry-run"
        assert lock_file.exists()

        second = FerryProcess(["migrate", str(plan), "-q"], cwd=tmp_path)
        code = second.wait()
        assert first.proc.poll() is None

    line = assert_one_line_error(second.stderr, code, 9)
    assert line.startswith(
        f"error: another Ferry run (pid {first.proc.pid}, host {socket.gethostname()}, started at "
    )
    assert line.endswith(f"is writing to this target ({tmp_path / 'app.db'}); nothing was changed")
    assert first.wait() == 0, first.stderr
    assert not lock_file.exists()  # removed when the first run ended
    assert sqlite_query(tmp_path / "app.db", "SELECT count(*) FROM jobs") == [(50,)]
    assert sqlite_query(tmp_path / "app.db", f"SELECT count(*) FROM {SQLITE_RUNS}") == [(1,)]


def test_a_rollback_while_a_run_writes_stops_at_once_and_restores_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, pg_url)
    assert ferry_run("backup", plan, cwd=tmp_path).returncode == 0
    with source_locked(pg_url):
        first = first_run_holding_the_lock(plan, pg_url)
        rollback = FerryProcess(["rollback", str(plan), "--yes"], cwd=tmp_path)
        code = rollback.wait()
        assert first.proc.poll() is None

    line = assert_one_line_error(rollback.stderr, code, 9)
    assert line.startswith(f"error: another Ferry run (pid {first.proc.pid}, host ")
    assert first.wait() == 0, first.stderr
    assert pg_query(pg_url, "SELECT count(*) FROM jobs") == [(50,)]  # not rolled back


def test_the_lock_of_a_killed_run_frees_itself_and_the_next_run_completes(
    pg_url: str, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path, pg_url, pg_url)
    with source_locked(pg_url):
        first = first_run_holding_the_lock(plan, pg_url)
        first.signal(signal.SIGKILL)
        assert first.wait() == -signal.SIGKILL

    second = FerryProcess(["migrate", str(plan), "-q"], cwd=tmp_path)

    assert second.wait() == 0, second.stderr
    assert pg_query(pg_url, "SELECT count(*) FROM jobs") == [(50,)]
    assert lock_holders(pg_url) == []
