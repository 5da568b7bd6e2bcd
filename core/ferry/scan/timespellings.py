"""``ferry init``: a text field that spells one moment two ways, feeding a date/time column.

Apps that changed how they store a time leave a column holding ISO timestamps in some rows
and epoch numbers written as text (``'1761678000'``) in others. The scan calls such a field
text (its values are of mixed kinds), but when it feeds an existing date/time column it is
that column's time in two spellings: the draft gives the column ``cast = "timestamp"`` (or
``"date"``), which reads ISO text and numbers as epoch seconds (milliseconds from 10^10 on),
with a note counting each spelling. Only when every value reads so and every number gives a
plausible moment (1971-2100, :mod:`ferry.values.epochs`): otherwise the field stays as scanned.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import ColumnSpec, SourceSpec, TableSpec
from ..values.epochs import PLAUSIBLE_FROM, PLAUSIBLE_UNTIL
from ..values.logical import CastError, parse_timestamp
from .checkfold import existing_tables_fed, fed_columns
from .draftfill import sample_rows

if TYPE_CHECKING:
    from ..shape.schema import TableInfo

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_TIMES = ("timestamp", "datetime", "date")
_SAMPLE = 100_000
_SHOWN = 2


def read_time_spellings(
    tables: list[TableSpec],
    sources: list[SourceSpec],
    existing: dict[str, TableInfo],
    folder: Path,
) -> None:
    """Draft ``cast`` for a date/time column fed by text that mixes epoch numbers and ISO."""
    for spec, info, source in existing_tables_fed(tables, sources, existing):
        given = fed_columns(spec, info)
        candidates = {
            name: column
            for name, column in given.items()
            if name in info.columns
            and info.columns[name].type in _TIMES
            and column.from_
            and column.model_fields_set <= {"from_"}
        }
        if not candidates:
            continue
        rows = sample_rows(source, sources, folder, spec.source, _SAMPLE)
        for name, column in candidates.items():
            field_name = column.from_ or ""
            counted = _spellings([row.get(field_name) for row in rows])
            if counted is None:
                continue
            numbers, iso = counted
            type_ = info.columns[name].type
            spec.columns[name] = ColumnSpec.model_validate({"from": field_name, "cast": type_})
            spec.notes = [
                n for n in spec.notes if not n.startswith(f"column {field_name!r} holds mixed")
            ]
            shown = ", ".join(repr(v) for v in numbers[:_SHOWN])
            spec.notes.append(
                f"column {name!r} is a {type_} column and field {field_name!r} spells its time "
                f"two ways: {len(iso)} ISO text and {len(numbers)} numbers as text ({shown}"
                f"{', …' if len(numbers) > _SHOWN else ''}), each a plausible epoch time: "
                f'cast = "{type_}" reads both (numbers as epoch seconds, milliseconds from '
                "10^10 on)"
            )


def _spellings(values: list[Any]) -> tuple[list[str], list[str]] | None:
    """(numbers as text, ISO text) when every present value is one of them and there are
    numbers; None otherwise (another kind of value, or a number no plausible epoch time)."""
    numbers: list[str] = []
    iso: list[str] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            moment = parse_timestamp(value)
        except CastError:
            return None
        if _NUMBER.fullmatch(value.strip()):
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            if not PLAUSIBLE_FROM <= aware < PLAUSIBLE_UNTIL:
                return None
            numbers.append(value)
        else:
            iso.append(value)
    return (numbers, iso) if numbers else None


__all__ = ["read_time_spellings"]
