"""SQLite text columns whose table declares them JSON (``CHECK (JSON_VALID(col) ...)``, as
Django's ``JSONField`` makes them), which a PostgreSQL target gets as ``jsonb``.

On PostgreSQL the same app makes such a column ``jsonb`` and queries it with jsonb's
operators (``data__key=`` is ``data -> 'key'``): a ``text`` column fails those lookups
(``operator does not exist: text -> unknown``). The table's own CHECK says every value is
JSON, so ``ferry init`` drafts ``types.col = "json"`` for a PostgreSQL target, with a note.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .typefindings import TypeFinding

if TYPE_CHECKING:
    from ..sources import SourceTable


def declared_json(table: SourceTable, column: str) -> TypeFinding | None:
    """The finding for ``column`` when one of the table's CHECKs is ``JSON_VALID(column)``."""
    if table.shape is None:
        return None
    named = re.escape(column)
    called = re.compile(
        rf"\bJSON_VALID\s*\(\s*(\"{named}\"|`{named}`|\[{named}\]|{named})\s*\)", re.I
    )
    if not any(called.search(expression) for _, expression in table.shape.checks):
        return None
    return TypeFinding(
        table.name,
        column,
        "json",
        f"column {column!r} is declared JSON (CHECK JSON_VALID, as Django's JSONField makes "
        f'it): types.{column} = "json" makes it PostgreSQL jsonb, as the app makes it there '
        "(its lookups use jsonb's operators: on text they fail)",
        for_postgres=True,
    )
