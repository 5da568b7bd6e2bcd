"""The Connect page reuses connections: profiles, a pasted URL, the server's databases and
schemas, "Create database…", the SSL default shown, wrapped hints, and a target written into
the plan only after a successful test or an explicit "Save anyway"."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import make_url
from test_connect import fill_postgres, open_connect_page

from ferry import load_plan
from ferry.profiles import load_profiles, make_profile, save_profile
from ferry_gui.wizard import FerryWizard

WAIT = 120_000


def pg_exec(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture
def unused_tcp_port() -> int:
    """A local port nothing listens on (a server that is not there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def plan_text(folder: Path) -> str:
    return (folder / "ferry.toml").read_text(encoding="utf-8")


def run_test(qtbot: Any, wizard: FerryWizard, page: Any) -> None:
    assert page.test_connection()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)


# -- a target goes into the plan only after a successful test --------------------------------


def test_a_target_that_fails_its_test_is_not_written_into_the_plan(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, unused_tcp_port: int
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    before = plan_text(tmp_path / "app")
    fill_postgres(page, f"postgresql://app@127.0.0.1:{unused_tcp_port}/nowhere", "")
    run_test(qtbot, wizard, page)
    assert plan_text(tmp_path / "app") == before
    assert not page.isComplete()
    assert page.save_anyway_button.isVisibleTo(page)
    assert "the plan keeps its target" in page.server.text()
    assert page.unsaved()  # leaving now would lose the settings typed


def test_save_anyway_writes_the_untested_target(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, unused_tcp_port: int
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    url = f"postgresql://app@127.0.0.1:{unused_tcp_port}/nowhere"
    fill_postgres(page, url, "")
    run_test(qtbot, wizard, page)
    qtbot.mouseClick(page.save_anyway_button, Qt.MouseButton.LeftButton)
    assert load_plan(tmp_path / "app" / "ferry.toml").target.url == url
    assert not page.save_anyway_button.isVisibleTo(page)
    assert not page.isComplete()  # saved, but still not tested: Next stays off


@pytest.mark.pg
def test_a_successful_test_writes_the_target_and_its_schema(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    fill_postgres(page, pg_url, "")
    page.pg_schema.setEditText("sales")
    run_test(qtbot, wizard, page)
    assert page.isComplete(), [i for i in page.report.items if not i.ok]
    target = load_plan(tmp_path / "app" / "ferry.toml").target
    assert make_url(target.url).database == make_url(pg_url).database
    assert target.pg_schema == "sales"
    assert any("sales" in i.detail and "creates it" in i.detail for i in page.report.items)


# -- the server's databases and schemas --------------------------------------------------------


@pytest.mark.pg
def test_a_test_lists_the_servers_databases_and_the_schemas(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    pg_exec(pg_url, "CREATE SCHEMA sales", "CREATE SCHEMA ferry")
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    fill_postgres(page, pg_url, "")
    run_test(qtbot, wizard, page)
    databases = [page.database_list.itemText(i) for i in range(page.database_list.count())]
    schemas = [page.pg_schema.itemText(i) for i in range(page.pg_schema.count())]
    assert make_url(pg_url).database in databases and "template0" not in databases
    assert schemas == ["public", "sales"]
    assert page.isComplete()  # filling the lists is no change of settings


@pytest.fixture
def new_db(pg_server_url: str) -> Iterator[str]:
    name = f"connect21_gui_{uuid.uuid4().hex[:6]}"
    yield name
    pg_exec(pg_server_url, f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.pg
def test_create_database_makes_it_and_picks_it(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str, new_db: str
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    fill_postgres(page, pg_url, "")
    assert page.create_database(new_db)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert page.database.text() == new_db, page.server.text()
    assert new_db in [page.database_list.itemText(i) for i in range(page.database_list.count())]
    run_test(qtbot, wizard, page)
    assert page.isComplete(), page.server.text()
    assert make_url(load_plan(tmp_path / "app" / "ferry.toml").target.url).database == new_db


# -- profiles -------------------------------------------------------------------------------------


def test_picking_a_profile_fills_the_fields(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    save_profile(
        make_profile("staging", "postgresql://app@db.example:6543/stage", "sales", "require")
    )
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    names = [page.profile.itemText(i) for i in range(page.profile.count())]
    assert "staging" in names
    page.profile.setCurrentIndex(names.index("staging"))
    page.profile.activated.emit(names.index("staging"))
    assert page.pg_radio.isChecked()
    assert (page.host.text(), page.port.value(), page.database.text(), page.user.text()) == (
        "db.example",
        6543,
        "stage",
        "app",
    )
    assert (page.pg_schema.currentText(), page.sslmode.currentText()) == ("sales", "require")


def test_save_as_profile_keeps_the_fields_without_the_password(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    fill_postgres(page, "postgresql://app@db.example:5432/prod", "pw-s3cret-41")
    page.pg_schema.setEditText("sales")
    assert page.save_as_profile("production")
    saved = load_profiles()["production"]
    assert (saved.url, saved.pg_schema) == ("postgresql://app@db.example:5432/prod", "sales")
    assert "production" in [page.profile.itemText(i) for i in range(page.profile.count())]
    from ferry.profiles import profiles_path

    assert "pw-s3cret-41" not in profiles_path().read_text(encoding="utf-8")


# -- a pasted URL ---------------------------------------------------------------------------------


def test_a_pasted_url_fills_the_fields(qtbot: Any, wizard: FerryWizard, tmp_path: Path) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    page.pg_radio.setChecked(True)
    assert page.paste_url("postgresql://ops@10.1.2.3:5433/inventory?sslmode=verify-full")
    assert (page.host.text(), page.port.value(), page.database.text(), page.user.text()) == (
        "10.1.2.3",
        5433,
        "inventory",
        "ops",
    )
    assert page.sslmode.currentText() == "verify-full"


def test_a_pasted_url_with_a_password_is_refused_with_the_security_message(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    page.pg_radio.setChecked(True)
    host_before = page.host.text()
    page.url_paste.setText("postgresql://ops:pw-90210@10.1.2.3/inventory")
    assert not page.paste_url(page.url_paste.text())
    dialog = wizard.runner.last_dialog
    assert dialog is not None and "plans never store secrets" in dialog.text()
    shown = dialog.text() + dialog.informativeText() + page.server.text()
    assert "pw-90210" not in shown
    assert page.url_paste.text() == "" and page.host.text() == host_before


# -- what the page shows ----------------------------------------------------------------------


def test_the_ssl_mode_shows_libpqs_default(qtbot: Any, wizard: FerryWizard, tmp_path: Path) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    page.pg_radio.setChecked(True)
    assert page.sslmode.currentText() == "prefer (libpq's default)"
    assert page.chosen_sslmode() is None


def test_a_long_hint_wraps_in_its_row(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, unused_tcp_port: int
) -> None:
    wizard.resize(wizard.minimumSize())
    assert wizard.start_page.open_demo(tmp_path / "demo")
    wizard.next()
    wizard.backup_page.start_backup()
    qtbot.waitUntil(wizard.backup_page.isComplete, timeout=WAIT)
    wizard.next()
    page = wizard.connect_page
    qtbot.waitUntil(page.isComplete, timeout=WAIT)
    fill_postgres(page, f"postgresql://app@127.0.0.1:{unused_tcp_port}/nowhere", "")
    run_test(qtbot, wizard, page)
    QApplication.processEvents()
    view, model = page.items_view, page.items
    row = max(range(model.rowCount()), key=lambda r: len(model.rows[r][3]))
    hint = model.rows[row][3]
    width = view.columnWidth(3)
    assert view.fontMetrics().horizontalAdvance(hint) > width  # on one line it would be cut
    needed = view.fontMetrics().boundingRect(
        QRect(0, 0, max(width - 8, 1), 100_000), Qt.TextFlag.TextWordWrap, hint
    )
    # the whole hint column is on screen, and its row is as tall as the wrapped hint
    assert view.viewport().width() >= view.columnViewportPosition(3) + width
    assert view.rowHeight(row) >= needed.height(), (hint, width)


def test_a_pasted_urls_settings_the_fields_do_not_carry_are_named(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    assert page.paste_url("postgresql://ops@db/inventory?application_name=etl&sslmode=require")
    assert "not carried" in page.server.text() and "application_name" in page.server.text()
    assert "sslmode" not in page.server.text()


def test_a_broken_profiles_file_is_named_on_the_page(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    from ferry.profiles import profiles_path

    profiles_path().write_text("[connections.x\n", encoding="utf-8")
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    assert page.profile.count() == 1  # only "(none: the fields below)"
    assert str(profiles_path()) in page.profile.toolTip()


@pytest.mark.pg
def test_refresh_lists_the_databases_without_a_test(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    page = open_connect_page(qtbot, wizard, tmp_path / "app")
    before = plan_text(tmp_path / "app")
    fill_postgres(page, pg_url, "")
    qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    databases = [page.database_list.itemText(i) for i in range(page.database_list.count())]
    assert make_url(pg_url).database in databases, page.server.text()
    assert plan_text(tmp_path / "app") == before  # listing writes nothing into the plan
