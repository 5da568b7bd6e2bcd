"""The Preview page's *Merged sources* tab: per merge source what each input gave, and the rows
its deletion rule keeps out of the target. Plain data from ``RunResult.merges``; no SQL here."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtWidgets import QLabel, QTableView, QVBoxLayout, QWidget

from ..models import RowsModel
from .base import table_view, wrapped_label

INPUT_HEADERS = ["merge source", "input", "rows", "only here", "values won", "repeated keys"]
DELETION_HEADERS = ["merge source", "row treated as deleted"]


def input_rows(merges: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per input of every merge source."""
    return [
        [merge["source"], entry["table"], entry["rows"], entry["only_here"], entry["won"],
         entry["duplicates"]]
        for merge in merges
        for entry in merge["inputs"]
    ]  # fmt: skip


def deletion_rows(merges: list[dict[str, Any]]) -> list[list[Any]]:
    """One row per listed deletion (the report keeps the first 50 of each source)."""
    return [[merge["source"], key] for merge in merges for key in merge["deleted_keys"]]


def summary_text(merges: list[dict[str, Any]]) -> str:
    """A sentence per merge source: rows merged, rows deleted and the rule that decided."""
    lines = []
    for merge in merges:
        line = (
            f"<b>{escape(merge['source'])}</b> (by {escape(', '.join(merge['key']))}): "
            f"{merge['rows']:,} merged rows, {merge['in_all']:,} held by every input, "
            f"<b>{merge['deleted']:,}</b> treated as deletions"
        )
        if merge["deletion_rule"]:
            line += f" — {escape(merge['deletion_rule'])}"
        lines.append(line + ".")
    return "<br>".join(lines)


class MergesTab(QWidget):
    """What each merged input contributed, and which rows count as deletions."""

    def __init__(self) -> None:
        super().__init__()
        self.summary: QLabel = wrapped_label()
        self.inputs = RowsModel(INPUT_HEADERS)
        self.deletions = RowsModel(DELETION_HEADERS)
        self.inputs_view: QTableView = table_view(self.inputs)
        self.deletions_view: QTableView = table_view(self.deletions)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.inputs_view, 1)
        layout.addWidget(wrapped_label("Rows the deletion rule keeps out of the target:"))
        layout.addWidget(self.deletions_view, 2)  # the longer list gets the room

    def set_merges(self, merges: list[dict[str, Any]]) -> None:
        """Show a run's ``merges``."""
        self.summary.setText(summary_text(merges))
        self.inputs.set_rows(input_rows(merges))
        self.deletions.set_rows(deletion_rows(merges))
