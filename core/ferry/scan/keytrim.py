"""``ferry init``: key values with surrounding spaces.

A text column that identifies a row (the table's ``key``, primary key or a UNIQUE column set)
fed by values some of which carry spaces around them (``' /media/show.mkv'``, a path typed
by hand): loaded as they are, ``'a'`` and ``' a'`` are two rows, and the app, which looks
rows up by the trimmed value, finds neither. The draft gives the column ``ops = ["trim"]``
with a note counting the values, and how many become equal to another value (the later row
wins, the run lists them as duplicates).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from ..plan import SourceSpec, TableSpec
from .checkfold import existing_tables_fed, plain_text_columns, with_changes
from .draftfill import sample_rows

if TYPE_CHECKING:
    from ..shape.schema import TableInfo

_SAMPLE = 100_000
_SHOWN = 3


def trim_key_values(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
) -> None:
    """Draft ``ops = ["trim"]`` for a key or UNIQUE text column whose values carry spaces."""
    for spec, info, source in existing_tables_fed(tables, sources, existing):
        identifying = {*spec.key, *info.primary_key, *(c for u in info.unique for c in u)}
        candidates = {
            name: column
            for name, column in plain_text_columns(spec, info).items()
            if name in identifying
        }
        if not candidates:
            continue
        rows = sample_rows(source, sources, folder, spec.source, _SAMPLE)
        for name, column in candidates.items():
            values = [v for row in rows if isinstance(v := row.get(column.from_ or ""), str)]
            spaced = [v for v in values if v != v.strip()]
            if not spaced:
                continue
            spec.columns[name] = with_changes(column, ops=["trim"])
            trimmed = Counter(v.strip() for v in values)
            merged = sum(n - 1 for n in trimmed.values() if n > 1) - sum(
                n - 1 for n in Counter(values).values() if n > 1
            )
            shown = ", ".join(repr(v) for v in spaced[:_SHOWN])
            spec.notes.append(
                f"column {name!r} identifies a row and {len(spaced)} of {len(values)} values of "
                f"field {column.from_!r} carry surrounding spaces ({shown}"
                f"{', …' if len(spaced) > _SHOWN else ''}): ops = ['trim']"
                + (
                    f"; {merged} of them then equal another value (the later row wins, listed "
                    "as duplicates)"
                    if merged
                    else ""
                )
            )


__all__ = ["trim_key_values"]
