"""Where in a plan file its problems are: validation errors mapped to lines of the TOML text.

Qt-free. ``ferry.plan.describe_validation_error`` says *what* is wrong and where in the plan's
data (``tables[1] ("jobs").conflict``); this finds the line of the file that holds it: the
``[[tables]]`` header of the second table, then the ``conflict = ...`` line below it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ferry.plan import Plan, describe_validation_error

_HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\"' -]+?)\s*\]?\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"-]+)\s*=")


@dataclass
class PlanProblem:
    """One problem of a plan file: its line (1-based) and what is wrong."""

    line: int
    message: str


def plan_problems(text: str) -> list[PlanProblem]:
    """Every problem of the plan text ``text``, each at its line; [] for a valid plan."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        return [PlanProblem(int(found.group(1)) if found else 1, f"not valid TOML: {exc}")]
    try:
        Plan.model_validate(data)
    except ValidationError as exc:
        messages = describe_validation_error(exc, data)
        lines = text.splitlines()
        return [
            PlanProblem(locate(lines, tuple(error["loc"]), message), message)
            for error, message in zip(exc.errors(), messages, strict=True)
        ]
    return []


def _blocks(lines: list[str]) -> list[tuple[int, str, int]]:
    """(line index, table name, array index or -1) of every ``[x]`` / ``[[x]]`` header."""
    counts: dict[str, int] = {}
    found = []
    for number, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        name = match.group(2).replace('"', "").replace("'", "").replace(" ", "")
        if match.group(1):  # an array of tables: count its entries
            counts[name] = counts.get(name, -1) + 1
            found.append((number, name, counts[name]))
        else:
            found.append((number, name, -1))
    return found


def locate(lines: list[str], loc: tuple[Any, ...], message: str = "") -> int:
    """The 1-based line of ``loc`` (a pydantic error location) in the plan's ``lines``."""
    keys = [str(part) for part in loc if not str(part).startswith("function-")]
    blocks = _blocks(lines)
    start, end = 0, blocks[0][0] if blocks else len(lines)
    rest = keys
    if keys:
        index = int(keys[1]) if len(keys) > 1 and keys[1].isdigit() else -1
        for position, (number, name, entry) in enumerate(blocks):
            if name == keys[0] and entry == index:
                start = number
                end = blocks[position + 1][0] if position + 1 < len(blocks) else len(lines)
                rest = keys[2:] if index >= 0 else keys[1:]
                break
    else:  # a check of the whole plan: the line of the rarest value it quotes (the wrong one)
        where: list[list[int]] = []
        for quoted in re.findall(r"'([^']+)'", message):
            hits = [n for n, line in enumerate(lines) if f'"{quoted}"' in line]
            if hits:
                where.append(hits)
        return min(where, key=len)[0] + 1 if where else 1
    best, best_depth = start, 0
    for number in range(start, end):
        match = _KEY.match(lines[number])
        if not match:
            continue
        dotted = match.group(1).replace('"', "").split(".")
        depth = 0
        for have, want in zip(dotted, rest, strict=False):
            if have != want:
                break
            depth += 1
        if depth > best_depth:
            best, best_depth = number, depth
    return best + 1
