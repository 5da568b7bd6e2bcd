"""What a run keeps of its print books at its end (:mod:`ferry.load.delta`): the prints of
the tables it loaded with nothing left out, whole or as a patch of a delta's changes
(:mod:`ferry.load.printpatch`); and what an attempt leaves beside the target's transaction,
dropped when it ends or starts over."""

from __future__ import annotations

from typing import Any

from ..native.apart import discard
from ..targets import Target
from .delta import DeltaLoad
from .pagemaps import keep_page_map
from .printbook import PrintBook
from .printfile import PrintFile
from .printpatch import patch_of
from .rerun import may_fingerprint
from .route import Route, RunView
from .rowprints import (
    PrintsEntry,
    ensure_print_tables,
    forget_prints,
    keep_prints,
    restate_prints,
    table_state,
)


async def keep_run_prints(
    run: RunView, target: Target, routes: list[Route], kept: dict[str, PrintsEntry]
) -> None:
    """Keep the prints of the tables this run loaded with nothing left out (their rows as
    read, from one snapshot: they agree with what was written even if the source changed
    since) and forget the old ones of the tables it loaded otherwise. Tables it changed
    nothing in keep theirs as they are."""
    keep: list[tuple[Route, PrintBook, PrintFile]] = []
    forget: list[str] = []
    restate: list[Route] = []
    changed = {change.source for change in run.result.source_changes}
    for route in routes:
        name, book = route.info.name, route.prints
        if name in kept and (route.decision.mode == "unchanged" or _nothing_changed(route)):
            if book is not None and book.pages is not None and book.pages != book.kept_pages:
                # the same rows on other pages (a VACUUM): the next run compares these
                await keep_page_map(target, name, book.pages)
            # the kept prints still describe the table; the file's counter moves on
            if "counter" in kept[name].state and route.decision.mode == "delta":
                restate.append(route)
            continue
        # an unchanged table was read not at all: its book is empty, not the table's prints
        # (kept, they made the next run a delta against nothing, deleting no vanished row)
        read = route.decision.mode != "unchanged"
        prints = book.result() if book is not None and read else None
        # printed on a side connection: its snapshot is the load's only if nothing wrote
        moved = book is not None and book.side and route.spec.source.split(".")[0] in changed
        if book is not None and prints is not None and may_fingerprint(route.result) and not moved:
            keep.append((route, book, prints))
        else:
            forget.append(name)
    for route in restate:
        await restate_prints(
            target,
            route.info.name,
            await table_state(target, route.info.name, list(route.info.columns)),
        )
    if keep:
        await ensure_print_tables(target)
    await forget_prints(target, forget)
    for route, book, prints in keep:
        strategy = route.strategy
        if isinstance(strategy, DeltaLoad):
            state = await strategy.table_state(target, route)
        else:
            state = await _first_state(target, route)
        entry = PrintsEntry(
            route.info.name,
            run.result.run_id,
            run.result.plan_hash,
            route.spec.source,
            book.field,
            len(prints),
            state,
            book.form,
        )
        patch = patch_of(book, prints) if isinstance(strategy, DeltaLoad) else None
        await keep_prints(target, entry, prints, patch)
        if book.pages is not None:
            await keep_page_map(target, route.info.name, book.pages)


def close_books(routes: list[Route]) -> None:
    """Drop the temporary files of the print books of ``routes`` (the run is over, or
    starts over)."""
    for route in routes:
        if route.prints is not None:
            route.prints.close()


async def discard_attempt(routes: list[Route]) -> None:
    """What an attempt of a run leaves beside the target's transaction: the tables it loaded
    apart (:func:`ferry.native.apart.discard`) and its print books' files."""
    try:
        await discard(routes)
    finally:
        close_books(routes)


def _nothing_changed(route: Route) -> bool:
    """A delta load that found every row as kept and wrote nothing."""
    book, result = route.prints, route.result
    return (
        isinstance(route.strategy, DeltaLoad)
        and book is not None
        and book.whole
        and not book.repeated
        and not book.changed
        and not result.deleted
        and len(book.mine) == len(book.seen)
        and not (result.inserted or result.updated or result.rejected or result.skipped)
    )


async def _first_state(target: Target, route: Route) -> dict[str, Any]:
    """The table's state after a load that was not a delta."""
    if target.capabilities.row_versions:
        found = await route.strategy.row_state(target, route)
        if found is not None:
            rows, xmins = found
            return {"rows": rows, "xmins": xmins}
    return await table_state(target, route.info.name, list(route.info.columns))


__all__ = ["close_books", "discard_attempt", "keep_run_prints"]
