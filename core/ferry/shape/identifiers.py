"""SQL identifiers from data and plans, always quoted: a name is never SQL."""

from __future__ import annotations


def quote(name: str) -> str:
    """``name`` as a quoted identifier for SQLite and PostgreSQL (``a"b`` -> ``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'


def split_arguments(args: str) -> list[str]:
    """SQL text split at the commas outside quotes and parentheses (a ``CREATE TABLE``'s
    column definitions, a module's arguments)."""
    parts, depth, quote_char, current = [], 0, "", ""
    for char in args:
        if quote_char:
            quote_char = "" if char == quote_char else quote_char
        elif char in "'\"`[":
            quote_char = "]" if char == "[" else char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return [*parts, current]
