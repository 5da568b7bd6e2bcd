"""Row prints of a SQLite source table read from its file's pages
(:mod:`ferry.sources.sqlitepages`): a leaf page as the last run left it holds the kept rows of
its range, noted at C speed; only the cells of changed leaves are parsed and compared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sources.sqlitepages import DeltaScan, PagesUnreadable, SideScan
from .printfile import PrintFile
from .route import Route

if TYPE_CHECKING:
    from ..sources.sqlite import SqliteSource


def page_prints(
    reader: SqliteSource,
    route: Route,
    origin: str,
    side: tuple[PrintFile, SideScan] | None = None,
    scanned: DeltaScan | None = None,
) -> list[int]:
    """Print the rows of ``route``'s SQLite source table (``origin``) from the file's pages
    into its book; the keys of the rows to load (new or changed; none listed in a first
    run, which loads every row). ``side``: what a process of
    its own read of them (a first run, while a native load reads on the reader's
    connection). ``scanned``: the leaves a process of its own compared with the kept map in
    the reader's snapshot (:class:`ferry.sources.sqlitepages.SideDelta`; a reason why not:
    scanned here). Raises :class:`ferry.sources.sqlitepages.PagesUnreadable` before noting
    any row."""
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
    if book.kept is None:  # nothing to compare with: every row is loaded
        # into a file as they are parsed, a window at a time (held whole: 16 bytes a row)
        found = PrintFile()
        try:
            _, book.pages = reader.scan_pages(origin, None, found.extend)
        except BaseException:
            found.close()
            raise
        book.adopt(found)  # (keys ascending: the scan checked)
        return []
    if scanned is not None and not isinstance(scanned, str):
        leaves, pages = scanned
    else:
        leaves, pages = reader.scan_pages(origin, book.kept_pages)
    book.pages = pages
    return book.note_leaves(leaves)


__all__ = ["page_prints"]
