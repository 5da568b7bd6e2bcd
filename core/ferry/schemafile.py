"""Reading a ``schema.sql`` named in a plan into single statements."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlparse

from .errors import PlanError


def split_statements(text: str, dialect: str) -> list[str]:
    """Split SQL into statements; SQLite trigger bodies and PostgreSQL ``$$`` bodies stay whole."""
    statements: list[str] = []
    if dialect == "sqlite":
        buffer = ""
        for line in text.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                statements.append(buffer)
                buffer = ""
        if buffer.strip():
            statements.append(buffer)
    else:
        statements = sqlparse.split(text)
    cleaned = []
    for statement in statements:
        bare = sqlparse.format(statement, strip_comments=True).strip()
        if bare and bare != ";":
            cleaned.append(statement.strip())
    return cleaned


def read_schema_file(path: Path, dialect: str) -> list[str]:
    """The statements of a schema file, or a PlanError naming the file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlanError(
            f"schema file {path} does not exist", hint="Fix [target] schema in the plan."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read schema file {path}: {exc}") from None
    return split_statements(text, dialect)
