"""Parents' rows before their children's, when SQLite maps a child itself.

The tables SQLite maps itself (``native``) are loaded first, while the SQLite file is read,
before the rows Python maps (``direct``) are written. An existing target table's foreign keys
are checked at once, so a native child of a table loaded ``direct`` in the same run found its
parent empty: every row was refused and the run started over with the child staged, once per
such table (twelve times for an MLflow tracking database, whose ``experiments`` goes to Python
for its ``workspace`` default). Such a child goes to Python too, after its parent.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..shape.schema import TableInfo

#: the modes whose rows go in before the ordinary read's
_FIRST = frozenset({"native", "parallel", "unchanged"})


def parent_loaded_later(info: TableInfo, earlier: Mapping[str, str]) -> str:
    """Why SQLite may not map ``info``'s rows itself: it references a table whose rows this
    run writes later (``earlier``: the target tables of the specs decided before, with their
    load mode); "" when none does. A table the run creates gets its foreign keys after."""
    if info.created:
        return ""
    for key in info.foreign_keys:
        mode = earlier.get(key.ref_table)
        if key.ref_table != info.name and mode is not None and mode not in _FIRST:
            return (
                f"it references {key.ref_table}, whose rows go in after those SQLite maps ({mode})"
            )
    return ""


__all__ = ["parent_loaded_later"]
