"""Connect: the target (SQLite file or PostgreSQL server), tested with the preflight check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL, make_url

from ferry import Cancelled, FerryError
from ferry.check import CheckReport, check_plan
from ferry.plan import TargetSpec
from ferry.secrets import (
    DEFAULT_PASSWORD_ENV,
    keyring_status,
    password_spellings,
    refuse_password,
    store_password,
)

from ..models import RowsModel
from ..runner import until_cancelled
from .base import FerryPage, table_view, wrapped_label

SSL_MODES = ["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def _where(url: str) -> tuple[object, ...]:
    """What a target URL points at (a driver name or a default port spelled out or not)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    port = parsed.port or (5432 if backend == "postgresql" else None)
    return (backend, parsed.host, port, parsed.database, parsed.username)


def plan_relative(path: str, base_dir: Path) -> str | None:
    """``path`` as a plan stores it: relative to the plan's folder when it lies inside it (the
    plan then moves with its folder), else as given; None for none."""
    text = path.strip()
    if not text:
        return None
    try:
        return Path(text).relative_to(base_dir).as_posix()
    except ValueError:
        return text


class ConnectPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Connect")
        self.setSubTitle("Where the data goes. “Test connection” opens it and checks the plan.")
        self.sqlite_radio = QRadioButton("&SQLite file (embedded, no server)")
        self.pg_radio = QRadioButton("&PostgreSQL server")
        group = QButtonGroup(self)
        group.addButton(self.sqlite_radio)
        group.addButton(self.pg_radio)
        self.sqlite_path = QLineEdit()
        self.sqlite_browse = QPushButton("B&rowse…")
        sqlite_row = QHBoxLayout()
        sqlite_row.addWidget(self.sqlite_path, 1)
        sqlite_row.addWidget(self.sqlite_browse)
        self.sqlite_box = QWidget()
        sqlite_form = QFormLayout(self.sqlite_box)
        file_label = QLabel("Database &file:")
        file_label.setBuddy(self.sqlite_path)
        sqlite_form.addRow(file_label, sqlite_row)

        self.host = QLineEdit("localhost")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit()
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.sslmode = QComboBox()
        self.sslmode.addItems(SSL_MODES)
        self.sslrootcert = QLineEdit()
        self.sslrootcert.setPlaceholderText("the server's CA certificate (for verify-ca/full)")
        self.sslrootcert_browse = QPushButton("Choos&e…")
        cert_row = QHBoxLayout()
        cert_row.addWidget(self.sslrootcert, 1)
        cert_row.addWidget(self.sslrootcert_browse)
        self.keyring_note = wrapped_label()
        self.pg_box = QWidget()
        pg_form = QFormLayout(self.pg_box)
        pg_form.addRow("&Host:", self.host)
        pg_form.addRow("P&ort:", self.port)
        pg_form.addRow("&Database:", self.database)
        pg_form.addRow("&User:", self.user)
        pg_form.addRow("Pass&word:", self.password)
        pg_form.addRow("SSL &mode:", self.sslmode)
        cert_label = QLabel("CA f&ile:")
        cert_label.setBuddy(self.sslrootcert)
        pg_form.addRow(cert_label, cert_row)
        pg_form.addRow(self.keyring_note)

        self.test_button = QPushButton("&Test connection")
        self.cancel_button.setText("&Cancel test")
        self.server = wrapped_label()
        self.items = RowsModel(["check", "ok", "detail", "hint"])
        self.items_view = table_view(self.items)
        self.items.colour = lambda row, col: (
            ("pass" if self.items.rows[row][1] == "yes" else "fail") if col == 1 else None
        )

        self.target_box = target_box = QGroupBox("Target")
        target_layout = QVBoxLayout(target_box)
        target_layout.addWidget(self.sqlite_radio)
        target_layout.addWidget(self.sqlite_box)
        target_layout.addWidget(self.pg_radio)
        target_layout.addWidget(self.pg_box)
        layout = QVBoxLayout(self)
        layout.addWidget(target_box)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.server, 1)
        layout.addLayout(test_row)
        layout.addWidget(self.items_view, 1)

        self.sqlite_radio.toggled.connect(self._kind_changed)
        self.sqlite_browse.clicked.connect(self._browse)
        self.sslrootcert_browse.clicked.connect(self._browse_ca)
        self.test_button.clicked.connect(self.test_connection)
        for edit in (self.sqlite_path, self.host, self.database, self.user, self.sslrootcert):
            edit.textChanged.connect(self._changed)
        self.port.valueChanged.connect(self._changed)
        self.sslmode.currentIndexChanged.connect(self._changed)
        self.report: CheckReport | None = None
        self.set_tab_order(
            self.sqlite_radio,
            self.sqlite_path,
            self.sqlite_browse,
            self.pg_radio,
            self.host,
            self.port,
            self.database,
            self.user,
            self.password,
            self.sslmode,
            self.sslrootcert,
            self.sslrootcert_browse,
            self.test_button,
            self.cancel_button,
            self.items_view,
        )

    def initializePage(self) -> None:
        plan = self.ferry().plan
        assert plan is not None
        target = plan.target
        if target.is_sqlite:
            self.sqlite_radio.setChecked(True)
            self.sqlite_path.setText(make_url(target.url).database or "ferry.db")
        else:
            self.pg_radio.setChecked(True)
            url = make_url(target.url)
            query_host = url.query.get("host")
            socket_dir = query_host if isinstance(query_host, str) else None
            self.host.setText(url.host or socket_dir or "localhost")
            self.port.setValue(url.port or 5432)
            self.database.setText(url.database or "")
            self.user.setText(url.username or "")
            self.sslmode.setCurrentText(target.sslmode or "")
            self.sslrootcert.setText(target.sslrootcert or "")
        self._kind_changed()
        problem = keyring_status()
        self.keyring_note.setText(
            "The password is kept in the OS keyring, never in the plan."
            if problem is None
            else f"No keyring: {problem}. A password typed here is used for this session only "
            f"(as {target.password_env or DEFAULT_PASSWORD_ENV}); for later runs set that "
            "variable or use ~/.pgpass. It is never written to the plan."
        )
        if self.report is None and not self.runner.busy:
            self.test_connection()

    def isComplete(self) -> bool:
        return self.report is not None and self.report.ok and not self.runner.busy

    def unsaved(self) -> str:
        """Connection settings typed here that are not the plan's target yet."""
        plan = self.ferry().plan
        if plan is None or _where(self.target_url()) == _where(plan.target.url):
            return ""
        return "the connection settings typed on this page (not in the plan yet)"

    def _kind_changed(self) -> None:
        sqlite = self.sqlite_radio.isChecked()
        self.sqlite_box.setVisible(sqlite)
        self.pg_box.setVisible(not sqlite)
        self._changed()

    def _changed(self) -> None:
        if self.report is not None:  # the result shown is for other settings now
            self.server.setText("Settings changed: test the connection again.")
            self.items.set_rows([])
        self.report = None
        self.completeChanged.emit()

    def _browse(self) -> None:
        plan = self.ferry().plan
        start = str(plan.base_dir) if plan else ""
        path, _ = QFileDialog.getSaveFileName(
            self, "SQLite database", start, "SQLite (*.db *.sqlite);;All files (*)"
        )
        if path:
            self.sqlite_path.setText(path)

    def _browse_ca(self) -> None:
        plan = self.ferry().plan
        current = self.sslrootcert.text().strip()
        start = str(plan.base_dir / current) if plan and current else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "The server's CA certificate", start, "Certificates (*.crt *.pem);;All files (*)"
        )
        if path:
            self.sslrootcert.setText(path)

    def target_url(self) -> str:
        """The URL the fields describe (never with a password)."""
        if self.sqlite_radio.isChecked():
            path = self.sqlite_path.text().strip() or "ferry.db"
            return f"sqlite:///{path}"
        host = self.host.text().strip()
        socket_dir = host.startswith("/")  # a Unix socket folder goes in the query
        url = URL.create(
            "postgresql",
            username=self.user.text().strip() or None,
            host=None if socket_dir else host or None,
            port=self.port.value(),
            database=self.database.text().strip() or None,
            query={"host": host} if socket_dir else {},
        )
        return url.render_as_string(hide_password=False)

    def apply_target(self) -> bool:
        """Put the fields into the plan (and its file, when they changed); never while a job
        reads the plan."""
        wizard = self.ferry()
        if self.runner.busy:
            return False
        plan = wizard.plan
        assert plan is not None
        url = self.target_url()
        if self._password_in_fields(url):
            return False
        sqlite = self.sqlite_radio.isChecked()
        sslmode = None if sqlite else (self.sslmode.currentText() or None)
        sslrootcert = None if sqlite else plan_relative(self.sslrootcert.text(), plan.base_dir)
        old = plan.target
        try:
            spec = TargetSpec.model_validate(
                {
                    "url": url,
                    "schema": old.schema_sql,
                    "password_env": old.password_env,
                    "sslmode": sslmode,
                    "sslrootcert": sslrootcert,
                    "connect_timeout": old.connect_timeout,
                }
            )
        except ValidationError as exc:
            problems = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            self.runner.show_error(FerryError(f"the target is not valid: {problems}"))
            return False
        password = self.password.text()
        if password and not spec.is_sqlite:
            self._keep_password(spec, password)
        if spec.model_dump() != old.model_dump():
            plan.target = spec
            wizard.save_plan()
            if wizard.backup is not None:
                # The backup covers the old target: the migration takes a new one first.
                wizard.backup = None
                self.keyring_note.setText(
                    "The target changed: the migration will back it up again before writing."
                )
        return True

    def _password_in_fields(self, url: str) -> bool:
        """Refuse (with the error shown, never the password) a password typed or pasted into a
        field other than Password: a whole URL in Host, ``?password=`` after the database…"""
        sqlite = self.sqlite_radio.isChecked()
        fields = (self.sqlite_path,) if sqlite else (self.host, self.database, self.user)
        holding = [t for t in (url, *(e.text() for e in fields)) if password_spellings(t)]
        if not holding:
            return False
        try:
            refuse_password(holding[0])
        except ValueError as exc:
            self.runner.show_error(
                FerryError(
                    f"the target is not valid: {exc}",
                    hint="Type the password into the Password field: it goes to the OS keyring "
                    "(or this session's FERRY_PASSWORD), never into the plan.",
                )
            )
        self.server.setText("Not saved: a field holds a password (use the Password field).")
        return True

    def _keep_password(self, spec: TargetSpec, password: str) -> None:
        if keyring_status() is None:
            try:
                store_password(make_url(spec.url), password)
                self.keyring_note.setText(
                    "The password is stored in the OS keyring (never in the plan); later runs "
                    "find it there."
                )
                return
            except Exception as exc:  # a locked keyring: fall back to the session
                self.keyring_note.setText(f"The keyring refused the password ({exc}).")
        os.environ[spec.password_env or DEFAULT_PASSWORD_ENV] = password

    def test_connection(self) -> bool:
        """Run the preflight check against the target the fields describe."""
        if self.runner.busy or not self.apply_target():
            return False
        plan = self.ferry().plan
        assert plan is not None
        self.server.setText("Connecting …")
        self.items.set_rows([])
        self.target_box.setEnabled(False)  # the test is of these settings: no edits meanwhile

        async def job(emit: Any, cancel: Any) -> CheckReport:
            # The check writes nothing (its transaction is rolled back): it may simply be dropped.
            stopped = "Test cancelled; nothing was changed."
            return await until_cancelled(check_plan(plan), cancel, stopped)

        return self.run_job("check", job, self._checked, self._failed)

    def cancelling(self) -> None:
        self.server.setText("Cancelling the test …")

    def _checked(self, report: Any) -> None:
        assert isinstance(report, CheckReport)
        self.target_box.setEnabled(True)
        self.report = report
        self.ferry().check_report = report
        existing = ", ".join(report.existing_tables) or "none"
        to_create = ", ".join(report.tables_to_create) or "none"
        verdict = "OK" if report.ok else "problems found (see below)"
        self.server.setText(
            f"<b>{report.server or 'not connected'}</b> — {verdict}<br>"
            f"Existing tables: {existing}<br>To create: {to_create}"
        )
        self.items.set_rows(
            [[i.subject, "yes" if i.ok else "NO", i.detail, i.hint] for i in report.items]
        )

    def _failed(self, exc: BaseException) -> None:
        self.target_box.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.server.setText(f"<b>{exc.message}</b>")
        else:
            self.server.setText(f"Not connected: {exc}")
