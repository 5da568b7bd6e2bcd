"""Finish: what happened, where the reports are, what to do next."""

from __future__ import annotations

import shutil
from html import escape
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

from ferry.api import log_path

from ..workspacechoice import workspace_html
from .base import FerryPage

#: conflicts listed by key on the page (the report lists them all)
_MAX_CONFLICTS = 20


class FinishPage(FerryPage):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Finished")
        self.summary = QTextBrowser()
        self.summary.setOpenExternalLinks(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        # The log file, for a support request: "Save log…" copies it where the operator says.
        row = QHBoxLayout()
        self.log_label = QLabel()
        self.log_label.setWordWrap(True)
        self.save_log_button = QPushButton("Save &log…")
        self.save_log_button.clicked.connect(self._ask_save_log)
        row.addWidget(self.log_label, 1)
        row.addWidget(self.save_log_button)
        layout.addLayout(row)

    def nextId(self) -> int:
        return -1  # the last page (the cutover and run history pages come after it by number)

    def initializePage(self) -> None:
        self.summary.setHtml(self.summary_html())
        self.log_label.setText(f"Log file: {log_path()}")
        self.save_log_button.setEnabled(log_path().is_file())

    def _ask_save_log(self) -> None:
        dest, _ = QFileDialog.getSaveFileName(self, "Save Ferry's log", "ferry.log")
        if dest:
            self.save_log(Path(dest))

    def save_log(self, dest: Path) -> bool:
        """Copy the log file to ``dest``; False (with a message box) when it cannot."""
        try:
            shutil.copyfile(log_path(), dest)
        except OSError as exc:
            QMessageBox.warning(self, "Save log", f"The log could not be copied to {dest}: {exc}")
            return False
        return True

    def summary_html(self) -> str:
        """The summary as HTML."""
        w = self.ferry()
        parts: list[str] = []
        if w.plan_path is not None:
            parts.append(f"<p>Plan: <code>{escape(str(w.plan_path))}</code></p>")
            if w.plan is not None:
                parts.append(f"<p>{workspace_html(w.plan, w.plan_path)}</p>")
        if w.backup is not None:
            parts.append(
                f"<p>Backup <b>{escape(w.backup.id)}</b> in <code>{escape(str(w.backup.path))}"
                "</code></p>"
            )
        elif w.backup_skipped:
            parts.append("<p>No backup was taken (skipped).</p>")
        run = w.run_result
        if run is not None:
            rows = "".join(
                f"<tr><td>{escape(t.name)}</td><td>{escape(t.source)}</td>"
                f"<td align=right>{t.inserted:,}</td><td align=right>{t.updated:,}</td>"
                f"<td align=right>{t.unchanged:,}</td><td align=right>{t.conflicts:,}</td>"
                f"<td align=right>{t.rejected:,}</td></tr>"
                for t in run.tables
            )
            parts.append(
                f"<p>Run <b>{escape(run.run_id)}</b> into <code>{escape(run.target)}</code> "
                f"({run.seconds:.1f} s)</p><table cellpadding=3><tr><th>table</th><th>source</th>"
                f"<th>inserted</th><th>updated</th><th>unchanged</th><th>conflicts</th>"
                f"<th>rejected</th></tr>"
                f"{rows}</table>"
            )
            parts.append(self.conflicts_html())
            if run.report_path:
                parts.append(self._link("Migration report", run.report_path))
        synced = w.sync_result
        if synced is not None:
            parts.append(
                f"<p>Kept in sync: {len(synced.cycles)} cycle(s), each journaled; "
                f"{escape(synced.freeze_line())}.</p>"
            )
        cut = w.cutover_result
        if cut is not None:
            parts.append(
                f"<p>Cutover: <b>{escape(cut.verdict or cut.status)}</b> (freeze window "
                f"{cut.seconds:.1f} s). Point the application at "
                f"<code>{escape(cut.switch_to)}</code>.</p>"
            )
            if cut.reverse_plan:
                parts.append(f"<p>Reverse plan: <code>{escape(cut.reverse_plan)}</code></p>")
            if cut.report_path:
                parts.append(self._link("Cutover report", cut.report_path))
        verified = w.verify_result
        if verified is not None:
            parts.append(f"<p>Verification: <b>{verified.verdict}</b></p>")
            if verified.report_path:
                parts.append(self._link("Verification report", verified.report_path))
        if w.rollback_result is not None:
            parts.append(f"<p>Rolled back to backup {escape(w.rollback_result.backup_id)}.</p>")
        plan = escape(str(w.plan_path or "ferry.toml"))
        parts.append(
            "<h3>Next steps</h3><ul>"
            "<li>Point the app at the new database and start it.</li>"
            f"<li>If the app kept writing, run the wizard or <code>ferry migrate {plan}</code> "
            "again: only the changes are applied.</li>"
            f"<li>To undo: <code>ferry rollback {plan} --sources</code>.</li></ul>"
        )
        return "".join(parts)

    def conflicts_html(self) -> str:
        """The rows whose target values were kept (conflicts), by key, with the source's values
        not applied: from the run's diffs, else the preview's of the same plan ("" if none)."""
        w = self.ferry()
        run = w.run_result
        if run is None or not sum(t.conflicts for t in run.tables):
            return ""
        diffs = run.diffs or (w.preview_result.diffs if w.preview_result is not None else [])
        kept = [d for d in diffs if d.decision != "update"]
        total = sum(t.conflicts for t in run.tables)
        items = "".join(
            f"<li><b>{escape(d.table)}</b> {escape(d.key)}: "
            + "; ".join(
                f"{escape(c.column)} kept {escape(repr(c.before))} "
                f"(source {escape(repr(c.after))} not applied)"
                for c in d.changes
            )
            + "</li>"
            for d in kept[:_MAX_CONFLICTS]
        )
        more = total - min(len(kept), _MAX_CONFLICTS)
        rest = f"<p>… and {more:,} more: see the migration report.</p>" if more > 0 else ""
        return (
            f'<h3 style="color:#b35c00">{total:,} conflicts: the target kept its values</h3>'
            f"<ul>{items}</ul>{rest}"
        )

    @staticmethod
    def _link(label: str, path: str) -> str:
        from PySide6.QtCore import QUrl

        url = QUrl.fromLocalFile(path).toString()
        return f'<p>{label}: <a href="{escape(url)}">{escape(path)}</a></p>'
