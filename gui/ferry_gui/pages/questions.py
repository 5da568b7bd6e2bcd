"""The Start page's Questions tab: the plan's open questions as a checklist, each with its
evidence and choices; saving a choice writes ``answer = "…"`` into the plan (comments kept)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ferry import FerryError, Plan
from ferry.api import answer_and_save, takes_value
from ferry.plan import QuestionSpec

from ..questionstate import checklist_line, choice_lines, preselected
from .base import wrapped_label


class QuestionsTab(QWidget):
    """Checklist on the left; the selected question's ask, evidence and choices on the right.
    The safe default is pre-selected; only "Save answer" answers (and saves) it."""

    #: the plan as saved after an answer
    saved = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.plan: Plan | None = None
        self.plan_path: Path | None = None
        self.checklist = QListWidget()
        self.checklist.setMaximumWidth(320)
        self.ask = wrapped_label()
        self.evidence = wrapped_label()
        self.choices_box = QWidget()
        self.choices_layout = QVBoxLayout(self.choices_box)
        self.choices_layout.setContentsMargins(12, 0, 0, 0)
        self.choice_group = QButtonGroup(self)
        #: choice name -> its radio button, for the selected question
        self.choice_buttons: dict[str, QRadioButton] = {}
        #: a question that takes the operator's own value: its radio button and field
        self.value_button: QRadioButton | None = None
        self.value_edit: QLineEdit | None = None
        self.save_button = QPushButton("Save &answer")
        self.save_button.setToolTip(
            "Write the selected choice as this question's answer into the plan file "
            "(its comments stay)"
        )
        self.note = wrapped_label()
        detail = QVBoxLayout()
        detail.addWidget(self.ask)
        detail.addWidget(self.evidence)
        detail.addWidget(self.choices_box)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.note, 1)
        detail.addLayout(row)
        detail.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.checklist)
        layout.addLayout(detail, 1)
        self.checklist.currentRowChanged.connect(self.show_question)
        self.save_button.clicked.connect(lambda: self.save_answer())

    def set_plan(self, plan: Plan, path: Path | None, select: int | None = None) -> None:
        """Show ``plan``'s questions; select ``select`` (default: the first open one)."""
        self.plan, self.plan_path = plan, path
        self.checklist.blockSignals(True)
        self.checklist.clear()
        for asked in plan.questions:
            self.checklist.addItem(checklist_line(asked))
        self.checklist.blockSignals(False)
        if select is None:
            select = next((i for i, q in enumerate(plan.questions) if q.is_open), 0)
        if plan.questions:
            self.checklist.setCurrentRow(select)
        self.show_question(self.checklist.currentRow())

    def current(self) -> QuestionSpec | None:
        """The selected question."""
        row = self.checklist.currentRow()
        if self.plan is None or not 0 <= row < len(self.plan.questions):
            return None
        return self.plan.questions[row]

    def show_question(self, _row: int = -1) -> None:
        """Show the selected question: what it asks, its evidence, its choices."""
        for button in self.choice_buttons.values():
            self.choice_group.removeButton(button)
            button.deleteLater()
        self.choice_buttons = {}
        if self.value_button is not None and self.value_edit is not None:
            self.choice_group.removeButton(self.value_button)
            self.value_button.deleteLater()
            self.value_edit.deleteLater()
        self.value_button = self.value_edit = None
        asked = self.current()
        self.save_button.setEnabled(asked is not None)
        if asked is None:
            self.ask.setText("This plan asks nothing.")
            self.evidence.setText("")
            return
        state = "open" if asked.is_open else f"answered: {asked.answer}"
        self.ask.setText(f"<b>{escape(asked.id)}</b> ({escape(state)})<br>{escape(asked.ask)}")
        self.evidence.setText(
            "Evidence:<ul>" + "".join(f"<li>{escape(e)}</li>" for e in asked.evidence) + "</ul>"
            if asked.evidence
            else "Evidence: none recorded."
        )
        for line in choice_lines(asked):
            button = QRadioButton(line.label.replace("&", "&&"))
            self.choice_group.addButton(button)
            self.choices_layout.addWidget(button)
            self.choice_buttons[line.choice] = button
        if takes_value(asked):
            self._add_value_field(asked)
        chosen = preselected(asked)
        if chosen in self.choice_buttons:
            self.choice_buttons[chosen].setChecked(True)
        elif self.value_button is not None and self.value_edit is not None:
            self.value_button.setChecked(True)
            self.value_edit.setText(chosen)
        self.note.setText(
            "The safe default is pre-selected; it counts as the answer once saved."
            if asked.is_open
            else ""
        )

    def _add_value_field(self, asked: QuestionSpec) -> None:
        """A radio button and a field for the operator's own value (the ask says where it
        goes: a column's one value, its default, a list of names)."""
        self.value_button = QRadioButton("your own value:")
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("the value (see the question)")
        self.value_edit.setToolTip(f"Answer {asked.id} with a value of your own")
        self.value_edit.textEdited.connect(lambda _text: self._check_value_button())
        self.choice_group.addButton(self.value_button)
        self.choices_layout.addWidget(self.value_button)
        self.choices_layout.addWidget(self.value_edit)

    def _check_value_button(self) -> None:
        if self.value_button is not None:
            self.value_button.setChecked(True)

    def choose(self, choice: str) -> None:
        """Select ``choice`` of the shown question, or type it as the question's own value
        (one that takes a value; not saved yet)."""
        if choice in self.choice_buttons or self.value_edit is None:
            self.choice_buttons[choice].setChecked(True)
            return
        self.value_edit.setText(choice)
        self._check_value_button()

    def save_answer(self) -> bool:
        """Save the selected choice as the shown question's answer into the plan file."""
        asked = self.current()
        if asked is None or self.plan_path is None:
            return False
        choice = next((c for c, b in self.choice_buttons.items() if b.isChecked()), "")
        if self.value_button is not None and self.value_button.isChecked() and self.value_edit:
            choice = self.value_edit.text().strip()
            if not choice:
                self.note.setText(
                    "<span style='color:#c0392b'>Not saved: type the value first.</span>"
                )
                return False
        row = self.checklist.currentRow()
        try:
            plan = answer_and_save(self.plan_path, asked.id, choice)
        except (FerryError, OSError) as exc:
            self.note.setText(f"<span style='color:#c0392b'>Not saved: {escape(str(exc))}</span>")
            return False
        self.saved.emit(plan)
        waiting = [i for i, q in enumerate(plan.questions) if q.is_open]
        self.set_plan(plan, self.plan_path, waiting[0] if waiting else row)
        self.note.setText(f"Saved answer = “{choice}” for {asked.id} to {self.plan_path}.")
        return True
