"""The CLI in an 80-column terminal: every table name printed whole, no header cut to
``inse…`` (a table too wide is stacked, one block per row), and progress with a total for
sources that count nothing ahead (JSON, JSON Lines)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.events import TableProgress
from ferry.load.progress import estimated_total
from ferry.migrate import migrate
from ferry.plan import load_plan
from ferry.verify.run import verify

#: the demo's target tables, each with the source it is read from
DEMO_TABLES = ["settings", "executions", "execution_steps", "progress", "heartbeats"]


def ferry_at_80(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command with its output on an 80-column terminal (a pty; TERM=dumb: no colours)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 80, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ferry.cli.command", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "80", "TERM": "dumb"},
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait(timeout=120)
    stdout = b"".join(chunks).decode().replace("\r\n", "\n")
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("narrow") / "demo"
    result = CliRunner().invoke(cli, ["demo", str(folder), "-q"])
    assert result.exit_code == 0, result.output
    return folder


def first_words(stdout: str) -> set[str]:
    return {line.split()[0] for line in stdout.splitlines() if line.strip()}


def test_verify_at_80_columns_names_every_table_whole(demo: Path) -> None:
    proc = ferry_at_80("verify", demo / "ferry.toml")

    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout
    assert set(DEMO_TABLES) <= first_words(proc.stdout)
    assert "execution_steps ← executions.steps" in proc.stdout.splitlines()
    assert "  expected 133  target 129  match 129  differ 0  missing 0  extra 0  reject 4" in (
        proc.stdout.splitlines()
    )


def test_preview_at_80_columns_names_every_table_and_count_whole(demo: Path) -> None:
    proc = ferry_at_80("preview", demo / "ferry.toml", "-q")

    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout
    assert set(DEMO_TABLES) <= first_words(proc.stdout)
    lines = proc.stdout.splitlines()
    steps = lines.index("execution_steps")
    assert lines[steps + 1 : steps + 3] == [
        "  source executions.steps  read 133  insert 0  update 0  unchanged 129",
        "  conflicts 0  rejected 4",
    ]


def test_init_at_80_columns_prints_every_found_file_whole(demo: Path, tmp_path: Path) -> None:
    plan = tmp_path / "draft.toml"

    proc = ferry_at_80("init", demo / "data", "-o", plan, "--target", "sqlite:///x.db")

    assert proc.returncode == 0, proc.stderr
    table_part = proc.stdout.split("note:")[0]
    assert "…" not in table_part
    for name in ("executions.json", "progress.json", "settings.json", "heartbeat"):
        assert name in table_part
    assert "executions, executions.steps" in table_part


def test_backups_at_80_columns_keep_the_id_and_size_whole(demo: Path) -> None:
    proc = ferry_at_80("backups", demo / "ferry.toml")

    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout
    assert " KiB" in proc.stdout


def test_a_table_that_fits_is_still_printed_as_a_table(demo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ferry.cli.command", "preview", str(demo / "ferry.toml"), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )  # into a pipe: 120 columns

    assert proc.returncode == 0, proc.stderr
    assert "┃ table           ┃ source           ┃ read ┃ insert ┃" in proc.stdout


def test_the_estimate_is_the_rows_over_the_share_read() -> None:
    assert estimated_total(5000, 0.25) == 20000
    assert estimated_total(5000, None) is None
    assert estimated_total(0, 0.5) is None
    assert estimated_total(5000, 1.0) == 5000


def jobs_plan(tmp_path: Path, kind: str) -> Path:
    """30000 records in a JSON or JSON Lines file and a plan moving them into SQLite."""
    records = [{"id": i, "name": f"job {i}"} for i in range(30000)]
    text = json.dumps(records) if kind == "json" else "".join(json.dumps(r) + "\n" for r in records)
    (tmp_path / f"jobs.{kind}").write_text(text, encoding="utf-8")
    (tmp_path / "ferry.toml").write_text(
        f'name = "jobs"\n\n[target]\nurl = "sqlite:///app.db"\n\n'
        f'[[sources]]\nname = "jobs"\nkind = "{kind}"\npath = "jobs.{kind}"\n\n'
        '[[tables]]\nname = "jobs"\nsource = "jobs"\nkey = ["id"]\n',
        encoding="utf-8",
    )
    return tmp_path / "ferry.toml"


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_a_json_source_progress_carries_a_total(tmp_path: Path, kind: str) -> None:
    events: list[object] = []

    asyncio.run(migrate(load_plan(jobs_plan(tmp_path, kind)), emit=events.append, preview=True))

    progress = [e for e in events if isinstance(e, TableProgress)]
    assert len(progress) > 1
    assert all(e.rows_total is not None and e.rows_total >= e.rows_done for e in progress)
    assert progress[-1].rows_total == 30000


def test_verify_progress_of_a_json_source_carries_a_total(tmp_path: Path) -> None:
    plan = load_plan(jobs_plan(tmp_path, "json"))
    asyncio.run(migrate(plan))
    events: list[object] = []

    result = asyncio.run(verify(plan, emit=events.append))

    assert result.passed
    progress = [e for e in events if isinstance(e, TableProgress) and e.table == "jobs"]
    assert len(progress) > 1
    assert all(e.rows_total is not None and e.rows_total >= e.rows_done for e in progress)
