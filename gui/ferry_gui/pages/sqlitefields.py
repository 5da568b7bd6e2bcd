"""The Connect page's SQLite field: the database file (made by the migration when missing)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)
from sqlalchemy.engine import URL


class SqliteFields(QWidget):
    """ "Database file: [path] [Browse…]"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = QLineEdit()
        self.browse_button = QPushButton("B&rowse…")
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse_button)
        form = QFormLayout(self)
        label = QLabel("Database &file:")
        label.setBuddy(self.path)
        form.addRow(label, row)

    def url(self) -> str:
        """The SQLite URL of the file named (``ferry.db`` when none is)."""
        return f"sqlite:///{self.path.text().strip() or 'ferry.db'}"

    def show_url(self, url: URL) -> None:
        """Show the file of SQLite URL ``url``."""
        self.path.setText(url.database or "ferry.db")

    def browse(self, base_dir: Path | None) -> None:
        """Pick the database file (an existing one, or a new name), starting in the plan's
        folder."""
        start = str(base_dir) if base_dir is not None else ""
        path, _ = QFileDialog.getSaveFileName(
            self, "SQLite database", start, "SQLite (*.db *.sqlite);;All files (*)"
        )
        if path:
            self.path.setText(path)
