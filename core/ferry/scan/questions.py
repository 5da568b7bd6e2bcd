"""Open questions: the decisions in a plan only the operator can make.

A plan's ``[[questions]]`` each ask one thing (``ask``), with the evidence that makes it
answerable, its ``choices``, a safe ``default`` (it deletes and overwrites nothing) and what
each choice sets in the plan (``sets``). ``answer = ""`` means open: ``ferry check`` lists it
and fails, preview and migrate refuse to run (exit 3). Answering is one line in the plan
(``answer = "newer"``), a prompt in ``ferry init --interactive``, or :func:`answer_and_save`
(the wizard). The answered choice's ``sets`` apply over the plan's own keys when it is loaded,
and :func:`answer` also writes them into those keys, so the file says what will run.

A question may take a value only the operator knows besides its choices (``value_sets``, as
:mod:`ferry.scan.valuequestions` drafts them): ``answer = "alive"`` then sets ``value_sets`` with
the value in place of ``"{answer}"``. A setting's path may name one key of one entry of a map
(``tables.jobs.columns.lang.default``): the entry's other keys stay; ``tables.NAME`` with a
table's settings adds that whole ``[[tables]]`` entry (:mod:`ferry.scan.hookquestions`).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PlanError
from ..plan import Plan, QuestionSpec, load_plan, save_plan
from ..plansets import apply_settings, settings_for
from ..results import RunResult


class OpenQuestionsError(PlanError):
    """The plan still has open questions; preview and migrate wait for their answers."""


def merged_questions(questions: list[QuestionSpec]) -> list[QuestionSpec]:
    """``questions`` with each id once: a table two sources feed (two files matched to one
    existing table) was asked the same question per source, and the plan refused the draft
    (``question ids must be unique``). The first asking stays; the others' evidence joins it."""
    kept: dict[str, QuestionSpec] = {}
    for asked in questions:
        first = kept.setdefault(asked.id, asked)
        if first is not asked:
            first.evidence += [line for line in asked.evidence if line not in first.evidence]
    return list(kept.values())


def open_questions(plan: Plan) -> list[QuestionSpec]:
    """The plan's questions that have no answer yet, in the plan's order."""
    return [q for q in plan.questions if q.is_open]


def question(plan: Plan, question_id: str) -> QuestionSpec:
    """The question called ``question_id`` (a PlanError naming the known ones if none is)."""
    for asked in plan.questions:
        if asked.id == question_id:
            return asked
    known = ", ".join(q.id for q in plan.questions) or "none"
    raise PlanError(f"the plan has no question {question_id!r} (its questions: {known})")


def answer(plan: Plan, question_id: str, choice: str) -> QuestionSpec:
    """Answer a question in ``plan`` (not saved): its ``answer`` and the settings it sets.
    A question that takes a value (``value_sets``) takes any other non-empty answer too."""
    asked = question(plan, question_id)
    if choice not in asked.choices and not (asked.value_sets and choice):
        raise PlanError(
            f"{choice!r} is not a choice of question {question_id!r}",
            hint=f"Answer one of: {', '.join(asked.choices)}.",
        )
    where = f"question {question_id!r}, answer {choice!r}"
    apply_settings(plan, settings_for(asked, choice, where), where)
    asked.answer = choice
    return asked


def takes_value(asked: QuestionSpec) -> bool:
    """Whether the question's answer may be the operator's own value besides its choices."""
    return bool(asked.value_sets)


def answer_and_save(path: str | Path, question_id: str, choice: str) -> Plan:
    """Answer a question of the plan file at ``path`` and save it; every comment, blank line
    and key order of the file stays (:mod:`ferry.plandoc`). Returns the saved plan."""
    plan = load_plan(path)
    answer(plan, question_id, choice)
    save_plan(plan, path)
    return plan


def describe(asked: QuestionSpec) -> str:
    """One line: the question, its choices (the default marked) and its evidence."""
    choices = ", ".join(f"{c} (default)" if c == asked.default else c for c in asked.choices)
    if asked.value_sets:
        choices += ", or your own value"
    evidence = f" [{'; '.join(asked.evidence)}]" if asked.evidence else ""
    return f"{asked.id}: {asked.ask} Choices: {choices}.{evidence}"


def how_to_answer(asked: QuestionSpec) -> str:
    """The one line to write into the plan, under the question's ``id``."""
    return (
        f'under [[questions]] id = "{asked.id}", write answer = "{asked.default}" '
        "(or another choice)"
    )


def require_answered(plan: Plan) -> None:
    """Refuse to run a plan with open questions: an OpenQuestionsError (exit 3) lists them."""
    waiting = open_questions(plan)
    if not waiting:
        return
    lines = [describe(q) for q in waiting]
    raise OpenQuestionsError(
        f"the plan has {len(waiting)} open question(s): " + ", ".join(q.id for q in waiting),
        hint=f"Answer each in the plan ({how_to_answer(waiting[0])}), "
        "or run `ferry init --interactive`; `ferry check` lists them.",
        details="\n".join(lines),
    )


def effects(plan: Plan, asked: QuestionSpec) -> list[str]:
    """What the question's answer sets (``tables.orders.conflict = "newer"``)."""
    choice = asked.answer or asked.default
    return [f"{path} = {value!r}" for path, value in settings_for(asked, choice).items()]


def changed_tables(asked: QuestionSpec) -> list[str]:
    """The target tables the question's answer changes a setting of."""
    choice = asked.answer or asked.default
    names = [p.split(".")[1] for p in settings_for(asked, choice) if p.startswith("tables.")]
    return list(dict.fromkeys(names))


#: the counts an answer is judged by (``ferry preview --json``'s ``answers``)
EFFECT_COUNTS = ("inserted", "updated", "unchanged", "conflicts")


def answer_counts(asked: QuestionSpec, result: RunResult) -> dict[str, dict[str, int]]:
    """Per table the answer changes that the preview ``result`` counted: its
    :data:`EFFECT_COUNTS` (``{"orders": {"inserted": 1, ...}}``)."""
    counts = {t.name: t.counts() for t in result.tables}
    return {
        name: {k: counts[name][k] for k in EFFECT_COUNTS}
        for name in changed_tables(asked)
        if name in counts
    }
