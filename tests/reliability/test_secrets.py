"""A known password, then every artefact of a run searched for it.

A role with a password is made on the server; the plan names the variable holding it
(``password_env``) and Ferry runs migrate (with its backup), verify, preview, backup and a
failing connection from real processes. The password must not appear in the plan, the
reports, the journal tables, the backup files, anything printed, an exception's text or any
process's command line, or Ferry's log file (``FERRY_LOG_DIR``, kept in the searched folder
here). (The server trusts local connections, so the password is accepted
without being required; what matters here is where Ferry puts it.) Backups and reports must
be owner-only.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import stat
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import FerryProcess, ferry_run, pg_exec, pg_query

from ferry.errors import FerryError
from ferry.load.journal import journal_tables
from ferry.migrate import migrate
from ferry.plan import load_plan

#: Ferry's journal in this test's target (ferry.load.journal)
RUNS, REJECTS = journal_tables("postgresql")

pytestmark = pytest.mark.slow

PLAN = """name = "secret"

[target]
url = "postgresql://{role}@127.0.0.1:{port}/{database}"
password_env = "APP_DB_PASSWORD"
connect_timeout = 3

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
columns.size = {{ from = "size", cast = "integer" }}
"""


@pytest.fixture
def secret_app(tmp_path: Path, pg_url: str, pg_server_url: str) -> Iterator[tuple[Path, str, str]]:
    """(plan, password, database URL as admin) with a role owning the test database."""
    port = pg_query(pg_server_url, "SELECT inet_server_port()")[0][0]
    if port is None:
        pytest.skip("the grep test needs the server on TCP (127.0.0.1), not a Unix socket")
    password = "Pw-" + secrets.token_hex(12)
    role = "ferry_" + secrets.token_hex(4)
    database = pg_url.rsplit("/", 1)[1]
    plan = tmp_path / "ferry.toml"
    plan.write_text(PLAN.format(role=role, port=port, database=database), encoding="utf-8")
    (tmp_path / "jobs.json").write_text(
        # one row a cast refuses, so ferry_rejects holds something too
        '[{"id": 1, "size": 1}, {"id": 2, "size": 2}, {"id": 3, "size": "big"}]',
        encoding="utf-8",
    )
    pg_exec(pg_server_url, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    try:
        pg_exec(pg_server_url, f"ALTER DATABASE {database} OWNER TO {role}")
        pg_exec(pg_url, f"ALTER SCHEMA public OWNER TO {role}")
        yield plan, password, pg_url
    finally:
        pg_exec(pg_server_url, f"ALTER DATABASE {database} OWNER TO postgres")
        pg_exec(pg_url, "ALTER SCHEMA public OWNER TO pg_database_owner")
        pg_exec(pg_url, f"REASSIGN OWNED BY {role} TO postgres", f"DROP OWNED BY {role}")
        pg_exec(pg_server_url, f"DROP ROLE {role}")


class CmdlineWatch:
    """Reads every process's command line (/proc/*/cmdline) while a run goes on."""

    def __init__(self, needle: str) -> None:
        self.needle = needle.encode()
        self.found: list[str] = []
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                self.seen += 1
                if self.needle in cmdline:
                    self.found.append(cmdline.decode(errors="replace"))
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def files_holding(folder: Path, needle: str) -> list[str]:
    return [
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and needle.encode() in path.read_bytes()
    ]


def test_the_password_appears_in_no_artefact_of_a_run(
    secret_app: tuple[Path, str, str], tmp_path: Path
) -> None:
    plan, password, url = secret_app
    log_dir = tmp_path / "ferry-log"
    env = {**os.environ, "APP_DB_PASSWORD": password, "FERRY_LOG_DIR": str(log_dir)}
    outputs: list[str] = []
    watch = CmdlineWatch(password)
    try:
        proc = FerryProcess(["migrate", str(plan)], cwd=tmp_path, env=env)  # backs up first
        assert proc.wait() == 0, proc.stderr
        outputs += [proc.stdout, proc.stderr]
        for args in (
            ["verify", plan],
            ["preview", plan, "--diff", "*"],
            ["backup", plan],
            ["migrate", plan, "--json", "--no-backup"],
            ["check", plan, "--json"],
            ["--debug", "verify", plan, "--json"],
        ):
            done = ferry_run(*args, cwd=tmp_path, env=env)
            assert done.returncode == 0, (args, done.stdout, done.stderr)
            outputs += [done.stdout, done.stderr]
    finally:
        watch.stop()

    assert watch.seen > 0
    assert watch.found == []
    assert [o for o in outputs if password in o] == []
    assert files_holding(tmp_path, password) == []
    journal = pg_query(url, f"SELECT * FROM {RUNS}") + pg_query(url, f"SELECT * FROM {REJECTS}")
    assert pg_query(url, f"SELECT count(*) FROM {REJECTS}")[0][0] >= 1
    assert password not in repr(journal)
    # Everything was really written where it was searched.
    assert list((tmp_path / "ferry-backups").iterdir())
    assert list((tmp_path / "ferry-reports").glob("*.html"))
    log = (log_dir / "ferry.log").read_text(encoding="utf-8")
    assert "ferry.migrate: migration finished: completed" in log


def test_a_failing_connection_does_not_show_the_password(
    secret_app: tuple[Path, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, password, _ = secret_app
    text = plan.read_text(encoding="utf-8").replace("@127.0.0.1:", "@127.0.0.1:1")  # no server
    plan.write_text(text, encoding="utf-8")
    monkeypatch.setenv("APP_DB_PASSWORD", password)
    monkeypatch.setenv("FERRY_LOG_DIR", str(tmp_path / "ferry-log"))

    with pytest.raises(FerryError) as caught:
        asyncio.run(migrate(load_plan(plan), write_reports=True))
    done = ferry_run("--debug", "migrate", plan, "--no-backup", cwd=tmp_path)
    plain = ferry_run("backup", plan, cwd=tmp_path)

    error = caught.value
    shown = "".join(traceback.format_exception(error)) + error.hint + error.details
    chained = error.__context__
    while chained is not None:  # the driver's own exception, kept as context
        shown += "".join(traceback.format_exception(chained))
        chained = chained.__context__
    assert "connect" in error.message
    assert password not in shown
    assert done.returncode != 0 and plain.returncode != 0
    assert password not in done.stdout + done.stderr + plain.stdout + plain.stderr
    assert files_holding(tmp_path, password) == []
    # The failure and its traceback (with the driver's own exception) are in the log.
    log = (tmp_path / "ferry-log" / "ferry.log").read_text(encoding="utf-8")
    assert "ERROR   " in log and "Traceback (most recent call last)" in log


@pytest.mark.parametrize(
    "spelling",
    [
        "postgresql://app:{pw}@127.0.0.1:5432/app",
        "postgresql://app@127.0.0.1:5432/app?password={pw}",
        "postgresql://app@127.0.0.1:5432/app?sslmode=prefer&PASSWORD={pw}",
        "postgresql://app@127.0.0.1:5432/app?%70assword={pw}",
        "postgresql://app@127.0.0.1:5432/app?options=-c%20password%3D{pw}",
    ],
)
def test_a_password_in_the_url_is_refused_without_repeating_it(
    tmp_path: Path, spelling: str
) -> None:
    password = "Pw-" + secrets.token_hex(12)
    url = spelling.format(pw=password)
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        PLAN.replace('password_env = "APP_DB_PASSWORD"\n', "")
        .format(role="x", port=1, database="y")
        .replace("postgresql://x@127.0.0.1:1/y", url),
        encoding="utf-8",
    )
    (tmp_path / "jobs.json").write_text("[]", encoding="utf-8")

    checked = ferry_run("check", plan, cwd=tmp_path)
    init = ferry_run("init", tmp_path, "--target", url, "-o", tmp_path / "new.toml", cwd=tmp_path)

    assert checked.returncode == 3, checked.stderr
    assert init.returncode == 2, init.stderr
    for done in (checked, init):
        assert "Traceback" not in done.stderr
        assert password not in done.stdout + done.stderr
    assert files_holding(tmp_path, password) == [str(plan)]  # only the user's own file


def test_backups_and_reports_are_owner_only(
    secret_app: tuple[Path, str, str], tmp_path: Path
) -> None:
    plan, password, _ = secret_app
    env = {**os.environ, "APP_DB_PASSWORD": password}
    old = os.umask(0o022)  # a usual, loose umask: Ferry must not rely on it
    try:
        done = ferry_run("migrate", plan, cwd=tmp_path, env=env)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr

    for top in (tmp_path / "ferry-backups", tmp_path / "ferry-reports"):
        for path in [top, *top.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            want = 0o700 if path.is_dir() else 0o600
            assert mode == want, f"{path} is {oct(mode)}"
