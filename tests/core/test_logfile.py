"""Ferry's log file (ferry.safety.logfile): a rotating file in the user's log folder (FERRY_LOG_DIR
in the tests, see tests/conftest.py), named in ``ferry --help`` and in reports, holding each
run's steps and errors with tracebacks, and never a password."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ferry.safety import logfile
from ferry.safety.logfile import log_dir, setup_logging
from ferry.safety.passwords import resolve_password


def ferry(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ferry", *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """The bundled demo migrated by ``ferry demo`` (a real run: backup, migrate, verify)."""
    done = ferry("demo", tmp_path / "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "demo"


def test_help_names_the_log_file(tmp_path: Path) -> None:
    done = ferry("--help", cwd=tmp_path, env={"FERRY_LOG_DIR": str(tmp_path / "logs")})
    assert done.stdout.endswith(
        f"\nLog file (FERRY_LOG_DIR moves it):\n  {tmp_path / 'logs' / 'ferry.log'}\n"
    )


def test_the_log_folder_is_the_xdg_state_folder_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FERRY_LOG_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert log_dir() == tmp_path / "state" / "ferry" / "log"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert log_dir() == tmp_path / "home" / ".local" / "state" / "ferry" / "log"


def test_a_run_logs_its_steps_and_each_tables_counts(demo: Path, ferry_log_dir: str) -> None:
    log = (Path(ferry_log_dir) / "ferry.log").read_text(encoding="utf-8")
    assert f"ferry.plan: plan loaded: {demo / 'ferry.toml'} (demo-captions), 6 table(s)" in log
    assert "ferry.backup.create: backup 20" in log
    assert (
        "ferry.migrate: table executions: read 36, inserted 35, updated 0, unchanged 0, "
        "conflicts 0, rejected 1, duplicates 0, skipped 0, deleted 0" in log
    )
    assert "ferry.migrate: table executions: row id='rec-1007' rejected" in log
    assert "ferry.migrate: migration finished: completed, 5 rejected row(s)" in log


def test_the_log_file_is_owner_only_and_rotates_at_5_mib_keeping_5(
    demo: Path, ferry_log_dir: str
) -> None:
    path = Path(ferry_log_dir) / "ferry.log"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (logfile.MAX_BYTES, logfile.BACKUP_COUNT) == (5 * 1024 * 1024, 5)


def test_reports_name_the_log_file(demo: Path, ferry_log_dir: str) -> None:
    report = next((demo / "ferry-reports").glob("migrate-*.json"))
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    expected = str(Path(ferry_log_dir) / "ferry.log")
    assert json.loads(report.read_text(encoding="utf-8"))["log_file"] == expected
    assert f"<dt>Log file</dt><dd><code>{expected}</code></dd>" in page


def test_an_error_is_logged_with_its_traceback_at_debug(tmp_path: Path, ferry_log_dir: str) -> None:
    (tmp_path / "ferry.toml").write_text(
        'name = "x"\n[target]\nurl = "sqlite:///t.db"\n[[sources]]\n'
        'name = "a"\nkind = "json"\npath = "missing.json"\n[[tables]]\nname = "a"\nsource = "a"\n',
        encoding="utf-8",
    )
    done = ferry("migrate", "ferry.toml", "--no-backup", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    log = (Path(ferry_log_dir) / "ferry.log").read_text(encoding="utf-8")
    assert "ERROR   " in log and "migration stopped: SourceError:" in log
    assert "DEBUG   " in log and "Traceback (most recent call last)" in log
    assert "Traceback" not in done.stderr


def test_passwords_are_masked_in_messages_arguments_and_tracebacks(
    ferry_log_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRY_PASSWORD", "Resolved-s3cret")
    assert resolve_password(make_url("postgresql://app@db/app")) == "Resolved-s3cret"
    setup_logging()
    log = logging.getLogger("ferry.test")
    log.info("url postgresql://app:Url-s3cret@db:5432/app")
    log.info("query %s", "postgresql://app@db/app?sslmode=require&password=Query-s3cret")
    log.info("conninfo host=db password=Conninfo-s3cret user=app")
    try:
        raise RuntimeError("connect failed with Resolved-s3cret")
    except RuntimeError:
        log.debug("failed", exc_info=True)
    for handler in logging.getLogger("ferry").handlers:
        handler.flush()
    text = (Path(ferry_log_dir) / "ferry.log").read_text(encoding="utf-8")
    assert "s3cret" not in text
    assert "url postgresql://app:***@db:5432/app" in text
    assert "sslmode=require&password=***" in text
    assert "conninfo host=db password=*** user=app" in text
    assert "RuntimeError: connect failed with ***" in text
