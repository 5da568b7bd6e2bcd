"""The OS keyring is read only when the PostgreSQL server asks for a password
(:mod:`ferry.targets.pglogin`), and then gives the password it gave before: first the keyring's,
then libpq's own ``~/.pgpass``.

The shared test server trusts everyone, so this module starts a throwaway cluster whose role
``app`` must log in with a password (``scram-sha-256``). The keyring is ``keyrings.alt``'s
plain file, chosen by ``PYTHON_KEYRING_BACKEND`` and kept in the test's folder; each run is a
fresh ``python -m ferry`` process, so no keyring state carries over between tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from faultkit import ferry_run, throwaway_cluster

pytestmark = [pytest.mark.slow, pytest.mark.pg]

RIGHT, WRONG = "right-horse-battery", "wrong-staple"

PLAN = """name = "later"

[target]
url = "postgresql://app@127.0.0.1:{port}/app"
connect_timeout = 5

[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]
"""


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """A cluster where ``app`` logs in with the password :data:`RIGHT`, ``postgres`` trusted."""
    with throwaway_cluster("ferry-login-") as cluster:
        port = cluster.start()
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE app LOGIN PASSWORD '{RIGHT}'")
            conn.execute("CREATE DATABASE app OWNER app")
            (cluster.data / "pg_hba.conf").write_text(
                "local all all trust\n"
                "host all postgres 127.0.0.1/32 trust\n"
                "host all app 127.0.0.1/32 scram-sha-256\n"
            )
            conn.execute("SELECT pg_reload_conf()")
        yield port


def setup(folder: Path, port: int, keyring: str | None, pgpass: str | None) -> dict[str, str]:
    """The plan in ``folder`` and the environment of a run: the keyring's and the password
    file's entry for ``app`` (None: no entry), no password in a variable."""
    (folder / "jobs.json").write_text('[{"id": 1, "name": "probe"}]', encoding="utf-8")
    (folder / "ferry.toml").write_text(PLAN.format(port=port), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "FERRY_PASSWORD")}
    env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    env["XDG_DATA_HOME"] = str(folder / "keyring")
    env["PGPASSFILE"] = str(folder / "pgpass")
    if pgpass is not None:
        (folder / "pgpass").write_text(f"127.0.0.1:{port}:app:app:{pgpass}\n", encoding="utf-8")
        os.chmod(folder / "pgpass", 0o600)
    if keyring is not None:
        store = (
            "import keyring, sys\n"
            "keyring.set_password('ferry', sys.argv[1], sys.argv[2])\n"
        )  # fmt: skip
        account = f"app@127.0.0.1:{port}/app"
        subprocess.run([sys.executable, "-c", store, account, keyring], env=env, check=True)
    return env


def test_the_keyrings_password_logs_in_when_the_server_asks(port: int, tmp_path: Path) -> None:
    env = setup(tmp_path, port, keyring=RIGHT, pgpass=None)

    done = ferry_run("migrate", tmp_path / "ferry.toml", "--no-backup", "-q", cwd=tmp_path, env=env)

    assert done.returncode == 0, done.stderr


def test_the_keyring_still_comes_before_the_password_file(port: int, tmp_path: Path) -> None:
    env = setup(tmp_path, port, keyring=RIGHT, pgpass=WRONG)

    done = ferry_run("migrate", tmp_path / "ferry.toml", "--no-backup", "-q", cwd=tmp_path, env=env)

    assert done.returncode == 0, done.stderr


def test_the_password_file_logs_in_without_a_keyring_entry(port: int, tmp_path: Path) -> None:
    env = setup(tmp_path, port, keyring=None, pgpass=RIGHT)

    done = ferry_run("migrate", tmp_path / "ferry.toml", "--no-backup", "-q", cwd=tmp_path, env=env)

    assert done.returncode == 0, done.stderr


def test_a_wrong_keyring_password_is_refused_with_the_hint(port: int, tmp_path: Path) -> None:
    env = setup(tmp_path, port, keyring=WRONG, pgpass=RIGHT)

    done = ferry_run("migrate", tmp_path / "ferry.toml", "--no-backup", "-q", cwd=tmp_path, env=env)

    assert done.returncode != 0
    assert "refused the password" in done.stderr


def test_a_server_that_asks_for_no_password_leaves_the_keyring_unread(
    port: int, tmp_path: Path
) -> None:
    env = setup(tmp_path, port, keyring=WRONG, pgpass=WRONG)
    plan = tmp_path / "ferry.toml"
    plan.write_text(plan.read_text().replace("app@", "postgres@"), encoding="utf-8")
    script = (
        "import asyncio, sys\n"
        "from ferry.migrate import migrate\n"
        "from ferry.plan import load_plan\n"
        "result = asyncio.run(migrate(load_plan(sys.argv[1]), write_reports=False))\n"
        "print(result.status, 'keyring' in sys.modules)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(plan)], env=env, capture_output=True, text=True
    )

    assert done.stdout.split() == ["completed", "False"], done.stderr
