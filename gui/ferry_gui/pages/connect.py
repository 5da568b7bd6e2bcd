"""Connect: the target (SQLite file or PostgreSQL server), tested with the preflight check."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL, make_url

from ferry import Cancelled, FerryError
from ferry.api import (
    DEFAULT_PASSWORD_ENV,
    CheckReport,
    create_database,
    keyring_status,
    list_databases,
    list_schemas,
    load_profiles,
    make_profile,
    password_spellings,
    refuse_password,
    save_profile,
    store_password,
)
from ferry.api import check as check_plan
from ferry.plan import TargetSpec

from ..models import RowsModel
from .base import FerryPage, table_view, wrapped_label

SSL_MODES = ["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
#: how the SSL mode list shows "not set": libpq's own default, named
SSL_DEFAULT_TEXT = "prefer (libpq's default)"
#: the query keys of a pasted URL the fields carry (the others are named, not dropped silently)
_URL_FIELDS = ("host", "sslmode", "sslrootcert")
#: the widest the check's name column gets (it wraps beyond)
MAX_COLUMN_WIDTH = 280


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


class _FittingScroll(QScrollArea):
    """A scroll area as tall as its contents want (QScrollArea's own hint is a fixed small
    size), shrinking with a scroll bar only when the window is too small for them."""

    def sizeHint(self) -> QSize:
        inner = self.widget()
        if inner is None:
            return super().sizeHint()
        hint = inner.sizeHint()
        return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(), hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), 4 * self.fontMetrics().height())


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

        # Saved connection profiles (ferry.profiles): picking one fills the fields.
        self.profile = QComboBox()
        self.profile.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.save_profile_button = QPushButton("Sa&ve as profile…")
        profile_label = QLabel("Profi&le:")
        profile_label.setBuddy(self.profile)
        profile_row = QHBoxLayout()
        profile_row.addWidget(profile_label)
        profile_row.addWidget(self.profile, 1)
        profile_row.addWidget(self.save_profile_button)

        self.url_paste = QLineEdit()
        self.url_paste.setPlaceholderText("postgresql://user@host:5432/database (no password)")
        self.host = QLineEdit("localhost")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        # An editable list: the server's databases once connected, or a name typed.
        self.database_list = QComboBox()
        self.database_list.setEditable(True)
        self.database_list.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        database_edit = self.database_list.lineEdit()
        assert database_edit is not None
        self.database = database_edit
        self.refresh_button = QPushButton("Re&fresh")
        self.refresh_button.setToolTip("List the server's databases and the database's schemas")
        self.create_db_button = QPushButton("C&reate database…")
        database_row = QHBoxLayout()
        database_row.addWidget(self.database_list, 1)
        database_row.addWidget(self.refresh_button)
        database_row.addWidget(self.create_db_button)
        self.pg_schema = QComboBox()
        self.pg_schema.setEditable(True)
        self.pg_schema.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        schema_edit = self.pg_schema.lineEdit()
        assert schema_edit is not None
        schema_edit.setPlaceholderText("the server's default (public)")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.sslmode = QComboBox()
        self.sslmode.addItems(SSL_MODES)
        self.sslmode.setItemText(0, SSL_DEFAULT_TEXT)
        self.sslrootcert = QLineEdit()
        self.sslrootcert.setPlaceholderText("the server's CA certificate (for verify-ca/full)")
        self.sslrootcert_browse = QPushButton("Choos&e…")
        cert_row = QHBoxLayout()
        cert_row.addWidget(self.sslrootcert, 1)
        cert_row.addWidget(self.sslrootcert_browse)
        self.keyring_note = wrapped_label()
        self.pg_box = QWidget()
        pg_form = QFormLayout(self.pg_box)
        pg_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        pg_form.addRow("P&aste URL:", self.url_paste)
        pg_form.addRow("&Host:", self.host)
        pg_form.addRow("P&ort:", self.port)
        database_label = QLabel("&Database:")
        database_label.setBuddy(self.database_list)
        pg_form.addRow(database_label, database_row)
        pg_form.addRow("Post&greSQL schema:", self.pg_schema)
        pg_form.addRow("&User:", self.user)
        pg_form.addRow("Pass&word:", self.password)
        pg_form.addRow("SSL &mode:", self.sslmode)
        cert_label = QLabel("CA f&ile:")
        cert_label.setBuddy(self.sslrootcert)
        pg_form.addRow(cert_label, cert_row)
        pg_form.addRow(self.keyring_note)

        self.test_button = QPushButton("&Test connection")
        self.save_anyway_button = QPushButton("Save an&yway")
        self.save_anyway_button.setToolTip(
            "Write these settings into the plan although the test did not connect"
        )
        self.save_anyway_button.setVisible(False)
        self.cancel_button.setText("&Cancel test")
        self.server = wrapped_label()
        self.items = RowsModel(["check", "ok", "detail", "hint"])
        self.items_view = table_view(self.items)
        # A hint is the fix: it wraps in its row instead of being cut at the window's edge.
        self.items_view.setWordWrap(True)
        header = self.items_view.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        for column in (2, 3):  # detail and hint share the width and wrap
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.items_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.items.modelReset.connect(self._fit_columns)
        self.items.colour = lambda row, col: (
            ("pass" if self.items.rows[row][1] == "yes" else "fail") if col == 1 else None
        )

        self.target_box = target_box = QGroupBox("Target")
        target_layout = QVBoxLayout(target_box)
        target_layout.addLayout(profile_row)
        target_layout.addWidget(self.sqlite_radio)
        target_layout.addWidget(self.sqlite_box)
        target_layout.addWidget(self.pg_radio)
        target_layout.addWidget(self.pg_box)
        # At small window sizes the server's fields scroll rather than squeeze into each other.
        self.target_scroll = _FittingScroll()
        self.target_scroll.setWidget(target_box)
        self.target_scroll.setWidgetResizable(True)
        self.target_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.target_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.target_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.addWidget(self.target_scroll)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.save_anyway_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.server, 1)
        layout.addLayout(test_row)
        layout.addWidget(self.items_view, 1)

        self.sqlite_radio.toggled.connect(self._kind_changed)
        self.sqlite_browse.clicked.connect(self._browse)
        self.sslrootcert_browse.clicked.connect(self._browse_ca)
        self.test_button.clicked.connect(self.test_connection)
        self.save_anyway_button.clicked.connect(self.save_anyway)
        self.profile.activated.connect(self._profile_picked)
        self.save_profile_button.clicked.connect(self._ask_profile_name)
        self.url_paste.editingFinished.connect(self._url_pasted)
        self.refresh_button.clicked.connect(self.refresh_lists)
        self.create_db_button.clicked.connect(self._ask_database_name)
        for edit in (self.sqlite_path, self.host, self.database, self.user, self.sslrootcert):
            edit.textChanged.connect(self._changed)
        self.pg_schema.editTextChanged.connect(self._changed)
        self.port.valueChanged.connect(self._changed)
        self.sslmode.currentIndexChanged.connect(self._changed)
        self.report: CheckReport | None = None
        self.set_tab_order(
            self.profile,
            self.save_profile_button,
            self.sqlite_radio,
            self.sqlite_path,
            self.sqlite_browse,
            self.pg_radio,
            self.url_paste,
            self.host,
            self.port,
            self.database_list,
            self.refresh_button,
            self.create_db_button,
            self.pg_schema,
            self.user,
            self.password,
            self.sslmode,
            self.sslrootcert,
            self.sslrootcert_browse,
            self.test_button,
            self.cancel_button,
            self.save_anyway_button,
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
            self.pg_schema.setEditText(target.pg_schema or "")
            self.set_sslmode(target.sslmode)
            self.sslrootcert.setText(target.sslrootcert or "")
        self._kind_changed()
        self.load_profiles()
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
        if plan is None:
            return ""
        schema = None if self.sqlite_radio.isChecked() else self.pg_schema.currentText().strip()
        if _where(self.target_url()) == _where(plan.target.url) and (schema or None) == (
            plan.target.pg_schema
        ):
            return ""
        return "the connection settings typed on this page (not in the plan yet)"

    def _kind_changed(self) -> None:
        sqlite = self.sqlite_radio.isChecked()
        self.sqlite_box.setVisible(sqlite)
        self.pg_box.setVisible(not sqlite)
        self.target_scroll.updateGeometry()  # its height follows the fields shown
        self._changed()

    def _changed(self) -> None:
        if self.report is not None:  # the result shown is for other settings now
            self.server.setText("Settings changed: test the connection again.")
            self.items.set_rows([])
        self.report = None
        self.save_anyway_button.setVisible(False)  # it saved the settings the test was of
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

    def set_sslmode(self, mode: str | None) -> None:
        """Show ``mode`` (None: libpq's default, named as such)."""
        self.sslmode.setCurrentIndex(SSL_MODES.index(mode) if mode in SSL_MODES else 0)

    def chosen_sslmode(self) -> str | None:
        """The SSL mode chosen (None: not set, libpq's default)."""
        return SSL_MODES[self.sslmode.currentIndex()] or None

    def candidate_target(self) -> TargetSpec | None:
        """The target the fields describe, checked (no password in any field, valid names);
        None, with the error shown, when they describe none."""
        plan = self.ferry().plan
        assert plan is not None
        url = self.target_url()
        if self._password_in_fields(url):
            return None
        sqlite = self.sqlite_radio.isChecked()
        old = plan.target
        try:
            return TargetSpec.model_validate(
                {
                    "url": url,
                    "schema": old.schema_sql,
                    "pg_schema": None if sqlite else (self.pg_schema.currentText().strip() or None),
                    "password_env": old.password_env,
                    "sslmode": None if sqlite else self.chosen_sslmode(),
                    "sslrootcert": None
                    if sqlite
                    else plan_relative(self.sslrootcert.text(), plan.base_dir),
                    "connect_timeout": old.connect_timeout,
                    "stall_timeout": old.stall_timeout,
                    "identifiers": old.identifiers,
                }
            )
        except ValidationError as exc:
            problems = "; ".join(
                str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
            )
            self.runner.show_error(FerryError(f"the target is not valid: {problems}"))
            self.server.setText(f"Not saved: {problems}")
            return None

    def apply_target(self) -> bool:
        """Put the fields into the plan (and its file, when they changed) — what a successful
        test and "Save anyway" do; never while a job reads the plan."""
        if self.runner.busy:
            return False
        spec = self.candidate_target()
        if spec is None:
            return False
        self._use_password(spec)
        self._write_target(spec)
        return True

    def _use_password(self, spec: TargetSpec) -> None:
        password = self.password.text()
        if password and not spec.is_sqlite:
            self._keep_password(spec, password)

    def _write_target(self, spec: TargetSpec) -> None:
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        self.save_anyway_button.setVisible(False)
        if spec.model_dump() == plan.target.model_dump():
            return
        plan.target = spec
        wizard.save_plan()
        if wizard.backup is not None:
            # The backup covers the old target: the migration takes a new one first.
            wizard.backup = None
            self.keyring_note.setText(
                "The target changed: the migration will back it up again before writing."
            )

    def save_anyway(self) -> bool:
        """Write the settings into the plan although the test did not connect (the operator
        asked for it explicitly)."""
        if not self.apply_target():
            return False
        self.server.setText("Saved into the plan without a successful test.")
        return True

    # -- profiles --------------------------------------------------------------------------
    def load_profiles(self) -> None:
        """Fill the profile list from the saved profiles (a broken file is named)."""
        self.profile.clear()
        self.profile.addItem("(none: the fields below)")
        try:
            profiles = load_profiles()
        except FerryError as exc:
            self.profile.setToolTip(f"{exc.message}. {exc.hint}")
            return
        self.profile.setToolTip("")
        for name in profiles:
            self.profile.addItem(name)

    def _profile_picked(self, index: int) -> None:
        if index > 0:
            self.use_profile(self.profile.itemText(index))

    def use_profile(self, name: str) -> bool:
        """Fill the fields from saved profile ``name``."""
        try:
            profile = load_profiles().get(name)
        except FerryError as exc:
            self.runner.show_error(exc)
            return False
        if profile is None:
            return False
        self.fill_from_url(profile.url)
        self.pg_schema.setEditText(profile.pg_schema or "")
        self.set_sslmode(profile.sslmode)
        self.profile.setCurrentText(name)
        return True

    def _ask_profile_name(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Save as profile", "Name (e.g. staging); the password is never saved:"
        )
        if ok and name.strip():
            self.save_as_profile(name)

    def save_as_profile(self, name: str) -> bool:
        """Save the fields as connection profile ``name`` (no password: refused)."""
        url = self.target_url()
        if self._password_in_fields(url):
            return False
        sqlite = self.sqlite_radio.isChecked()
        try:
            profile = make_profile(
                name,
                url,
                None if sqlite else (self.pg_schema.currentText().strip() or None),
                None if sqlite else self.chosen_sslmode(),
            )
            path = save_profile(profile)
        except FerryError as exc:
            self.runner.show_error(exc)
            return False
        except OSError as exc:
            self.runner.show_error(FerryError(f"cannot save the profile: {exc}"))
            return False
        self.load_profiles()
        self.profile.setCurrentText(profile.name)
        self.server.setText(f"Saved profile {profile.name} in {path} (without password).")
        return True

    # -- a pasted URL ----------------------------------------------------------------------
    def _url_pasted(self) -> None:
        if self.url_paste.text().strip():
            self.paste_url(self.url_paste.text())

    def paste_url(self, text: str) -> bool:
        """Fill the fields from a pasted URL; one holding a password is refused with the
        security message (and cleared: the password is kept nowhere)."""
        text = text.strip()
        try:
            refuse_password(text)
        except ValueError as exc:
            self.url_paste.clear()
            self.runner.show_error(
                FerryError(
                    f"the pasted URL is not used: {exc}",
                    hint="Paste it without the password and type the password into the "
                    "Password field.",
                )
            )
            self.server.setText(f"Not used: {exc}")
            return False
        try:
            TargetSpec(url=text)
        except ValidationError as exc:
            problems = "; ".join(
                str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
            )
            self.server.setText(f"Not a target URL: {problems}")
            return False
        self.fill_from_url(text)
        self.url_paste.clear()
        left = [k for k in make_url(text).query if k not in _URL_FIELDS]
        self.server.setText(
            f"Filled from the URL; not carried by these fields: {', '.join(left)} (set them in "
            "the plan's [target] url)."
            if left
            else "Filled from the URL: test the connection."
        )
        return True

    def fill_from_url(self, url: str) -> None:
        """Set the kind and the fields from a target URL (no password in it)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self.sqlite_radio.setChecked(True)
            self.sqlite_path.setText(parsed.database or "ferry.db")
            return
        self.pg_radio.setChecked(True)
        query_host = parsed.query.get("host")
        socket_dir = query_host if isinstance(query_host, str) else None
        self.host.setText(parsed.host or socket_dir or "localhost")
        self.port.setValue(parsed.port or 5432)
        self.database.setText(parsed.database or "")
        self.user.setText(parsed.username or "")
        sslmode = parsed.query.get("sslmode")
        if isinstance(sslmode, str) and sslmode in SSL_MODES:
            self.set_sslmode(sslmode)
        sslrootcert = parsed.query.get("sslrootcert")
        if isinstance(sslrootcert, str):
            self.sslrootcert.setText(sslrootcert)

    # -- the server's databases and schemas -----------------------------------------------
    def _listing_spec(self) -> TargetSpec | None:
        if self.sqlite_radio.isChecked():
            return None
        spec = self.candidate_target()
        if spec is not None:
            self._use_password(spec)
        return spec

    def refresh_lists(self) -> bool:
        """List the server's databases and the database's schemas into the drop-downs."""
        spec = self._listing_spec()
        if spec is None or self.runner.busy:
            return False

        async def job(emit: Any, cancel: Any) -> tuple[list[str], list[str]]:
            return await _lists(spec)

        return self.run_job("list databases", job, self._listed, self._list_failed)

    def _listed(self, lists: Any) -> None:
        databases, schemas = lists
        _set_items(self.database_list, databases)
        _set_items(self.pg_schema, schemas)
        self.server.setText(
            f"{len(databases)} database(s) on the server; {len(schemas)} schema(s) in "
            f"{self.database.text() or 'the database'}."
        )

    def _list_failed(self, exc: BaseException) -> None:
        self.server.setText(f"Cannot list the databases: {exc}")
        if isinstance(exc, FerryError) and exc.hint:
            self.server.setText(f"Cannot list the databases: {exc}. {exc.hint}")

    def _ask_database_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Create database", "Name of the new database:")
        if ok and name.strip():
            self.create_database(name.strip())

    def create_database(self, name: str) -> bool:
        """Create database ``name`` on the server, then pick it."""
        spec = self._listing_spec()
        if spec is None or self.runner.busy:
            return False

        async def job(emit: Any, cancel: Any) -> tuple[list[str], list[str]]:
            await asyncio.to_thread(create_database, spec, name)
            return await _lists(spec)

        def created(lists: Any) -> None:
            self.database.setText(name)
            self._listed(lists)
            self.server.setText(f"Created database {name}. Test the connection to use it.")

        def failed(exc: BaseException) -> None:
            if isinstance(exc, FerryError):
                self.runner.show_error(exc)
            self.server.setText(f"Not created: {exc}")

        return self.run_job("create database", job, created, failed)

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
        """Run the preflight check against the target the fields describe; the target goes
        into the plan only when the test connects (else "Save anyway" is offered)."""
        if self.runner.busy:
            return False
        spec = self.candidate_target()
        if spec is None:
            return False
        self._use_password(spec)
        plan = self.ferry().plan
        assert plan is not None
        trial = plan.model_copy(update={"target": spec})
        self.server.setText("Connecting …")
        self.items.set_rows([])
        self.target_box.setEnabled(False)  # the test is of these settings: no edits meanwhile

        async def job(emit: Any, cancel: Any) -> tuple[CheckReport, TargetSpec, Any]:
            # The check writes nothing (its transaction is rolled back): it may simply be dropped.
            stopped = "Test cancelled; nothing was changed."
            try:
                report = await check_plan(trial, cancel=cancel)
            except Cancelled:
                raise Cancelled(stopped) from None
            lists = None
            if report.server and not spec.is_sqlite:
                try:
                    lists = await _lists(spec)
                except FerryError:
                    lists = None  # listing is a convenience: the test's verdict stands
            return report, spec, lists

        return self.run_job("check", job, self._checked, self._failed)

    def cancelling(self) -> None:
        self.server.setText("Cancelling the test …")

    def _checked(self, outcome: Any) -> None:
        report, spec, lists = outcome
        assert isinstance(report, CheckReport)
        self.target_box.setEnabled(True)
        if lists is not None:
            _set_items(self.database_list, lists[0])
            _set_items(self.pg_schema, lists[1])
        if not report.server:  # never connected: the plan keeps its target
            self.save_anyway_button.setVisible(True)
            self._show_report(report)
            self.server.setText(
                "<b>Not connected</b> — the plan keeps its target. Fix the settings and test "
                "again, or “Save anyway”."
            )
            self.completeChanged.emit()
            return
        self._write_target(spec)
        self.report = report
        self.ferry().check_report = report
        self._show_report(report)
        self.completeChanged.emit()

    def _show_report(self, report: CheckReport) -> None:
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
            self.save_anyway_button.setVisible(True)

    def _fit_columns(self) -> None:
        """The check's name fits up to a width; detail and hint share the rest and wrap."""
        view = self.items_view
        view.setColumnWidth(0, min(view.columnWidth(0), MAX_COLUMN_WIDTH))
        # No hint: the detail takes the width (its rows stay one line where they fit).
        hints = any(row[3] for row in self.items.rows)
        header = view.horizontalHeader()
        if hints:
            header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        else:
            header.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
            view.setColumnWidth(3, header.sectionSizeHint(3))
        view.resizeRowsToContents()


async def _lists(spec: TargetSpec) -> tuple[list[str], list[str]]:
    """The server's databases and the URL's database's schemas (in a worker thread)."""
    databases = await asyncio.to_thread(list_databases, spec)
    try:
        schemas = await asyncio.to_thread(list_schemas, spec)
    except FerryError:  # the database does not exist yet: no schemas to offer
        schemas = []
    return databases, schemas


def _set_items(combo: QComboBox, names: list[str]) -> None:
    """Offer ``names`` in an editable drop-down, keeping what is typed in it."""
    typed = combo.currentText()
    edit = combo.lineEdit()
    blocked = [w for w in (combo, edit) if w is not None and not w.signalsBlocked()]
    for widget in blocked:  # the settings stay as they are: no "test again"
        widget.blockSignals(True)
    combo.clear()
    combo.addItems(names)
    combo.setEditText(typed)
    for widget in blocked:
        widget.blockSignals(False)
