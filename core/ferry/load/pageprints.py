"""Row prints of a SQLite source table read from its file's pages
(:mod:`ferry.sources.sqlitepages`): a leaf page as the last run left it holds the kept rows of
its range, noted at C speed; only the cells of changed leaves are parsed and compared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sources.sqlitepages import PagesUnreadable, SideScan
from .printfile import PrintFile
from .route import Route

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource


def page_prints(
    reader: SqliteSource,
    route: Route,
    origin: str,
    side: tuple[PrintFile, SideScan] | None = None,
) -> list[int]:
    """Print the rows of ``route``'s SQLite source table (``origin``) from the file's pages
    into its book; the keys of the rows to load (new or changed; none listed in a first
    run, which loads every row). ``side``: what a process of
    its own read of them (a first run, while a native load reads on the reader's
    connection). Raises :class:`ferry.sources.sqlitepages.PagesUnreadable` before noting any
    row."""
    book = route.prints
    assert book is not None
    if side is not None:
        found, pages = side
        if isinstance(pages, str):
            raise PagesUnreadable(pages)
        book.adopt(found)  # (keys ascending: the scan checked)
        book.side = True
        book.pages = pages
        return []
    leaves, pages = reader.scan_pages(origin, book.kept_pages if book.kept is not None else None)
    book.pages = pages
    if book.kept is None:  # nothing to compare with: every row is loaded
        for leaf in leaves:
            book.note_all(leaf.keys, leaf.prints)
        return []
    changed: list[int] = []
    for leaf in leaves:
        if leaf.kept >= 0:
            book.note_kept(leaf.start, leaf.count)
        else:
            changed += book.note_sorted(list(leaf.keys), list(leaf.prints))
    return changed


__all__ = ["page_prints"]
