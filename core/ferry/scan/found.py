"""What ``ferry init`` found, as the scan and the shapes and copies it recognises share it:
a found source, and the names drafted for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..plan import SourceSpec
from ..shape.typefindings import TypeFinding
from ..sources import SourceTable
from ..values.epochs import NumberFinding
from ..values.textbytes import Census
from .keyfinder import KeyFinding


@dataclass
class FoundSource:
    """A source ``ferry init`` found: what it is, how big, how many rows per table."""

    spec: SourceSpec
    files: list[Path]
    size: int
    tables: list[SourceTable] = field(default_factory=list)
    problem: str = ""
    #: numbers in date/time columns of a SQLite source (:mod:`ferry.values.epochs`)
    numbers: list[NumberFinding] = field(default_factory=list)
    #: text that is not UTF-8 the read met (SQLite): table -> column -> census
    invalid_text: dict[str, dict[str, Census]] = field(default_factory=dict)
    #: an input of a merge source :mod:`ferry.scan.shapes` drafted: it feeds no table of its own
    consumed: bool = False
    #: notes for the tables this source feeds (a recognised shape's evidence)
    notes: list[str] = field(default_factory=list)
    #: tables of the source that hold no data of the app's own, left out of the draft: a
    #: SQLite full-text index and its shadow tables; (table, what it is)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    #: columns whose values call for another type than the declared one (SQLite)
    type_choices: list[TypeFinding] = field(default_factory=list)
    #: ``(table, column, zeros, ones)``: declared-integer columns of 0s and 1s (a question
    #: for PostgreSQL targets: :mod:`ferry.scan.flagquestions`)
    flags: list[tuple[str, str, int, int]] = field(default_factory=list)
    #: tables of a database source that declare no primary key: what their data offers as one
    keys: dict[str, KeyFinding] = field(default_factory=dict)
    #: what the reviewer should know about the source itself (a PostgreSQL source's other
    #: schemas), for the draft's comments and ``init``'s output
    remarks: list[str] = field(default_factory=list)
    #: the name its one table is drafted under where not the source's: a merge source named
    #: ``meta_2`` beside a source ``meta`` still feeds a table ``meta`` (:mod:`.copies`)
    table_name: str = ""

    @property
    def rows(self) -> int:
        """Rows over all of the source's tables."""
        return sum(t.row_estimate or 0 for t in self.tables)


def identifier(text: str) -> str:
    """A plain SQL-friendly name: ``Heartbeat Polling.txt`` -> ``heartbeat_polling_txt``."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_").lower()
    if not name:
        name = "data"
    return f"t_{name}" if name[0].isdigit() else name


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... if ``taken`` has it; the name returned is taken."""
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate
