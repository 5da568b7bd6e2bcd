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

#: a text column whose order the target changes (:mod:`ferry.shape.textorder`): one finding
#: names every column sharing the reason, in ``check`` too
TEXT_ORDER = "text order"
#: a column whose NULLs the target sorts at the other end (:mod:`ferry.shape.nullorder`)
NULL_ORDER = "NULL order"
#: kinds whose columns sharing one reason are one finding of ``check`` too
ONE_FINDING = (TEXT_ORDER, NULL_ORDER)
#: kinds whose entries alike but for their name share one row whatever their status
MERGED_KINDS = ("trigger", *ONE_FINDING)

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


def grouped(objects: list[dict[str, Any]]) -> list[tuple[str, str, list[str], str]]:
    """Report rows from plain entries: (status, kind, names, detail), carried first, then
    translated, then not carried; entries alike but for their name share one row (every
    ``INTEGER → bigint`` column on one line)."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for item in objects:
        status, kind = str(item.get("status", "")), str(item.get("kind", ""))
        detail = str(item.get("detail", ""))
        # A table's or view's detail is its own (its source): only translations merge, and
        # the columns sharing one reason (every text column whose order changes).
        merge = status == "translated" or kind in MERGED_KINDS
        key = (status, kind, detail if merge else f"{detail}\0{item.get('name')}")
        rows.setdefault(key, []).append(str(item.get("name", "")))
    order: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
    return [
        (status, kind, names, detail.split("\0")[0])
        for (status, kind, detail), names in sorted(
            rows.items(),
            key=lambda r: order.get(r[0][0], len(order)),
        )
    ]
