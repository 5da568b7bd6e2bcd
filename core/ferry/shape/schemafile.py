"""Reading a ``schema.sql`` named in a plan into single statements."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from ..errors import PlanError
from ..safety.inputlimits import MAX_SCHEMA_BYTES, mib, read_up_to

# What can hide a semicolon from the SQLite statement splitter: quoted text and names, comments.
# An unterminated quote or comment matches nothing here; complete_statement then never says
# the rest is complete, and the rest runs as one statement (and fails with SQLite's reason).
_SQLITE_TOKEN = re.compile(
    r"""'[^']*'|"[^"]*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?(?:\*/|\Z)|;""", re.S
)
# Transaction control at the top of a schema file (as `sqlite3 db .dump` writes it): Ferry runs
# the whole schema inside its own transaction, so these must not end that one early.
_TRANSACTION = re.compile(r"(BEGIN|COMMIT|END|START\s+TRANSACTION)\b[\w\s]*;?", re.I)


def _split_sqlite(text: str) -> list[str]:
    """Statements as the ``sqlite3`` shell reads them: a semicolon outside quotes and comments
    ends a statement once SQLite says it is complete (a trigger body ends at ``END;``)."""
    statements: list[str] = []
    start = 0
    for match in _SQLITE_TOKEN.finditer(text):
        if match.group() != ";":
            continue
        end = match.end()
        if sqlite3.complete_statement(text[start:end]):
            statements.append(text[start:end])
            start = end
    if text[start:].strip():
        statements.append(text[start:])
    return statements


def split_statements(text: str, dialect: str) -> list[str]:
    """Split SQL into statements; SQLite trigger bodies and PostgreSQL ``$$`` bodies stay whole.

    Several statements on one line are split; statements that are only comments, and
    transaction control (``BEGIN``, ``COMMIT``, ``END``), are left out.
    """
    import sqlparse  # only a plan naming a schema file needs it: not loaded for every run

    statements = _split_sqlite(text) if dialect == "sqlite" else sqlparse.split(text)
    cleaned = []
    for statement in statements:
        bare = sqlparse.format(statement, strip_comments=True).strip()
        if bare and bare != ";" and not _TRANSACTION.fullmatch(bare):
            cleaned.append(statement.strip())
    return cleaned


def read_schema_file(path: Path, dialect: str) -> list[str]:
    """The statements of a schema file, or a PlanError naming the file."""
    try:
        raw = read_up_to(path, MAX_SCHEMA_BYTES)
        if raw is None:
            raise PlanError(
                f"schema file {path} is larger than {mib(MAX_SCHEMA_BYTES)}, Ferry's limit for "
                "a schema file",
                hint="Point [target] schema at a file of CREATE statements only.",
            )
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise PlanError(
            f"schema file {path} does not exist", hint="Fix [target] schema in the plan."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read schema file {path}: {exc}") from None
    return split_statements(text, dialect)
