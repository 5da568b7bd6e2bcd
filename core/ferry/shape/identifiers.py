"""SQL identifiers from data and plans, always quoted: a name is never SQL."""

from __future__ import annotations


def quote(name: str) -> str:
    """``name`` as a quoted identifier for SQLite and PostgreSQL (``a"b`` -> ``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'
