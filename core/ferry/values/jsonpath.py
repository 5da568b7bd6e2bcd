"""JSON paths in the subset a plan's ``json_path`` column step reads: ``$``, ``.name``,
``['name']``, ``[0]``, compiled once per column and followed per row."""

from __future__ import annotations

import re
from typing import Any

_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def compile_json_path(path: str) -> list[str | int]:
    """Steps of a JSON path in the subset Ferry reads: ``$``, ``.name``, ``['name']``, ``[0]``."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path {path!r} must start with '$'")
    steps: list[str | int] = []
    rest = path[1:]
    position = 0
    while position < len(rest):
        match = _PATH_TOKEN.match(rest, position)
        if not match:
            raise ValueError(f"JSON path {path!r}: cannot read {rest[position:]!r}")
        name, index, quoted1, quoted2 = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(s for s in (name, quoted1, quoted2) if s is not None))
        position = match.end()
    return steps


def follow_json_path(value: Any, steps: list[str | int]) -> Any:
    """The value at ``steps`` inside ``value``; None where the path does not exist."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
        elif not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value
