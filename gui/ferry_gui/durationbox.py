"""A choice of a few durations in seconds (the sync interval, the cutover's settle time).

A drop-down rather than a spin box: like the Backup page's "keep" box, it never clips its text
at the wizard's smallest size, and a handful of round figures is what an operator picks from.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox, QWidget


def duration_label(seconds: int) -> str:
    """``0 s``, ``30 s``, ``2 min``, ``1 h``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


class DurationBox(QComboBox):
    """Whole seconds from ``choices``; :meth:`set_seconds` adds another when asked for one."""

    def __init__(self, choices: Sequence[int], default: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for seconds in choices:
            self.addItem(duration_label(seconds), seconds)
        self.set_seconds(default)

    def seconds(self) -> int:
        """The chosen duration."""
        return int(self.currentData())

    def set_seconds(self, seconds: int) -> None:
        """Choose ``seconds`` (added in its place among the choices when missing)."""
        index = self.findData(seconds)
        if index < 0:
            index = next(
                (i for i in range(self.count()) if int(self.itemData(i)) > seconds), self.count()
            )
            self.insertItem(index, duration_label(seconds), seconds)
        self.setCurrentIndex(index)
