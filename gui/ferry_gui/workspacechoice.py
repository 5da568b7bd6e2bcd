"""Where a drafted plan and its files go: the workspace dialog "Create from a folder" opens
before the scan, and the line the Start and Finish pages show for an opened plan."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ferry import Plan
from ferry.api import default_workspace, is_within, plan_in

from .pages.base import wrapped_label


class WorkspaceDialog(QDialog):
    """Asks where the draft of ``data`` goes: its default workspace (under the user's data
    folder), or a folder the operator picks, the app's data folder itself included."""

    def __init__(self, data: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ferry: the plan's workspace")
        self.data = data
        self.default = default_workspace(data)
        self.intro = wrapped_label(
            f"Ferry reads <b>{escape(str(data))}</b> and writes nothing into it. The draft "
            "plan, its backups, its reports and a new SQLite database go into the workspace:"
        )
        self.edit = QLineEdit(str(self.default))
        self.choose_button = QPushButton("C&hoose…")
        self.default_button = QPushButton("De&fault")
        self.note = wrapped_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Scan and draft")
        grid = QGridLayout()
        label = QLabel("&Workspace:")
        label.setBuddy(self.edit)
        grid.addWidget(label, 0, 0)
        grid.addWidget(self.edit, 0, 1)
        grid.addWidget(self.choose_button, 0, 2)
        grid.addWidget(self.default_button, 0, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(640)
        self.edit.textChanged.connect(self._update)
        self.choose_button.clicked.connect(self._choose)
        self.default_button.clicked.connect(lambda: self.edit.setText(str(self.default)))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._update()

    def workspace(self) -> Path:
        """The folder chosen (the default unless the operator changed it)."""
        return Path(self.edit.text().strip()).expanduser()

    def _choose(self) -> None:
        start = self.workspace()
        while not start.is_dir() and start != start.parent:  # the default may not exist yet
            start = start.parent
        folder = QFileDialog.getExistingDirectory(self, "The plan's workspace", str(start))
        if folder:
            self.edit.setText(folder)

    def _update(self) -> None:
        text = self.edit.text().strip()
        self.ok_button.setEnabled(bool(text))
        if not text:
            self.note.setText("Give a folder.")
            return
        notes = []
        if is_within(self.workspace(), self.data):
            notes.append(
                "<span style='color:#c0392b'>Inside the app's data folder: the plan, backups "
                "and reports will be written there, as you chose.</span>"
            )
        if plan_in(self.workspace()).exists():
            notes.append("A plan is there already: Ferry asks before replacing it.")
        if not notes and self.workspace() == self.default:
            notes.append("The default: one workspace per data folder, in your user data folder.")
        self.note.setText(" ".join(notes))


def workspace_html(plan: Plan, plan_path: Path) -> str:
    """The plan's workspace (its folder) and where its backups and reports go, as HTML."""
    return (
        f"Workspace: <code>{escape(str(plan_path.parent))}</code> (backups in "
        f"<code>{escape(plan.backup.dir)}</code>, reports in "
        f"<code>{escape(plan.report.dir)}</code> there, as the plan says)"
    )
