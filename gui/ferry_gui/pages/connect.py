"""Connect: the target (SQLite file or PostgreSQL server), tested with the preflight check.

The page composes its parts: the PostgreSQL fields, pasted URLs and the password
(:mod:`.pgfields`), saved profiles (:mod:`.connectprofiles`), the server's databases and
schemas (:mod:`.serverlists`) and the test with its result (:mod:`.connectiontest`). It keeps
the kind choice, the target the fields describe, and writing it into the plan.
"""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
)
from sqlalchemy.engine import make_url

from ferry import FerryError
from ferry.api import CheckReport
from ferry.plan import TargetSpec

from ..models import RowsModel
from .base import FerryPage, wrapped_label
from .columns import ColumnsDialog
from .connectiontest import ConnectionTest, check_items_view
from .connectprofiles import ProfileBar
from .pgfields import (
    PastedUrlRefused,
    PostgresFields,
    field_password_error,
    plan_relative,
    read_pasted_url,
    validation_problems,
)
from .serverlists import ServerLists
from .sqlitefields import SqliteFields


def _where(url: str) -> tuple[object, ...]:
    """What a target URL points at (a driver name or a default port spelled out or not)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    port = parsed.port or (5432 if backend == "postgresql" else None)
    return (backend, parsed.host, port, parsed.database, parsed.username)


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
    """Where the data goes: the fields, "Test connection" (the preflight check), and the plan's
    target once the test connected (or "Save anyway")."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Connect")
        self.setSubTitle("Where the data goes. “Test connection” opens it and checks the plan.")
        self.sqlite_radio = QRadioButton("&SQLite file (embedded, no server)")
        self.pg_radio = QRadioButton("&PostgreSQL server")
        group = QButtonGroup(self)
        group.addButton(self.sqlite_radio)
        group.addButton(self.pg_radio)
        self.sqlite_box = SqliteFields()
        self.sqlite_path = self.sqlite_box.path
        self.sqlite_browse = self.sqlite_box.browse_button

        # Saved connection profiles (ferry.profiles): picking one fills the fields.
        self.profiles = ProfileBar(self)
        self.profile = self.profiles.combo
        self.save_profile_button = self.profiles.save_button

        self.pg_box = fields = PostgresFields()
        # The fields' widgets by the names the page has always had (tests and Tab order).
        self.url_paste = fields.url_paste
        self.host = fields.host
        self.port = fields.port
        self.database_list = fields.database_list
        self.database = fields.database
        self.refresh_button = fields.refresh_button
        self.create_db_button = fields.create_db_button
        self.pg_schema = fields.pg_schema
        self.user = fields.user
        self.password = fields.password
        self.sslmode = fields.sslmode
        self.sslrootcert = fields.sslrootcert
        self.sslrootcert_browse = fields.sslrootcert_browse
        self.keyring_note = fields.keyring_note
        self.lists = ServerLists(self)
        self.tester = ConnectionTest(self)

        self.test_button = QPushButton("&Test connection")
        self.save_anyway_button = QPushButton("Save an&yway")
        self.save_anyway_button.setToolTip(
            "Write these settings into the plan although the test did not connect"
        )
        self.save_anyway_button.setVisible(False)
        #: shown when a failed check's fix is a column setting of one table (its type…)
        self.columns_button = QPushButton("Edit colu&mns…")
        self.columns_button.setVisible(False)
        #: the last test's report, passed or not; the column editor it opened
        self.last_report: CheckReport | None = None
        self.columns_dialog: ColumnsDialog | None = None
        self.cancel_button.setText("&Cancel test")
        self.server = wrapped_label()
        self.items = RowsModel(["check", "ok", "detail", "hint"])
        self.items_view = check_items_view(self.items)

        self.target_box = target_box = QGroupBox("Target")
        target_layout = QVBoxLayout(target_box)
        target_layout.addWidget(self.profiles)
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
        test_row.addWidget(self.columns_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.server, 1)
        layout.addLayout(test_row)
        layout.addWidget(self.items_view, 1)

        self.sqlite_radio.toggled.connect(self._kind_changed)
        self.sqlite_browse.clicked.connect(self._browse)
        self.sslrootcert_browse.clicked.connect(self._browse_ca)
        self.test_button.clicked.connect(self.test_connection)
        self.save_anyway_button.clicked.connect(self.save_anyway)
        self.columns_button.clicked.connect(self.tester.open_columns)
        self.url_paste.editingFinished.connect(self._url_pasted)
        self.sqlite_path.textChanged.connect(self._changed)
        fields.changed.connect(self._changed)
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
            self.columns_button,
            self.items_view,
        )

    def initializePage(self) -> None:
        plan = self.ferry().plan
        assert plan is not None
        target = plan.target
        if target.is_sqlite:
            self.sqlite_radio.setChecked(True)
            self.sqlite_box.show_url(make_url(target.url))
        else:
            self.pg_radio.setChecked(True)
            self.pg_box.show_target(target)
        self._kind_changed()
        self.load_profiles()
        self.pg_box.show_keyring(target.password_env)
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
        self.sqlite_box.browse(plan.base_dir if plan else None)

    def _browse_ca(self) -> None:
        plan = self.ferry().plan
        self.pg_box.browse_ca(plan.base_dir if plan else None)

    # -- the target the fields describe -----------------------------------------------------
    def target_url(self) -> str:
        """The URL the fields describe (never with a password)."""
        if self.sqlite_radio.isChecked():
            return self.sqlite_box.url()
        return self.pg_box.url()

    def fill_from_url(self, url: str) -> None:
        """Set the kind and the fields from a target URL (no password in it)."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self.sqlite_radio.setChecked(True)
            self.sqlite_box.show_url(parsed)
            return
        self.pg_radio.setChecked(True)
        self.pg_box.fill(parsed)

    def set_sslmode(self, mode: str | None) -> None:
        """Show ``mode`` (None: libpq's default, named as such)."""
        self.pg_box.set_sslmode(mode)

    def chosen_sslmode(self) -> str | None:
        """The SSL mode chosen (None: not set, libpq's default)."""
        return self.pg_box.chosen_sslmode()

    def candidate_target(self) -> TargetSpec | None:
        """The target the fields describe, checked (no password in any field, valid names);
        None, with the error shown, when they describe none."""
        plan = self.ferry().plan
        assert plan is not None
        url = self.target_url()
        if self.password_in_fields(url):
            return None
        sqlite = self.sqlite_radio.isChecked()
        old = plan.target
        try:
            return TargetSpec.model_validate(
                {
                    "url": url,
                    "schema": old.schema_sql,
                    "pg_schema": None if sqlite else self.pg_box.schema(),
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
            problems = validation_problems(exc)
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
        self.use_password(spec)
        self.write_target(spec)
        return True

    def write_target(self, spec: TargetSpec) -> None:
        """Make ``spec`` the plan's target (saved, when it changed; an earlier backup was of
        the old target: the migration takes a new one)."""
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

    # -- profiles, a pasted URL, the server's lists (the parts do the work) ------------------
    def load_profiles(self) -> None:
        """Fill the profile list from the saved profiles (a broken file is named)."""
        self.profiles.load()

    def use_profile(self, name: str) -> bool:
        """Fill the fields from saved profile ``name``."""
        return self.profiles.use(name)

    def save_as_profile(self, name: str) -> bool:
        """Save the fields as connection profile ``name`` (no password: refused)."""
        return self.profiles.save_as(name)

    def _url_pasted(self) -> None:
        if self.url_paste.text().strip():
            self.paste_url(self.url_paste.text())

    def paste_url(self, text: str) -> bool:
        """Fill the fields from a pasted URL; one holding a password is refused with the
        security message (and cleared: the password is kept nowhere)."""
        try:
            url, said = read_pasted_url(text)
        except PastedUrlRefused as exc:
            self.url_paste.clear()
            self.runner.show_error(exc)
            self.server.setText(f"Not used: {exc.reason}")
            return False
        if url is not None:
            self.fill_from_url(url)
            self.url_paste.clear()
        self.server.setText(said)
        return url is not None

    def refresh_lists(self) -> bool:
        """List the server's databases and the database's schemas into the drop-downs."""
        return self.lists.refresh()

    def create_database(self, name: str) -> bool:
        """Create database ``name`` on the server, then pick it."""
        return self.lists.create(name)

    # -- where the password goes -------------------------------------------------------------
    def password_in_fields(self, url: str) -> bool:
        """Refuse (with the error shown, never the password) a password typed or pasted into a
        field other than Password: a whole URL in Host, ``?password=`` after the database…"""
        sqlite = self.sqlite_radio.isChecked()
        fields = (self.sqlite_path,) if sqlite else (self.host, self.database, self.user)
        error = field_password_error([url, *(e.text() for e in fields)])
        if error is None:
            return False
        self.runner.show_error(error)
        self.server.setText("Not saved: a field holds a password (use the Password field).")
        return True

    def use_password(self, spec: TargetSpec) -> None:
        """Keep the password typed (if any) for ``spec``: OS keyring, else this session."""
        self.pg_box.keep_password(spec)

    # -- the test ----------------------------------------------------------------------------
    def test_connection(self) -> bool:
        """Run the preflight check against the target the fields describe; the target goes
        into the plan only when the test connects (else "Save anyway" is offered)."""
        return self.tester.start()

    def cancelling(self) -> None:
        self.server.setText("Cancelling the test …")
