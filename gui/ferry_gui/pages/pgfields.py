"""The Connect page's PostgreSQL fields: server, database, schema, user, password, TLS.

The fields turn into a target URL (never with a password) and back; a pasted URL is read
here too (one holding a password is refused by :func:`read_pasted_url`). The password typed
goes to the OS keyring, else into this session's environment: never into the plan.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)
from sqlalchemy.engine import URL, make_url

from ferry import FerryError
from ferry.api import DEFAULT_PASSWORD_ENV, keyring_status, refuse_password, store_password
from ferry.plan import TargetSpec

from .base import wrapped_label

SSL_MODES = ["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
#: how the SSL mode list shows "not set": libpq's own default, named
SSL_DEFAULT_TEXT = "prefer (libpq's default)"
#: the query keys of a pasted URL the fields carry (the others are named, not dropped silently)
URL_FIELDS = ("host", "sslmode", "sslrootcert")


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


def validation_problems(exc: ValidationError) -> str:
    """A target's validation errors as one line (without pydantic's "Value error, ")."""
    return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors())


def field_password_error(texts: Iterable[str]) -> FerryError | None:
    """The error for the first of ``texts`` (the URL, then the fields) that holds a password
    (naming where, never the value); None when none does."""
    for text in texts:
        try:
            refuse_password(text)
        except ValueError as exc:
            return FerryError(
                f"the target is not valid: {exc}",
                hint="Type the password into the Password field: it goes to the OS keyring "
                "(or this session's FERRY_PASSWORD), never into the plan.",
            )
    return None


class PastedUrlRefused(FerryError):
    """A pasted URL held a password: it is not used (``reason`` says why, without it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the pasted URL is not used: {reason}",
            hint="Paste it without the password and type the password into the Password field.",
        )
        self.reason = reason


def read_pasted_url(text: str) -> tuple[str | None, str]:
    """(the target URL, what to say) for a pasted URL; (None, the problem) when it is not a
    target URL. Raises :class:`PastedUrlRefused` when it holds a password."""
    text = text.strip()
    try:
        refuse_password(text)
    except ValueError as exc:
        raise PastedUrlRefused(str(exc)) from None
    try:
        TargetSpec(url=text)
    except ValidationError as exc:
        return None, f"Not a target URL: {validation_problems(exc)}"
    left = [k for k in make_url(text).query if k not in URL_FIELDS]
    return text, (
        f"Filled from the URL; not carried by these fields: {', '.join(left)} (set them in "
        "the plan's [target] url)."
        if left
        else "Filled from the URL: test the connection."
    )


class PostgresFields(QWidget):
    """The PostgreSQL server's fields; ``changed`` fires when one that the target holds
    changes (the password and the paste box are not the target's)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("P&aste URL:", self.url_paste)
        form.addRow("&Host:", self.host)
        form.addRow("P&ort:", self.port)
        database_label = QLabel("&Database:")
        database_label.setBuddy(self.database_list)
        form.addRow(database_label, database_row)
        form.addRow("Post&greSQL schema:", self.pg_schema)
        form.addRow("&User:", self.user)
        form.addRow("Pass&word:", self.password)
        form.addRow("SSL &mode:", self.sslmode)
        cert_label = QLabel("CA f&ile:")
        cert_label.setBuddy(self.sslrootcert)
        form.addRow(cert_label, cert_row)
        form.addRow(self.keyring_note)

        for edit in (self.host, self.database, self.user, self.sslrootcert):
            edit.textChanged.connect(self.changed)
        self.pg_schema.editTextChanged.connect(self.changed)
        self.port.valueChanged.connect(self.changed)
        self.sslmode.currentIndexChanged.connect(self.changed)

    def url(self) -> str:
        """The PostgreSQL URL the fields describe (never with a password)."""
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

    def show_server(self, url: URL) -> None:
        """Set host (or socket folder), port, database and user from ``url``."""
        query_host = url.query.get("host")
        socket_dir = query_host if isinstance(query_host, str) else None
        self.host.setText(url.host or socket_dir or "localhost")
        self.port.setValue(url.port or 5432)
        self.database.setText(url.database or "")
        self.user.setText(url.username or "")

    def fill(self, url: URL) -> None:
        """Set the fields from ``url``, its TLS settings included when it names them."""
        self.show_server(url)
        sslmode = url.query.get("sslmode")
        if isinstance(sslmode, str) and sslmode in SSL_MODES:
            self.set_sslmode(sslmode)
        sslrootcert = url.query.get("sslrootcert")
        if isinstance(sslrootcert, str):
            self.sslrootcert.setText(sslrootcert)

    def show_target(self, target: TargetSpec) -> None:
        """Show a plan's PostgreSQL target (its schema and TLS settings are the plan's own)."""
        self.show_server(make_url(target.url))
        self.pg_schema.setEditText(target.pg_schema or "")
        self.set_sslmode(target.sslmode)
        self.sslrootcert.setText(target.sslrootcert or "")

    def schema(self) -> str | None:
        """The PostgreSQL schema typed or picked (None: the server's default)."""
        return self.pg_schema.currentText().strip() or None

    def set_sslmode(self, mode: str | None) -> None:
        """Show ``mode`` (None: libpq's default, named as such)."""
        self.sslmode.setCurrentIndex(SSL_MODES.index(mode) if mode in SSL_MODES else 0)

    def chosen_sslmode(self) -> str | None:
        """The SSL mode chosen (None: not set, libpq's default)."""
        return SSL_MODES[self.sslmode.currentIndex()] or None

    def browse_ca(self, base_dir: Path | None) -> None:
        """Pick the server's CA certificate (starting at the one named, inside the plan's
        folder, else at home)."""
        current = self.sslrootcert.text().strip()
        start = str(base_dir / current) if base_dir is not None and current else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, "The server's CA certificate", start, "Certificates (*.crt *.pem);;All files (*)"
        )
        if path:
            self.sslrootcert.setText(path)

    def show_keyring(self, password_env: str | None) -> None:
        """Say where a password typed here goes (the keyring, else the session's
        ``password_env``)."""
        problem = keyring_status()
        self.keyring_note.setText(
            "The password is kept in the OS keyring, never in the plan."
            if problem is None
            else f"No keyring: {problem}. A password typed here is used for this session only "
            f"(as {password_env or DEFAULT_PASSWORD_ENV}); for later runs set that "
            "variable or use ~/.pgpass. It is never written to the plan."
        )

    def keep_password(self, spec: TargetSpec) -> None:
        """Keep the password typed (if any) for ``spec``: in the OS keyring, else for this
        session in the target's password variable."""
        password = self.password.text()
        if not password or spec.is_sqlite:
            return
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
