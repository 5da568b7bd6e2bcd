"""What is wrong with a plan, in words: one line per problem, naming where it is.

Turns pydantic's validation errors into ``tables[1] ("settings").conflict: must be one of …``
lines, with a "did you mean" for a misspelt key or name.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError


def did_you_mean(word: str, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``word``, or nothing."""
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _location(data: Any, loc: tuple[int | str, ...]) -> str:
    """``tables[1] ("settings").conflict`` from a pydantic error location."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            entry = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                label += f' ("{entry["name"]}")'
            parts.append(label)
            node = entry
        else:
            if item.startswith("function-") or item in ("constrained-str",):
                continue
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``list[TableSpec]``, ``dict[str, ColumnSpec]``,
    ``TargetSpec | None`` ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _known_keys(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed where an unknown key was found (for 'did you mean')."""
    model: type[BaseModel] | None = root
    free_key = False
    for item in loc[:-1]:
        if free_key:  # a key of a mapping of specs (a column name under `columns`)
            free_key = False
            continue
        if model is None or isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return []
        annotation = field.annotation
        free_key = repr(annotation).startswith("dict[")
        models = _models_in(annotation)
        model = models[0] if models else None
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if n != "base_dir"]


def describe_problems(error: ValidationError, data: Any, root: type[BaseModel]) -> list[str]:
    """One readable line per problem of ``data`` validated as ``root``: where it is and what
    is wrong."""
    lines = []
    for problem in error.errors():
        loc = tuple(problem["loc"])
        where = _location(data, loc)
        kind = problem["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            lines.append(f"{where}: unknown key{did_you_mean(key, _known_keys(root, loc))}")
        elif kind == "missing":
            lines.append(f"{where}: required key is missing")
        elif kind == "literal_error":
            expected = problem.get("ctx", {}).get("expected", "")
            lines.append(f"{where}: must be one of {expected} (got {problem['input']!r})")
        else:
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {message}")
    return lines
