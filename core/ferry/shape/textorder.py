"""The order text sorts in: SQLite compares a column without ``COLLATE`` byte by byte
(``BINARY``); a PostgreSQL database by its own collation, byte order only for ``C``, ``POSIX``
and ``C.UTF-8``.

Under a language's collation (glibc ``en_US.UTF-8``, ICU ``en-US``: the default of many
servers) the same ``ORDER BY``, ``<``, ``min()`` give other answers: moving a Trac project, its
ticket query sorted by summary listed ``_underscore``, ``alpha``, ``Beta`` where SQLite gave
``Beta``, ``Zeta``, ``_underscore``, ``alpha``, and ``summary > 'Ticket'`` counted other rows.
The values are the same, so nothing else tells: each created text column whose source
compared it byte by byte is named (``text order``, not carried) when the target sorts
otherwise, with the two orders of a few probe words, and how to keep the source's. Ferry does
not add ``COLLATE "C"`` to every column by itself: which order the app should have from now on
is its owner's choice (a list shown to people usually wants the language's, ``alpha`` before
``Beta``), and the database's collation is chosen when it is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .carried import TEXT_ORDER, SchemaObject

if TYPE_CHECKING:
    from ..sources.base import SourceTable
    from ..targets.base import Target
    from .schema import TableInfo

#: words whose byte order differs from a language's: case, punctuation, an accent
PROBE = ["B", "a", "_a", "Z", "é"]


async def text_order_objects(
    target: Target, created: list[tuple[TableInfo, SourceTable]]
) -> list[SchemaObject]:
    """A ``text order`` entry per created text column, of a source comparing text byte by
    byte and with no collation of its own, when the target sorts text otherwise."""
    columns = [
        f"{info.name}.{column.name}"
        for info, source in created
        if source.text_order == "bytes"
        for column in info.columns.values()
        if column.type == "text" and not column.collation
    ]
    if not columns:
        return []
    theirs, collation = await target.sorted_text(PROBE)
    ours = sorted(PROBE, key=lambda v: v.encode())
    if theirs == ours:
        return []
    detail = (
        f"the source compares text byte by byte ({' < '.join(ours)}); the target sorts it "
        f"by its collation {collation} ({' < '.join(theirs)}), so ORDER BY, <, >, min() and "
        "max() on it can give another order. To keep the source's, create the database with a "
        "byte-order collation (createdb --locale=C.UTF-8 --template=template0) or give the "
        'column COLLATE "C"'
    )
    return [SchemaObject(TEXT_ORDER, name, "not carried", detail) for name in columns]


__all__ = ["PROBE", "text_order_objects"]
