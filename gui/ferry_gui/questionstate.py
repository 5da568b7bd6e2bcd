"""The plan's open questions as the wizard shows them (Qt-free, tested without Qt).

The Start page lists every question of the plan as a checklist: answered ones ticked, open
ones not. The safe default is pre-selected but counts as an answer only once the operator
saves it; until every question is answered the wizard stays on Start (the engine refuses
preview and migrate with open questions, exit 3). The Preview page then shows what each answer
set and the counts of the tables it changed (as ``ferry preview`` prints them).
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.api import EFFECT_COUNTS as EFFECT_COUNTS  # the counts an answer is judged by
from ferry.api import answer_counts, effects, open_questions
from ferry.plan import Plan, QuestionSpec
from ferry.results import RunResult


@dataclass(frozen=True)
class ChoiceLine:
    """One choice of a question: its name, the label shown and what it sets."""

    choice: str
    label: str
    sets: str


def checklist_line(asked: QuestionSpec) -> str:
    """The checklist entry: ``☐ orders.conflict — open`` / ``☑ … — answered: newer``."""
    if asked.is_open:
        return f"☐ {asked.id} — open"
    return f"☑ {asked.id} — answered: {asked.answer}"


def choice_lines(asked: QuestionSpec) -> list[ChoiceLine]:
    """The question's choices, the safe default marked, each with the settings it sets."""
    lines = []
    for choice in asked.choices:
        settings = asked.sets.get(choice, {})
        sets = ", ".join(f"{path} = {value!r}" for path, value in settings.items())
        label = f"{choice} (safe default)" if choice == asked.default else choice
        if sets:
            label += f" — sets {sets}"
        lines.append(ChoiceLine(choice, label, sets))
    return lines


def preselected(asked: QuestionSpec) -> str:
    """The choice selected when the question is shown: its answer, else the safe default."""
    return asked.answer or asked.default


def blocked_reason(plan: Plan | None) -> str:
    """Why the wizard cannot go past Start ("" when nothing blocks it)."""
    if plan is None:
        return ""
    waiting = open_questions(plan)
    if not waiting:
        return ""
    ids = ", ".join(q.id for q in waiting)
    return (
        f"{len(waiting)} open question(s) ({ids}): answer each on the Questions tab "
        "(choose, then Save answer) before going on. Preview and migrate do not run while a "
        "question is open; the pre-selected safe default counts only once saved."
    )


def tab_title(plan: Plan | None) -> str:
    """The Questions tab's title, with the number still open."""
    waiting = len(open_questions(plan)) if plan is not None else 0
    return f"&Questions ({waiting})"


def answer_effects(plan: Plan, result: RunResult) -> list[str]:
    """Per answered question, one line: what the answer set and the preview's counts of the
    tables it changed (``answer orders.conflict = newer: sets … (orders: 1 inserted, …)``)."""
    lines = []
    for asked in plan.questions:
        if asked.is_open:
            continue
        tables = "; ".join(
            f"{name}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
            for name, counts in answer_counts(asked, result).items()
        )
        line = f"answer {asked.id} = {asked.answer}: sets {', '.join(effects(plan, asked))}"
        lines.append(line + (f" ({tables})" if tables else ""))
    return lines
