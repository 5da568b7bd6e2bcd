"""What a database move carries: every schema object Ferry creates, translates or leaves out.

One list serves ``ferry check``, the preview and the report, so all three name the same
things: a table or view created as it was (``carried``), a column type or collation that
changed on the way (``translated``, with ``old → new``), and what the target does not get
(``not carried``, with the reason). Each entry may hold the DDL that creates it, so the
schema steps (tables, views; indexes and constraints use the same hook) are shown in the
order they run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["carried", "translated", "not carried"]

#: the order entries are shown in
STATUSES: tuple[Status, ...] = ("carried", "translated", "not carried")


@dataclass
class SchemaObject:
    """One object of a moved schema and what became of it.

    ``kind`` is ``table``, ``view``, ``trigger``, ``column type``, ``collation`` (and, for
    other schema steps, ``index``, ``constraint``...); ``name`` the object
    (``invoice.total`` for a column); ``detail`` the translation (``DATETIME → timestamptz``)
    or the reason it is not carried; ``sql`` the statement that creates it, if any.
    """

    kind: str
    name: str
    status: Status
    detail: str = ""
    sql: str = ""

    def line(self) -> str:
        """One line for a terminal or a log: ``view v_sales: not carried (reason)``."""
        text = f"{self.kind} {self.name}: {self.status}"
        return f"{text} ({self.detail})" if self.detail else text

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def by_status(objects: list[SchemaObject], status: Status) -> list[SchemaObject]:
    """The entries of one status, in their order."""
    return [o for o in objects if o.status == status]
