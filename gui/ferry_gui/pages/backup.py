"""Backup: what will be saved and where, the progress, and the manifest afterwards."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ferry import Cancelled, FerryError
from ferry.api import Backup, backup_root, source_files
from ferry.api import backup as create_backup
from ferry.events import StepStarted

from ..models import RowsModel
from .backuplist import BackupsBox
from .base import FerryPage, human_size, table_view, wrapped_label


class BackupPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Backup")
        self.setSubTitle(
            "Every source file and the target are copied, with a SHA-256 manifest, before "
            "anything is written. Rolling back to it is one action."
        )
        self.where = wrapped_label()
        self.items = RowsModel(["role", "file", "size", "sha256"])
        self.items_view = table_view(self.items)
        self.backup_button = QPushButton("Back &up now")
        self.cancel_button.setText("&Cancel backup")
        self.skip_box = QCheckBox("&Skip the backup (not recommended)")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v of %m items")
        self.progress.setTextVisible(False)
        self.status = wrapped_label()
        row = QHBoxLayout()
        row.addWidget(self.backup_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.items_view, 1)
        layout.addLayout(row)
        layout.addWidget(self.skip_box)
        layout.addWidget(self.status)
        self.backups = BackupsBox()  # earlier backups with their sizes, and pruning
        self.backups_view, self.keep_box = self.backups.view, self.backups.keep
        self.prune_button = self.backups.prune_button
        layout.addWidget(self.backups)
        self.backup_button.clicked.connect(self.start_backup)
        self.skip_box.toggled.connect(self._skip_toggled)
        self.set_tab_order(
            self.items_view,
            self.backup_button,
            self.cancel_button,
            self.skip_box,
            self.backups_view,
            self.keep_box,
            self.prune_button,
        )

    def initializePage(self) -> None:
        wizard = self.ferry()
        plan = wizard.plan
        assert plan is not None
        self.backups.refresh(plan)
        if wizard.backup is not None:
            return
        rows: list[list[Any]] = []
        try:
            for item in source_files(plan):
                size = item.path.stat().st_size if item.path.exists() else 0
                rows.append([f"source {item.source}", str(item.path), human_size(size), ""])
        except (FerryError, OSError) as exc:
            self.status.setText(f"The sources cannot all be listed: {exc}")
        rows.append(["target", plan.target.url, "", ""])
        self.items.set_rows(rows)
        self.where.setText(f"Will be backed up to <b>{backup_root(plan)}</b>:")

    def isComplete(self) -> bool:
        wizard = self.ferry()
        done = wizard.backup is not None or wizard.backup_skipped
        return done and not self.runner.busy

    def _skip_toggled(self, checked: bool) -> None:
        wizard = self.ferry()
        if checked:
            answer = QMessageBox.warning(
                self,
                "Skip the backup?",
                "Without a backup there is nothing to roll back to if the migration is wrong.\n"
                "Skip it anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                self.skip_box.setChecked(False)
                return
        wizard.backup_skipped = checked
        self.status.setText("The backup will be skipped." if checked else "")
        self.completeChanged.emit()

    def start_backup(self) -> bool:
        """Take the backup (a job on the runner)."""
        plan = self.ferry().plan
        assert plan is not None
        # One step per source file and one for the target (a table each on PostgreSQL).
        self.progress.setRange(0, max(self.items.rowCount(), 1))
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.status.setText("Backing up …")
        self.backup_button.setEnabled(False)
        self.skip_box.setEnabled(False)

        def on_events(events: list[Any]) -> None:
            for event in events:
                if isinstance(event, StepStarted) and event.detail.startswith(
                    ("source ", "target ", "table ")
                ):
                    self.status.setText(f"Backing up: {event.detail}")
                    done = self.progress.value() + 1
                    self.progress.setMaximum(max(self.progress.maximum(), done))
                    self.progress.setValue(done)

        self.runner.events.connect(on_events)

        async def job(emit: Any, cancel: Any) -> Backup:
            try:
                return await create_backup(plan, emit=emit, cancel=cancel)
            finally:
                self.runner.events.disconnect(on_events)

        return self.run_job("backup", job, self._backed_up, self._failed)

    def _backed_up(self, backup: Any) -> None:
        assert isinstance(backup, Backup)
        self.ferry().backup = backup
        self.progress.setValue(self.progress.maximum())
        self.items.set_rows(
            [
                [
                    item.get("role", ""),
                    str(item.get("original") or item.get("table") or item.get("stored", "")),
                    human_size(int(item.get("size", 0) or 0)),
                    str(item.get("sha256", ""))[:16],
                ]
                for item in backup.manifest.get("items", [])
            ]
        )
        self.where.setText(f"Backup <b>{backup.id}</b> in {backup.path}")
        self.status.setText(
            f"Done: {backup.files} files, {human_size(backup.total_bytes)}, manifest SHA-256 "
            f"{backup.manifest_sha256[:16]}…"
        )
        self.skip_box.setEnabled(False)
        self.backups.refresh(self.ferry().plan)

    def cancelling(self) -> None:
        self.status.setText("Cancelling: removing the unfinished backup …")

    def _failed(self, exc: BaseException) -> None:
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.backup_button.setEnabled(True)
        self.skip_box.setEnabled(True)
        if isinstance(exc, Cancelled):
            self.status.setText(f"<b>{exc.message}</b>")
        else:
            self.status.setText(f"The backup failed: {exc}")
