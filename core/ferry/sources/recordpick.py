"""One kind of record out of a mixed array, its nested object lifted into the row.

A Django fixture (``manage.py dumpdata``) holds every model in one array, each record
``{"model": "chinook.album", "pk": 1, "fields": {"artist": 1, "title": "..."}}``. A JSON
source with ``select = { model = "chinook.album" }`` and ``unwrap = "fields"`` reads the
albums alone as rows ``{"pk": 1, "artist": 1, "title": "..."}``: records of other kinds are
skipped (not rejected), the selecting fields are no columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import SourceError

_MISSING = object()


class RecordPick:
    """Tells whether a record is of the selected kind and gives its row (a plain dict)."""

    def __init__(
        self,
        select: Mapping[str, Any],
        unwrap: str | None,
        fail: Callable[[str, str], SourceError],
        where: Callable[[Any], str],
    ) -> None:
        self.select = list(select.items())
        self.unwrap = unwrap
        self.dropped = {*select, *([unwrap] if unwrap else [])}
        self.fail, self.where = fail, where

    def __call__(self, record: Any, unit: Any) -> dict[str, Any] | None:
        """The row of ``record`` (at ``unit``, for messages), or None for another kind."""
        if not isinstance(record, dict):
            raise self.fail(f"{self.where(unit)} is not an object", "Every record must be a "
                            "JSON object ({...}) to be selected.")  # fmt: skip
        for field, wanted in self.select:
            value = record.get(field, _MISSING)
            # type too: True == 1 in Python, but a record holding 1 is not one holding true
            if type(value) is not type(wanted) or value != wanted:
                return None
        dropped = self.dropped
        row = {k: v for k, v in record.items() if k not in dropped}
        if self.unwrap is None:
            return row
        inner = record.get(self.unwrap)
        if inner is None:  # no fields (or null): the record's own fields alone
            return row
        if not isinstance(inner, dict):
            raise self.fail(
                f"{self.where(unit)}: {self.unwrap!r} holds {type(inner).__name__}, not an "
                "object of fields",
                "Point unwrap at the field holding each record's object of fields.",
            )
        for name, value in inner.items():
            if name in row:
                raise self.fail(
                    f"{self.where(unit)}: field {name!r} of {self.unwrap!r} clashes with the "
                    f"record's own {name!r}",
                    "Rename one of the two in the file, or leave out unwrap (the object then "
                    "stays one JSON column).",
                )
            row[name] = value
        return row
