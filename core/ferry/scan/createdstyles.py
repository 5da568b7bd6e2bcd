"""``ferry init``: a SQLite table Ferry creates keeps the app's own spelling of its times.

A JSON or JSON Lines app writes its times as text (``"2024-05-01T10:00:13.974"``); a SQLite
target stores a timestamp in its default spelling (``2024-05-01 10:00:13.974000``) unless the
table's ``styles`` names another. The same moment, but an app that compares its times as text
(a sync cursor ``WHERE at > ?``, a sort) finds ``' '`` before ``'T'``, and its later writes in
its own spelling would mix two in one column. So when every sampled value of a timestamp field
shows one spelling other than the default, the draft names it in ``styles`` with a note. A
database source is left alone: a SQLite → SQLite copy keeps the text byte for byte, and a
PostgreSQL source's timestamps are values, not text.
"""

from __future__ import annotations

from pathlib import Path

from ..plan import SourceSpec, TableSpec
from ..values.textstyles import DEFAULT_STYLES, sample_styles
from .draftfill import sample_rows

#: records sampled per table (the styles of a few thousand values are the file's)
_SAMPLE = 5_000


def keep_time_spellings(tables: list[TableSpec], sources: list[SourceSpec], folder: Path) -> None:
    """Draft ``styles`` for each timestamp column a JSON source's text feeds with one
    spelling throughout (a SQLite target's tables Ferry creates)."""
    by_name = {s.name: s for s in sources}
    for spec in tables:
        if not spec.types:  # an existing table: its own rows decide (table_styles)
            continue
        columns = [c for c, t in spec.types.items() if t == "timestamp" and c not in spec.styles]
        source = by_name.get(spec.source) or by_name.get(spec.source.split(".", 1)[0])
        if not columns or source is None or source.kind not in ("json", "jsonl"):
            continue
        rows = sample_rows(source, sources, folder, spec.source, _SAMPLE)
        for column in columns:
            given = spec.columns.get(column)
            field_name = given.from_ if given is not None and given.from_ else column
            texts = [v for row in rows if isinstance(v := row.get(field_name), str)]
            found = sample_styles("timestamp", texts)
            if len(found) != 1 or sum(found.values()) != len(texts):
                continue  # several spellings, or values no style reads: the default
            ((style, count),) = found.items()
            if style == DEFAULT_STYLES["timestamp"]:
                continue
            shown = style.describe()
            spec.styles[column] = shown
            spec.notes.append(
                f"column {column!r}: the app spells its times {texts[0]!r} (all {count:,} "
                f"values sampled): styles.{column} = {shown!r} writes them so in "
                "the new SQLite table, as the app compares them as text (the default spelling "
                f"is {DEFAULT_STYLES['timestamp'].describe()!r})"
            )


__all__ = ["keep_time_spellings"]
