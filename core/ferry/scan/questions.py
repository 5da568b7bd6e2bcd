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

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import PlanError
from ..plan import Plan, QuestionSpec, TableSpec, load_plan, save_plan
from ..results import RunResult

_SECTIONS = ("target", "options", "backup", "report")
_LISTS = ("tables", "sources")


class OpenQuestionsError(PlanError):
    """The plan still has open questions; preview and migrate wait for their answers."""


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
    _apply(plan, settings_for(asked, choice, where), where)
    asked.answer = choice
    return asked


def takes_value(asked: QuestionSpec) -> bool:
    """Whether the question's answer may be the operator's own value besides its choices."""
    return bool(asked.value_sets)


def settings_for(asked: QuestionSpec, choice: str, where: str = "") -> dict[str, Any]:
    """The plan settings answering ``choice`` sets: the choice's ``sets``, or for a value
    (a question that takes one) its ``value_sets`` with the value in place of ``{answer}``."""
    if choice in asked.choices or not asked.value_sets:
        return asked.sets.get(choice, {})
    return {path: _filled(v, choice, where or asked.id) for path, v in asked.value_sets.items()}


def _filled(setting: Any, value: str, where: str) -> Any:
    if setting == VALUE:
        return value
    if setting == VALUE_MAP:
        return value_map(value, where)
    if setting == VALUE_JSON:
        return json_value(value, where)
    if isinstance(setting, dict):
        return {k: _filled(v, value, where) for k, v in setting.items()}
    return setting


#: where an answer's value goes in ``value_sets``: as it is, or read as ``NAME=VALUE, …``
VALUE = "{answer}"
VALUE_MAP = "{answer:map}"
VALUE_JSON = "{answer:json}"


def json_value(text: str, where: str) -> Any:
    """The answer read as JSON (``{}``, ``[]``, ``"n/a"``); a PlanError when it is not."""
    try:
        return json.loads(text)
    except ValueError:
        raise PlanError(
            f"{where}: {text!r} is not a JSON value",
            hint='Answer with JSON: {} or [] or "text" (in quotes).',
        ) from None


def value_map(text: str, where: str) -> dict[str, str]:
    """``"boolean=bool, integer=int"`` as a map; a PlanError names a pair without ``=``."""
    pairs: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise PlanError(
                f"{where}: {part.strip()!r} is not NAME=VALUE",
                hint="Answer with pairs like boolean=bool, integer=int (comma-separated).",
            )
        pairs[name.strip()] = value.strip()
    return pairs


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


def apply_answers(plan: Plan, origin: str = "plan") -> None:
    """Check every choice's ``sets`` names real settings with valid values, and apply the
    answered choices over the plan's keys (called when a plan is loaded)."""
    for asked in plan.questions:
        for choice, settings in asked.sets.items():
            where = f"{origin}: question {asked.id!r}, choice {choice!r}"
            if choice == asked.answer:
                _apply(plan, settings, where)
            else:
                _apply(plan.model_copy(deep=True), settings, where)
        if asked.answer and asked.answer not in asked.choices:
            where = f"{origin}: question {asked.id!r}, answer {asked.answer!r}"
            _apply(plan, settings_for(asked, asked.answer, where), where)


def _apply(plan: Plan, settings: dict[str, Any], where: str) -> None:
    """Set ``settings`` (dotted paths) in ``plan``; a PlanError names a bad path or value."""
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for path, value in settings.items():
        parts = path.split(".")
        if len(parts) == 2 and parts[0] == "tables" and isinstance(value, dict):
            # a whole [[tables]] entry (a table the draft could not feed without the answer)
            _put_table(plan, parts[1], value, where)
        elif len(parts) == 3 and parts[0] in _LISTS:
            groups[(parts[0], parts[1])][parts[2]] = value
        elif len(parts) == 4 and parts[0] in _LISTS:
            # one entry of a map setting (sources.videos.prefer.analysis): the others stay
            entry = groups[(parts[0], parts[1])].setdefault(parts[2], _Entries())
            entry[parts[3]] = value
        elif len(parts) == 5 and parts[0] in _LISTS:
            # one key of one entry (tables.settings.columns.value_type.default): its other
            # keys, and the other entries, stay
            entry = groups[(parts[0], parts[1])].setdefault(parts[2], _Entries())
            inner = entry.setdefault(parts[3], _Entries())
            if not isinstance(inner, _Entries):
                raise PlanError(f"{where}: {path!r} sets a key of a setting given whole")
            inner[parts[4]] = value
        elif len(parts) == 2 and parts[0] in _SECTIONS:
            groups[(parts[0], "")][parts[1]] = value
        else:
            raise PlanError(
                f"{where}: {path!r} is not a plan setting",
                hint="Name one as tables.NAME (a whole entry), tables.NAME.KEY, "
                "sources.NAME.KEY[.ENTRY[.KEY]] or target/options.KEY.",
            )
    for (section, name), changes in groups.items():
        try:
            if not name:
                old: BaseModel = getattr(plan, section)
                setattr(plan, section, _changed(old, changes))
                continue
            entries: list[Any] = getattr(plan, section)
            index = next((i for i, e in enumerate(entries) if e.name == name), None)
            if index is None:
                raise PlanError(f"{where}: the plan has no {section[:-1]} named {name!r}")
            entries[index] = _changed(entries[index], changes)
        except ValidationError as exc:
            owner = f"{section}.{name}" if name else section
            problems = "; ".join(
                ".".join([owner, *(str(p) for p in e["loc"])])
                + ": "
                + e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            )
            raise PlanError(
                f"{where}: {problems}",
                hint="Fix the question's sets: each names a plan key and a valid value.",
            ) from None


def _put_table(plan: Plan, name: str, entry: dict[str, Any], where: str) -> None:
    """Add the ``[[tables]]`` entry ``entry`` called ``name`` (replacing one of that name)."""
    if entry.get("name", name) != name:
        raise PlanError(f"{where}: tables.{name} sets an entry named {entry.get('name')!r}")
    try:
        table = TableSpec.model_validate({**entry, "name": name})
    except ValidationError as exc:
        problems = "; ".join(
            ".".join([f"tables.{name}", *(str(p) for p in e["loc"])])
            + ": "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise PlanError(
            f"{where}: {problems}",
            hint="Fix the question's sets: each names a plan key and a valid value.",
        ) from None
    root = table.source.split(".", 1)[0]
    if root not in {s.name for s in plan.sources}:
        raise PlanError(f"{where}: tables.{name} reads source {table.source!r}, which is none")
    at = next((i for i, t in enumerate(plan.tables) if t.name == name), None)
    if at is None:
        plan.tables = [*plan.tables, table]
    else:  # answered again, or loaded with the entry already written: it stays where it is
        plan.tables = [*plan.tables[:at], table, *plan.tables[at + 1 :]]


class _Entries(dict[str, Any]):
    """Entries set in a map setting, merged into the map the plan already has."""


def _changed(model: BaseModel, changes: dict[str, Any]) -> BaseModel:
    data = model.model_dump(by_alias=True, exclude_unset=True)
    for name, value in changes.items():
        data[name] = _merged(data.get(name), value)
    return type(model).model_validate(data)


def _merged(old: Any, value: Any) -> Any:
    """``value`` over ``old``: entries set one by one (:class:`_Entries`) merge, the rest
    replaces."""
    if not isinstance(value, _Entries):
        return value
    base = dict(old) if isinstance(old, dict) else {}
    for key, item in value.items():
        base[key] = _merged(base.get(key), item)
    return base
