"""The order text sorts in: SQLite compares a column without ``COLLATE`` byte by byte
(``BINARY``); a PostgreSQL database by its own collation, byte order only for ``C``, ``POSIX``
and ``C.UTF-8``.

Under a language's collation (glibc ``en_US.UTF-8``, ICU ``en-US``: the default of many
servers) the same ``ORDER BY``, ``<``, ``min()`` give other answers: moving a Trac project, its
ticket query sorted by summary listed ``_underscore``, ``alpha``, ``Beta`` where SQLite gave
``Beta``, ``Zeta``, ``_underscore``, ``alpha``, and ``summary > 'Ticket'`` counted other rows;
moved back, the other way round. The values are the same, so nothing else tells: each created
text column whose source sorted it otherwise than the target will is named (``text order``,
not carried), with both orders of a few probe words. Ferry does not add ``COLLATE "C"`` to the
columns by itself: which order the app should have from now on is its owner's choice (a list
shown to people usually wants the language's, ``alpha`` before ``Beta``), and a database's
collation is chosen when it is created. A column with a collation of its own (SQLite's
``NOCASE``, a PostgreSQL column's ``COLLATE``) has its own finding, or none, not this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .carried import TEXT_ORDER, SchemaObject

if TYPE_CHECKING:
    from ..sources.base import SourceTable
    from ..targets.base import Target
    from .schema import TableInfo

#: words whose byte order differs from a language's: case, punctuation, an accent
PROBE = ("B", "a", "_a", "Z", "é")


@dataclass(frozen=True)
class TextOrder:
    """How a database sorts text where a column names no collation: the probe words in its
    order, and the collation's name."""

    words: tuple[str, ...]
    collation: str

    @property
    def in_bytes(self) -> bool:
        """Byte by byte, as SQLite's ``BINARY`` (and PostgreSQL's ``C``)."""
        return self.words == BYTE_ORDER.words

    def spelled(self) -> str:
        """``B < Z < _a < a < é``."""
        return " < ".join(self.words)


#: SQLite's order (``BINARY``)
BYTE_ORDER = TextOrder(tuple(sorted(PROBE, key=str.encode)), "BINARY")

#: the probe words as a PostgreSQL database sorts text a column does not collate itself
PG_ORDER_SQL = "SELECT array_agg(v ORDER BY v) FROM (VALUES {}) AS probe(v)".format(
    ", ".join(f"('{word}')" for word in PROBE)
)
#: the database's row as JSON: its locale's column is daticulocale up to 16, datlocale from 17
PG_DATABASE_SQL = "SELECT to_jsonb(d) FROM pg_database d WHERE datname = current_database()"


def pg_order(words: object, row: object) -> TextOrder:
    """A PostgreSQL database's order from :data:`PG_ORDER_SQL` and :data:`PG_DATABASE_SQL`:
    the collation named by its ICU (or builtin) locale, else libc's ``LC_COLLATE``."""
    info = row if isinstance(row, dict) else {}
    locale = info.get("datlocale") or info.get("daticulocale")
    provider = {"i": "ICU", "b": "builtin"}.get(str(info.get("datlocprovider", "")), "")
    name = f"{locale} ({provider})" if provider and locale else str(info.get("datcollate", ""))
    return TextOrder(tuple(str(w) for w in words) if isinstance(words, list) else (), name)


async def text_order_objects(
    target: Target, created: list[tuple[TableInfo, SourceTable]]
) -> list[SchemaObject]:
    """A ``text order`` entry per created text column with no collation of its own whose
    source sorts text otherwise than the target."""
    theirs: TextOrder | None = None
    found = []
    for info, source in created:
        ours = source.text_order
        if ours is None:
            continue
        columns = [
            c.name
            for c in info.columns.values()
            if c.type == "text" and not c.collation and c.name not in source.collated
        ]
        if not columns:
            continue
        if theirs is None:
            theirs = await target.text_order()
        if theirs.words == ours.words:
            continue
        detail = _detail(ours, theirs)
        found += [
            SchemaObject(TEXT_ORDER, f"{info.name}.{c}", "not carried", detail) for c in columns
        ]
    return found


def _detail(ours: TextOrder, theirs: TextOrder) -> str:
    """Both orders, and how to keep the source's where the target can."""
    source = (
        f"the source compares text byte by byte ({ours.spelled()})"
        if ours.in_bytes
        else f"the source sorts text by its collation {ours.collation} ({ours.spelled()})"
    )
    target = (
        f"the target compares it byte by byte ({theirs.spelled()})"
        if theirs.in_bytes
        else f"the target sorts it by its collation {theirs.collation} ({theirs.spelled()})"
    )
    if ours.in_bytes:
        keep = (
            "To keep the source's, create the database with a byte-order collation (createdb "
            '--locale=C.UTF-8 --template=template0) or give the column COLLATE "C"'
        )
    elif theirs.collation == BYTE_ORDER.collation:  # SQLite: no language collations
        keep = "SQLite has no language collations: an app needing that order sorts it itself"
    else:
        keep = f"To keep the source's, give the target database or column {ours.collation}"
    effect = "so ORDER BY, <, >, min() and max() on it can give another order"
    return f"{source}; {target}, {effect}. {keep}"


__all__ = [
    "BYTE_ORDER",
    "PG_DATABASE_SQL",
    "PG_ORDER_SQL",
    "PROBE",
    "TextOrder",
    "pg_order",
    "text_order_objects",
]
