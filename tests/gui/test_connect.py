"""The Connect page: TLS settings and where the password goes (keyring, else the session)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from guikit import write_big_plan
from sqlalchemy.engine import make_url

from ferry import load_plan
from ferry.safety.passwords import KEYRING_SERVICE, keyring_account
from ferry.targets.postgres import connect_args, pg_url
from ferry_gui.pages.connect import ConnectPage
from ferry_gui.wizard import FerryWizard

WAIT = 120_000


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch HOME and XDG_DATA_HOME: no keyring file or ~/.pgpass of the user is touched."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("FERRY_PASSWORD", "")  # so the page's own setting is undone too
    monkeypatch.delenv("FERRY_PASSWORD")
    return home


def use_backend(monkeypatch: pytest.MonkeyPatch, backend: type[Any]) -> Any:
    """Use the keyring ``backend`` here, and in child processes through PYTHON_KEYRING_BACKEND
    (the way a user chooses one); the backend used before."""
    previous = keyring.get_keyring()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{backend.__module__}.{backend.__name__}")
    keyring.set_keyring(backend())
    return previous


@pytest.fixture
def file_keyring(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A real, file-backed keyring (keyrings.alt) inside the scratch HOME."""
    from keyrings.alt.file import PlaintextKeyring

    previous = use_backend(monkeypatch, PlaintextKeyring)
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """keyring's own "no backend" backend, as on a headless Linux machine."""
    from keyring.backends import fail

    previous = use_backend(monkeypatch, fail.Keyring)
    yield
    keyring.set_keyring(previous)


def fill_postgres(page: ConnectPage, url: str, password: str) -> None:
    parsed = make_url(url)
    page.pg_radio.setChecked(True)
    query_host = parsed.query.get("host")
    page.host.setText(parsed.host or (query_host if isinstance(query_host, str) else ""))
    page.port.setValue(parsed.port or 5432)
    page.database.setText(parsed.database or "")
    page.user.setText(parsed.username or "")
    page.password.setText(password)


def open_connect_page(qtbot: Any, wizard: FerryWizard, folder: Path) -> ConnectPage:
    """The Connect page of a small JSON plan in ``folder`` (first tested on its SQLite file)."""
    assert wizard.start_page.open_plan(write_big_plan(folder, 20))
    page = wizard.connect_page
    page.initializePage()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    return page


def test_the_ca_file_is_saved_to_the_plan_and_shown_again(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    ca = tmp_path / "app" / "certs" / "ca.crt"  # inside the plan's folder: stored relative
    ca.parent.mkdir()
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    fill_postgres(page, "postgresql://app@db.example:5432/state", "")
    page.sslmode.setCurrentText("verify-full")
    assert page.sslrootcert.isVisibleTo(page) and page.sslrootcert_browse.isVisibleTo(page)
    page.sslrootcert.setText(str(ca.resolve()))
    assert page.apply_target()
    plan = load_plan(tmp_path / "app" / "ferry.toml")
    assert (plan.target.sslmode, plan.target.sslrootcert) == ("verify-full", "certs/ca.crt")
    target = plan.target
    args = connect_args(target, pg_url(target.url), target.password_env, plan.base_dir)
    assert (args["sslmode"], args["sslrootcert"]) == ("verify-full", str(ca.resolve()))
    page.sslrootcert.clear()
    wizard.set_plan(plan, tmp_path / "app" / "ferry.toml")
    page.initializePage()
    assert page.sslrootcert.text() == "certs/ca.crt"
    assert page.sslmode.currentText() == "verify-full"


def test_a_ca_file_outside_the_plan_folder_is_kept_as_given(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    fill_postgres(page, "postgresql://app@db.example:5432/state", "")
    page.sslmode.setCurrentText("verify-ca")
    page.sslrootcert.setText(str(tmp_path / "elsewhere" / "ca.pem"))
    assert page.apply_target()
    saved = load_plan(tmp_path / "app" / "ferry.toml").target
    assert saved.sslrootcert == str(tmp_path / "elsewhere" / "ca.pem")


@pytest.mark.pg
def test_the_password_goes_to_the_keyring_and_the_next_run_finds_it(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str, file_keyring: None, home: Path
) -> None:
    secret = "kr-s3cret-7781"
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    assert "kept in the OS keyring" in page.keyring_note.text()
    fill_postgres(page, pg_url, secret)
    assert page.test_connection()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert page.report is not None, page.server.text()
    assert page.report.server.startswith("PostgreSQL"), page.server.text()
    assert page.report.ok, [i for i in page.report.items if not i.ok]
    assert "stored in the OS keyring" in page.keyring_note.text()
    plan_file = tmp_path / "app" / "ferry.toml"
    assert secret not in plan_file.read_text(encoding="utf-8")
    assert "FERRY_PASSWORD" not in os.environ
    keyring_file = home / ".local" / "share" / "python_keyring" / "keyring_pass.cfg"
    stored = keyring_file.read_text(encoding="utf-8")  # the backend's own file (base64)
    assert stored.startswith("[ferry]") and base64.b64encode(secret.encode()).decode() in stored
    # The next run: a new process, the same keyring, the plan as saved.
    account = keyring_account(make_url(load_plan(plan_file).target.url))
    assert keyring.get_password(KEYRING_SERVICE, account) == secret
    script = (
        "import asyncio, json, sys\n"
        "from ferry import load_plan\n"
        "from ferry.check import check_plan\n"
        "from ferry.targets.postgres import connect_args, pg_url\n"
        "plan = load_plan(sys.argv[1])\n"
        "args = connect_args(plan.target, pg_url(plan.target.url), plan.target.password_env)\n"
        "report = asyncio.run(check_plan(plan))\n"
        "print(json.dumps({'found': args.get('password') == sys.argv[2],"
        " 'server': report.server, 'ok': report.ok}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(plan_file), secret],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["found"] is True
    assert outcome["server"].startswith("PostgreSQL") and outcome["ok"] is True


def test_without_a_keyring_the_page_says_so_and_keeps_the_password_for_the_session(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, no_keyring: None, home: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    note = page.keyring_note.text()
    assert note.startswith("No keyring: no OS keyring is available on this machine")
    assert "FERRY_PASSWORD" in note and "~/.pgpass" in note
    fill_postgres(page, "postgresql://ferry@db.example:5433/app", "s3cret-pw")
    assert page.apply_target()
    plan_text = (tmp_path / "app" / "ferry.toml").read_text(encoding="utf-8")
    assert 'url = "postgresql://ferry@db.example:5433/app"' in plan_text
    assert "s3cret-pw" not in plan_text
    assert os.environ["FERRY_PASSWORD"] == "s3cret-pw"
    assert not (home / ".local" / "share" / "python_keyring").exists()


def test_changing_a_setting_after_a_test_asks_for_a_new_test(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    assert page.isComplete() and page.items.rowCount() > 0
    page.sqlite_path.setText("other.db")
    assert not page.isComplete()
    assert page.server.text() == "Settings changed: test the connection again."
    assert page.items.rowCount() == 0
    assert page.test_connection()
    assert not page.target_box.isEnabled()  # no edits while the test runs
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert page.isComplete() and page.target_box.isEnabled()


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("host", "postgresql://app:pw-88123@db.example:5432/state"),  # a whole URL pasted
        ("host", "db.example?password=pw-88123"),
        ("database", "state?PassWord=pw-88123"),
        ("database", "state?options=-c%20password%3Dpw-88123"),
    ],
)
def test_a_password_pasted_into_another_field_is_refused_and_not_saved(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, field: str, text: str
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    plan_file = tmp_path / "app" / "ferry.toml"
    before = plan_file.read_text(encoding="utf-8")
    fill_postgres(page, "postgresql://app@db.example:5432/state", "")
    getattr(page, field).setText(text)

    assert not page.test_connection()

    assert plan_file.read_text(encoding="utf-8") == before
    dialog = wizard.runner.last_dialog
    assert dialog is not None
    assert dialog.text().startswith(
        "the target is not valid: the URL holds a password; plans never store secrets."
    )
    assert "Password field" in dialog.informativeText()
    shown = dialog.text() + dialog.informativeText() + page.server.text()
    assert "pw-88123" not in shown
    assert page.server.text() == "Not saved: a field holds a password (use the Password field)."
