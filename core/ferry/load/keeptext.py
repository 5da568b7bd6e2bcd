"""Timestamp columns whose source text a run copies as it is (:func:`keep_text_columns`),
decided with the table's route (:mod:`ferry.load.routes`)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from ..plan import TableSpec
from ..shape.schema import TableInfo
from ..targets import Target
from ..values.fastcells import keep_text
from ..values.targetstyles import TableStyles
from ..values.transform import PLAIN_FIELDS, RowMapper
from .route import RunView


def keep_text_columns(
    run: RunView,
    target: Target,
    spec: TableSpec,
    info: TableInfo,
    mapper: RowMapper,
    adapters: list[Any],
    styles: TableStyles,
) -> set[str]:
    """Timestamp columns a SQLite source feeds a target that stores values as their text
    (SQLite) without any transform, where no style is chosen: their ISO text is copied as
    the app wrote it (byte for byte), not respelled (with a zone for naive times in the plan,
    it is converted). Their adapters in ``adapters`` are replaced."""
    reader = run.readers.get(spec.source.split(".", 1)[0])
    if (
        not target.capabilities.stores_value_text
        or reader is None
        or not reader.capabilities.sqlite_file
        or spec.hook
        or run.plan.options.zone is not UTC
    ):
        return set()
    kept = set()
    for index, column in enumerate(mapper.mapped_columns()):
        column_spec = column.spec
        if (
            column.type == "timestamp"
            and info.columns[column.name].type == "timestamp"
            and column_spec.from_ is not None
            and column.steps is None
            and column_spec.model_fields_set <= PLAIN_FIELDS
            and column.name not in styles.chosen
        ):
            adapters[index] = keep_text(adapters[index])
            kept.add(column.name)
    return kept


__all__ = ["keep_text_columns"]
