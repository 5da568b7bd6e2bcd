"""A plan's answered questions applied over its own keys: each choice's ``sets`` (or, for a
question taking the operator's own value, its ``value_sets``) names plan settings
(``tables.NAME`` as a whole entry, ``tables.NAME.KEY``, ``sources.NAME.KEY[.ENTRY[.KEY]]``,
``target/options.KEY``).

:mod:`ferry.plan` applies them when a plan loads, :mod:`ferry.scan.questions` when one is
answered. Only the plan's types are needed from :mod:`ferry.plan`, so the two do not import
each other at run time.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any, get_args

from pydantic import BaseModel, ValidationError

from .errors import PlanError

if TYPE_CHECKING:
    from .plan import Plan, QuestionSpec

_SECTIONS = ("target", "options", "backup", "report")
_LISTS = ("tables", "sources")


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


def apply_answers(plan: Plan, origin: str = "plan") -> None:
    """Check every choice's ``sets`` names real settings with valid values, and apply the
    answered choices over the plan's keys (called when a plan is loaded)."""
    for asked in plan.questions:
        for choice, settings in asked.sets.items():
            where = f"{origin}: question {asked.id!r}, choice {choice!r}"
            if choice == asked.answer:
                apply_settings(plan, settings, where)
            else:
                apply_settings(plan.model_copy(deep=True), settings, where)
        if asked.answer and asked.answer not in asked.choices:
            where = f"{origin}: question {asked.id!r}, answer {asked.answer!r}"
            apply_settings(plan, settings_for(asked, asked.answer, where), where)


def apply_settings(plan: Plan, settings: dict[str, Any], where: str) -> None:
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
        table_type = get_args(type(plan).model_fields["tables"].annotation)[0]
        table = table_type.model_validate({**entry, "name": name})
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
