"""The ``ferry`` command: exit codes, one-line errors, JSON output, rejects, preview, demo, Ctrl-C.

Most tests drive the command in-process with click's test runner. The ones that must prove
what a user sees from the real process (no traceback on stderr, the exit status, a signal)
run ``python -m ferry.cli.command`` in a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.demo import demo_source
from ferry.load.journal import journal_tables
from ferry.targets import sqlite as sqlite_target

#: Ferry's journal in this test's target (ferry.load.journal)
RUNS = journal_tables("sqlite")[0]


def ferry(*args: str | Path, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def ferry_process(
    *args: str | Path, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ferry.cli.command", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "80"},
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


JOBS = [
    {"id": 1, "name": "probe", "size": "10"},
    {"id": 2, "name": "mux", "size": "20"},
    {"id": 3, "name": "publish", "size": "30"},
]


def jobs_plan(folder: Path, records: list[dict[str, Any]] = JOBS, extra: str = "") -> Path:
    """A plan moving ``jobs.json`` into ``app.db`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jobs.json").write_text(json.dumps(records, indent=2), encoding="utf-8")
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""name = "jobs"

[target]
url = "sqlite:///app.db"

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
{extra}""",
        encoding="utf-8",
    )
    return plan


# -- exit codes and one-line errors (the real process) --------------------------------------


def test_a_missing_plan_exits_3_with_one_line_and_a_hint(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ferry.toml"

    proc = ferry_process("migrate", missing)

    assert proc.returncode == 3
    assert error_lines(proc.stderr) == [
        f"error: plan file {missing} does not exist",
        "hint: Create one with `ferry init DIR -o ferry.toml`.",
    ]
    assert proc.stdout == ""


def test_an_error_naming_a_long_path_stays_on_one_line(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 8) / "ferry.toml"

    proc = ferry_process("check", deep)

    assert proc.returncode == 3
    assert error_lines(proc.stderr)[0] == f"error: plan file {deep} does not exist"


def test_an_unknown_plan_key_exits_3_naming_it_and_suggesting_the_right_one(
    tmp_path: Path,
) -> None:
    plan = jobs_plan(tmp_path, extra='colums.title = "name"\n')

    proc = ferry_process("migrate", plan)

    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    first = error_lines(proc.stderr)[0]
    assert first.startswith(f"error: {plan} is not a valid plan: ")
    assert first.endswith("""tables[0] ("jobs").colums: unknown key (did you mean 'columns'?)""")
    assert not (tmp_path / "app.db").exists()


def test_a_malformed_json_source_exits_4_naming_the_file_and_line(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)
    (tmp_path / "jobs.json").write_text(
        '[\n  {"id": 1, "name": "probe"},\n  {"id": 2,, "name": "mux"}\n]\n', encoding="utf-8"
    )

    proc = ferry_process("migrate", plan)

    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    [error] = [line for line in error_lines(proc.stderr) if line.startswith("error:")]
    assert str(tmp_path / "jobs.json") in error
    assert "line 3" in error
    assert not (tmp_path / "app.db").exists()


def test_an_unreachable_postgres_target_exits_5_connection_refused(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)
    plan.write_text(
        plan.read_text().replace(
            'url = "sqlite:///app.db"',
            'url = "postgresql://postgres@127.0.0.1:1/x"\nconnect_timeout = 3',
        )
    )

    proc = ferry_process("migrate", plan, "-q")

    assert proc.returncode == 5
    assert "Traceback" not in proc.stderr
    [error] = [line for line in error_lines(proc.stderr) if line.startswith("error:")]
    assert "connection refused" in error
    assert any(line.startswith("hint: ") for line in error_lines(proc.stderr))


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = ferry_process("--debug", "migrate", tmp_path / "missing.toml")

    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ferry.errors.PlanError: plan file" in proc.stderr


def test_a_bad_command_line_exits_2(tmp_path: Path) -> None:
    proc = ferry_process("migrate", tmp_path / "ferry.toml", "--no-such-option")

    assert proc.returncode == 2
    assert "Error: No such option '--no-such-option'." in proc.stderr
    assert "Traceback" not in proc.stderr


# -- exit codes (in-process) ----------------------------------------------------------------


def test_a_locked_sqlite_target_exits_5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_target, "BUSY_TIMEOUT_SECONDS", 0.2)
    plan = jobs_plan(tmp_path)
    holder = sqlite3.connect(tmp_path / "app.db", isolation_level=None)
    holder.execute("CREATE TABLE app_state (k TEXT)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO app_state VALUES ('busy')")
    try:
        result = ferry("migrate", plan, "-q")
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.exit_code == 5
    lines = error_lines(result.stderr)
    assert lines[:2] == [
        f"error: target {tmp_path / 'app.db'} is locked by another program (opening the target)",
        "hint: Stop the application that writes to it, or retry when it is idle.",
    ]
    assert lines[2].startswith(f"report: {tmp_path / 'ferry-reports' / 'migrate-'}")
    assert rows(tmp_path / "app.db", "SELECT name FROM sqlite_master") == [("app_state",)]


def test_a_rejected_row_under_on_reject_stop_exits_6_and_writes_nothing(tmp_path: Path) -> None:
    records = [*JOBS[:2], {"id": 3, "name": "publish", "size": "big"}]
    plan = jobs_plan(
        tmp_path,
        records,
        extra='on_reject = "stop"\ncolumns.size = { from = "size", cast = "integer" }\n',
    )

    result = ferry("migrate", plan, "-q")

    assert result.exit_code == 6
    assert error_lines(result.stderr)[0] == (
        "error: table jobs: row id=3 was rejected: column 'size': 'big' is not a whole number"
    )
    assert error_lines(result.stderr)[1].startswith(
        'hint: The plan stops on the first rejected row (on_reject = "stop")'
    )
    assert not (tmp_path / "app.db").exists()


def test_a_conflict_under_rule_error_exits_6_and_leaves_the_target_unchanged(
    tmp_path: Path,
) -> None:
    plan = jobs_plan(tmp_path)
    assert ferry("migrate", plan, "-q").exit_code == 0
    before = sha256(tmp_path / "app.db")
    changed = [JOBS[0], {**JOBS[1], "name": "remux"}, JOBS[2]]
    plan = jobs_plan(tmp_path, changed, extra='conflict = "error"\n')

    result = ferry("migrate", plan, "-q")

    assert result.exit_code == 6
    assert error_lines(result.stderr)[0].startswith(
        "error: table jobs: 1 rows already exist in the target with other values"
    )
    assert sha256(tmp_path / "app.db") == before


def test_a_missing_target_folder_prints_the_hint_with_its_brackets(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)
    plan.write_text(plan.read_text().replace("sqlite:///app.db", "sqlite:///no/such/app.db"))

    result = ferry("migrate", plan, "-q")

    assert result.exit_code == 5
    assert error_lines(result.stderr)[:2] == [
        f"error: the folder of the target {tmp_path / 'no/such/app.db'} does not exist",
        "hint: Create the folder or point [target] url at an existing one.",
    ]


def test_data_that_looks_like_markup_is_printed_as_it_is(tmp_path: Path) -> None:
    records = [{"id": "[/x]", "size": "abc"}, {"id": "[bold]b", "size": "1"}]
    plan = jobs_plan(
        tmp_path, records, extra='columns.size = { from = "size", cast = "integer" }\n'
    )

    result = ferry("migrate", plan, "-q")

    assert result.exit_code == 0, result.output
    assert "  jobs id='[/x]': column 'size': 'abc' is not a whole number" in result.stdout
    assert rows(tmp_path / "app.db", "SELECT id, size FROM jobs") == [("[bold]b", 1)]


def test_rejects_into_a_missing_folder_is_refused_before_the_run(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)

    result = ferry("migrate", plan, "-q", "--rejects", tmp_path / "no" / "rejects.jsonl")

    assert result.exit_code == 2
    assert (
        f"Invalid value for '--rejects': the folder {tmp_path / 'no'} does not exist"
        in result.stderr
    )
    assert not (tmp_path / "app.db").exists()


# -- output ---------------------------------------------------------------------------------


def test_migrate_json_prints_the_result_with_per_table_counts(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)

    result = ferry("migrate", plan, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["mode"], report["status"], report["plan_name"]) == (
        "migrate",
        "completed",
        "jobs",
    )
    assert report["target"] == str(tmp_path / "app.db")
    [table] = report["tables"]
    assert {k: table[k] for k in ("name", "source", "rows_read", "inserted", "updated")} == {
        "name": "jobs",
        "source": "jobs",
        "rows_read": 3,
        "inserted": 3,
        "updated": 0,
    }
    assert (table["unchanged"], table["conflicts"], table["rejected"], table["created"]) == (
        0,
        0,
        0,
        True,
    )
    assert rows(tmp_path / "app.db", f"SELECT run_id FROM {RUNS}") == [(report["run_id"],)]


def test_rejects_file_gets_one_json_line_per_rejected_row(tmp_path: Path) -> None:
    records = [
        {"id": 1, "name": "probe", "size": "10"},
        {"id": 2, "name": "mux", "size": "twenty"},
        {"id": 3, "name": "publish", "size": "3.5"},
    ]
    plan = jobs_plan(
        tmp_path, records, extra='columns.size = { from = "size", cast = "integer" }\n'
    )
    rejects = tmp_path / "rejects.jsonl"

    result = ferry("migrate", plan, "-q", "--rejects", rejects)

    assert result.exit_code == 0, result.output
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "table": "jobs",
            "key": "id=2",
            "reason": "column 'size': 'twenty' is not a whole number",
            "row": {"id": 2, "name": "mux", "size": "twenty"},
            "kind": "transform",
            "key_values": {"id": 2},
        },
        {
            "table": "jobs",
            "key": "id=3",
            "reason": "column 'size': '3.5' is not a whole number",
            "row": {"id": 3, "name": "publish", "size": "3.5"},
            "kind": "transform",
            "key_values": {"id": 3},
        },
    ]
    assert rows(tmp_path / "app.db", "SELECT id, size FROM jobs") == [(1, 10)]
    assert "2 rejected rows (first ones):" in result.stdout


def test_preview_prints_the_ddl_and_leaves_the_target_byte_identical(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)
    assert ferry("migrate", plan, "-q").exit_code == 0
    (tmp_path / "tags.json").write_text(
        json.dumps({"t1": {"label": "news"}, "t2": {"label": "sport"}}), encoding="utf-8"
    )
    plan = jobs_plan(
        tmp_path,
        [*JOBS[:2], {**JOBS[2], "name": "republish"}],
        extra='\n[[sources]]\nname = "tags"\nkind = "json"\npath = "tags.json"\n\n'
        '[[tables]]\nname = "tags"\nsource = "tags"\n',
    )
    # a [[sources]] entry after [[tables]] still joins the one sources array (TOML)
    before = sha256(tmp_path / "app.db")

    result = ferry("preview", plan, "-q")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "preview of jobs" in out
    assert 'CREATE TABLE "tags" (' in out
    assert f"Preview only: {tmp_path / 'app.db'} is unchanged." in out
    assert sha256(tmp_path / "app.db") == before
    assert rows(tmp_path / "app.db", f"SELECT count(*) FROM {RUNS}") == [(1,)]


def test_preview_json_gives_the_counts_a_migration_would_have(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path)
    assert ferry("migrate", plan, "-q").exit_code == 0
    plan = jobs_plan(tmp_path, [JOBS[0], {**JOBS[1], "name": "remux"}, JOBS[2], {"id": 4}])

    result = ferry("preview", plan, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["mode"] == "preview"
    [table] = report["tables"]
    assert (table["inserted"], table["updated"], table["unchanged"]) == (1, 1, 2)
    assert rows(tmp_path / "app.db", "SELECT name FROM jobs WHERE id = 2") == [("mux",)]


# -- password ---------------------------------------------------------------------------------


def test_password_set_without_a_keyring_says_what_to_use_instead() -> None:
    result = ferry("password", "set", "postgresql://app@db.example:5432/state", input="s3cret\n")

    assert result.exit_code == 1
    assert error_lines(result.stderr) == [
        "error: cannot store the password: no OS keyring is available on this machine",
        "hint: Use FERRY_PASSWORD or ~/.pgpass instead.",
    ]
    assert "s3cret" not in result.output


def test_password_set_refuses_a_url_it_cannot_read() -> None:
    result = ferry("password", "set", "not a url", input="s3cret\n")

    assert result.exit_code == 2
    assert "Invalid value for URL: not a database URL" in result.stderr


def test_password_set_stores_it_under_the_database_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored: dict[tuple[str, str], str] = {}
    monkeypatch.setattr("ferry.safety.passwords.keyring_status", lambda: None)
    monkeypatch.setattr(
        "keyring.set_password",
        lambda service, account, secret: stored.update({(service, account): secret}),
    )

    result = ferry("password", "set", "postgresql://app@db.example/state", input="s3cret\n")

    assert result.exit_code == 0, result.output
    assert stored == {("ferry", "app@db.example:5432/state"): "s3cret"}
    assert "Stored in the OS keyring." in result.stdout


# -- the demo ---------------------------------------------------------------------------------


def demo_counts(db: Path) -> dict[str, int]:
    tables = ["settings", "executions", "execution_steps", "progress", "heartbeats", RUNS]
    return {t: rows(db, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables = ["settings", "executions", "execution_steps", "progress", "heartbeats"]
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}


def test_the_bundled_demo_holds_what_the_expected_counts_are_made_of() -> None:
    data = demo_source() / "data"
    executions = json.loads((data / "executions.json").read_text(encoding="utf-8"))
    settings = json.loads((data / "settings.json").read_text(encoding="utf-8"))
    assert (len(settings), len(executions)) == (10, 36)
    assert sum(len(e["steps"]) for e in executions.values()) == 133
    assert [k for k, e in executions.items() if e["started_at"] is None] == ["rec-1007"]
    assert len(executions["rec-1007"]["steps"]) == 4
    env_keys = {
        line.removeprefix("export ").split("=", 1)[0].lower()
        for line in (data / ".env").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert sorted(env_keys - set(settings)) == ["empty_value", "notify_url", "transcode_preset"]


def test_demo_migrates_into_sqlite_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "demo"

    first = ferry("demo", folder, "-q")

    assert first.exit_code == 0, first.output
    db = folder / "app.db"
    assert demo_counts(db) == {
        "settings": 13,  # 10 from settings.json + 3 keys only the .env has
        "executions": 35,  # rec-1007 has no started_at (NOT NULL)
        "execution_steps": 129,  # its 4 steps fail the foreign key
        "progress": 3,
        "heartbeats": 2,
        RUNS: 1,
    }
    assert rows(db, "SELECT id FROM executions WHERE id = 'rec-1007'") == []
    assert rows(db, "SELECT value FROM settings WHERE key = 'log_level'") == [("INFO",)]
    assert rows(db, "SELECT value FROM settings WHERE key = 'transcode_preset'") == [("veryfast",)]
    assert "executions id='rec-1007': NOT NULL constraint failed: executions.started_at" in (
        first.stdout
    )
    data = dump(db)

    second = ferry("demo", folder, "-q")

    assert second.exit_code == 0, second.output
    assert dump(db) == data
    assert demo_counts(db)[RUNS] == 2


def test_a_restarted_read_says_why_the_schema_step_repeats(tmp_path: Path) -> None:
    # The demo's executions table refuses rec-1007 when loaded straight into the empty
    # table, so the run starts over with it staged: the output says so between the steps.
    result = ferry("demo", tmp_path / "demo")

    assert result.exit_code == 0, result.output
    steps = [line for line in result.stderr.splitlines() if line.startswith("- ")]
    assert steps[0] == "- schema"
    assert steps[1].startswith("- read again: executions refused a row")
    assert steps[2] == "- schema"


def test_demo_goes_to_ferry_demo_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = ferry("demo", "-q")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "ferry-demo" / "ferry.toml").exists()
    assert demo_counts(tmp_path / "ferry-demo" / "app.db")["executions"] == 35
    assert "Look inside with: sqlite3 ferry-demo/app.db .tables" in result.stdout


# -- Ctrl-C -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A JSON source of 300,000 records (about 20 MB)."""
    folder = tmp_path_factory.mktemp("big")
    with (folder / "jobs.json").open("w", encoding="utf-8") as handle:
        json.dump([{"id": i, "name": f"job {i}", "size": i * 3} for i in range(300_000)], handle)
    yield folder / "jobs.json"


def interrupt_migration(folder: Path, source: Path) -> tuple[int, str]:
    """Start ``ferry migrate``, wait until it reads the source, press Ctrl-C."""
    plan = jobs_plan(folder)
    (folder / "jobs.json").unlink()
    (folder / "jobs.json").symlink_to(source)
    errors = folder / "stderr.txt"
    with errors.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ferry.cli.command", "migrate", str(plan)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 30
            while "- schema" not in errors.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, errors.read_text()
                time.sleep(0.02)
            time.sleep(0.3)  # the schema is made; rows are being read and staged
            assert proc.poll() is None, "the migration ended before it could be interrupted"
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    return code, errors.read_text()


@pytest.mark.slow
def test_ctrl_c_cancels_exits_130_and_creates_no_target(tmp_path: Path, big_jobs: Path) -> None:
    code, stderr = interrupt_migration(tmp_path, big_jobs)

    assert code == 130
    assert "error: Cancelled: the target was rolled back and is unchanged." in stderr
    assert "Traceback" not in stderr
    # The backup taken before the run stays; no target file was created.
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["ferry-backups", "ferry-reports", "ferry.toml", "jobs.json", "stderr.txt"]


@pytest.mark.slow
def test_ctrl_c_leaves_an_existing_target_unchanged(tmp_path: Path, big_jobs: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE app_state (k TEXT PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO app_state VALUES ('schema_version', '7')")
    conn.close()
    before = sha256(tmp_path / "app.db")

    code, stderr = interrupt_migration(tmp_path, big_jobs)

    assert code == 130, stderr
    assert "Cancelled" in stderr
    assert sha256(tmp_path / "app.db") == before


def test_migrate_backs_up_first_and_journals_the_backup(tmp_path: Path) -> None:
    result = ferry("migrate", jobs_plan(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    (backup,) = (tmp_path / "ferry-backups").iterdir()
    assert rows(tmp_path / "app.db", f"SELECT backup_id FROM {RUNS}") == [(backup.name,)]


def test_migrate_no_backup_takes_none(tmp_path: Path) -> None:
    result = ferry("migrate", jobs_plan(tmp_path), "-q", "--no-backup")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "ferry-backups").exists()


def test_a_failed_migration_writes_a_report_saying_why(tmp_path: Path) -> None:
    plan = jobs_plan(tmp_path, extra='on_reject = "stop"\n')
    (tmp_path / "jobs.json").write_text(json.dumps([{"id": 1}, {"name": "no id"}]))
    result = ferry("migrate", plan, "-q", "--no-backup")
    assert result.exit_code == 6
    (report,) = (tmp_path / "ferry-reports").glob("migrate-*.json")
    data = json.loads(report.read_text())
    assert data["status"] == "failed"
    assert data["result"]["error"].endswith("was rejected: key column 'id' is empty")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
def test_ctrl_c_while_the_plan_loads_exits_130_with_one_line(tmp_path: Path) -> None:
    """The plan is a named pipe that never delivers: `ferry migrate` waits inside plan
    loading (past start-up, before any engine step) when Ctrl-C comes."""
    plan = tmp_path / "ferry.toml"
    os.mkfifo(plan)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ferry.cli.command", "migrate", str(plan)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = None
    try:
        deadline = time.monotonic() + 30
        while writer is None and time.monotonic() < deadline:
            assert proc.poll() is None
            try:  # succeeds once ferry has the pipe open for reading
                writer = os.open(plan, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.02)
        assert writer is not None, "ferry never opened the plan"
        time.sleep(0.2)  # ferry is now blocked reading it
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if writer is not None:
            os.close(writer)
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 130, stderr
    assert "error: Cancelled before anything started: nothing was changed." in stderr
    assert "Aborted" not in stderr and "Traceback" not in stderr
