"""The Backup page's list of the plan's earlier backups, with their sizes, and pruning.

Pruning is :func:`ferry.backup.prune.prune_backups`: only signed backups of the plan's target
are deleted; the confirmation lists exactly what goes (a dry run first) and what is skipped.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ferry import FerryError
from ferry.api import PruneEntry, prune_backups, prune_plan
from ferry.plan import Plan

from ..models import RowsModel
from .base import human_size, table_view, wrapped_label

_WORDS = {"keep": "kept", "delete": "older: prunable", "skip": "skipped"}


class BackupsBox(QGroupBox):
    """The plan's backups (newest first) with size and state; "Prune…" keeps the newest N."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Backups of this plan", parent)
        self.plan: Plan | None = None
        self.model = RowsModel(["backup", "created", "size", "state"])
        self.view = table_view(self.model)
        self.view.setMaximumHeight(140)
        self.keep = QComboBox()  # how many to keep: 0 to 10, 3 by default
        self.keep.addItems([str(n) for n in range(11)])
        self.keep.setCurrentText("3")
        self.prune_button = QPushButton("&Prune older backups…")
        self.summary = wrapped_label()
        row = QHBoxLayout()
        label = QLabel("&Keep the newest")
        label.setBuddy(self.keep)
        row.addWidget(label)
        row.addWidget(self.keep)
        row.addWidget(self.prune_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        self.prune_button.clicked.connect(lambda: self.prune(ask=True))
        self.keep.currentIndexChanged.connect(lambda _: self.refresh(self.plan))

    def kept(self) -> int:
        """How many of the newest backups pruning keeps."""
        return int(self.keep.currentText())

    def refresh(self, plan: Plan | None) -> list[PruneEntry]:
        """List ``plan``'s backups as pruning to the chosen N would treat them."""
        self.plan = plan
        entries: list[PruneEntry] = []
        problem = ""
        if plan is not None:
            try:
                entries = prune_plan(plan, self.kept())
            except (FerryError, OSError) as exc:
                problem = f"The backups cannot be listed: {exc}"
        self.model.set_rows(
            [
                [
                    e.id,
                    e.created_at[:19].replace("T", " "),
                    human_size(e.size),
                    _WORDS[e.action] + (f" ({e.reason})" if e.reason else ""),
                ]
                for e in entries
            ]
        )
        gone = [e for e in entries if e.action == "delete"]
        self.prune_button.setEnabled(bool(gone))
        if problem or not entries:
            self.summary.setText(problem or "No earlier backups.")
        else:
            self.summary.setText(
                f"{len(entries)} backup{'' if len(entries) == 1 else 's'}, "
                f"{human_size(sum(e.size for e in entries))}; pruning "
                f"to the newest {self.kept()} would free "
                f"{human_size(sum(e.size for e in gone))}."
            )
        return entries

    def prune(self, ask: bool = True) -> list[PruneEntry]:
        """Delete all but the newest N signed backups of the plan's target (after asking,
        with the list of what goes); returns what was deleted."""
        if self.plan is None:
            return []
        entries = self.refresh(self.plan)
        gone = [e for e in entries if e.action == "delete"]
        if not gone:
            return []
        if ask:
            names = "\n".join(f"{e.id}  ({human_size(e.size)})" for e in gone)
            answer = QMessageBox.question(
                self,
                "Prune backups?",
                f"These {len(gone)} older backups will be deleted:\n{names}\n\n"
                f"The newest {self.kept()} are kept. Delete them?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return []
        try:
            done = [e for e in prune_backups(self.plan, self.kept()) if e.action == "delete"]
        except (FerryError, OSError) as exc:
            self.refresh(self.plan)
            self.summary.setText(f"Pruning stopped: {exc}")
            return []
        self.refresh(self.plan)
        freed = human_size(sum(e.size for e in done))
        self.summary.setText(f"Deleted {len(done)} older backups ({freed} freed).")
        return done
