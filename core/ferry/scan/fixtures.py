"""``ferry init``: a Django fixture (``manage.py dumpdata``) drafts one table per model.

A fixture is one JSON array holding every model's rows, each record ``{"model":
"chinook.album", "pk": 1, "fields": {"artist": 1, "title": "..."}}``. Read as it is, it is one
table of ``model``, ``pk`` and a JSON ``fields``; here it becomes one source per model
(``select = { model = "chinook.album" }``, ``unwrap = "fields"``, keyed by ``pk``) feeding a
table named as Django names it (``chinook_album``). An integer pk (Django's default ``id``
field) feeds column ``id``; any other pk (a UUID, a natural key) keeps column ``pk``. Lists of
pks (many-to-many fields) stay one JSON column. Foreign keys are not inferred: a fixture
names the related model's pk, not the model.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..plan import ColumnSpec, SourceSpec, TableSpec
from ..sources import open_source
from .found import FoundSource, identifier, unique_name

_FIXTURE_FIELDS = {"model", "pk", "fields"}
_MODEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")


class _Models:
    """Per model of a fixture: its records, and whether every pk is an integer."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.text_pks: set[str] = set()


def _models(item: FoundSource, folder: Path) -> _Models | None:
    """The fixture's models, or None when a record is not ``{model, pk, fields}``."""
    models = _Models()
    reader = open_source(item.spec, folder)
    try:
        for batch in reader.batches(5000):
            if batch.table != item.spec.name:
                return None
            for row in batch.rows:
                if not _is_fixture_record(row):
                    return None
                models.counts[row["model"]] += 1
                if type(row["pk"]) is not int:
                    models.text_pks.add(row["model"])
    finally:
        reader.close()
    return models if models.counts else None


def _is_fixture_record(row: dict[str, Any]) -> bool:
    model = row.get("model")
    return (
        set(row) - {"position"} == _FIXTURE_FIELDS
        and isinstance(model, str)
        and _MODEL.fullmatch(model) is not None
        and isinstance(row["fields"], dict)
        and row["pk"] is not None
        and not isinstance(row["pk"], dict | list)
    )


def _candidate(item: FoundSource) -> bool:
    spec = item.spec
    return (
        not item.problem
        and not item.consumed
        and spec.kind in ("json", "jsonl")
        and spec.root is None
        and spec.shape in ("auto", "records")
        and not spec.select
        and spec.unwrap is None
        and len(item.tables) == 1
        and set(item.tables[0].columns) - {"position"} == _FIXTURE_FIELDS
    )


def split_fixtures(found: list[FoundSource], folder: Path, taken: set[str]) -> None:
    """Replace each Django fixture in ``found`` by one source per model (in place)."""
    for item in [i for i in found if _candidate(i)]:
        models = _models(item, folder)
        if models is None:
            continue
        found.remove(item)  # its models' sources replace it: the plan does not read it whole
        path = item.spec.path or ""
        total = sum(models.counts.values())
        for model in sorted(models.counts):
            spec = SourceSpec(
                name=unique_name(identifier(model.replace(".", "_")), taken),
                kind=item.spec.kind,
                path=item.spec.path,
                select={"model": model},
                unwrap="fields",
                key_column="pk",
            )
            reader = open_source(spec, folder)
            try:
                tables = reader.scan()
            finally:
                reader.close()
            ints = model not in models.text_pks and "id" not in tables[0].columns
            key = "id" if ints else "pk"
            note = (
                f"{Path(path).name} is a Django fixture: {total:,} records of "
                f"{len(models.counts)} models, each {{model, pk, fields}}: one table per model; "
                f"this one is {model!r} ({models.counts[model]:,} records), keyed by its pk "
                f"(column {key!r}); foreign keys are not inferred (a fixture gives the "
                "related pk, not its model): add them in the schema if the app needs them"
            )
            found.append(FoundSource(spec, item.files, item.size, tables=tables, notes=[note]))


def key_fixture_ids(tables: list[TableSpec], found: list[FoundSource]) -> None:
    """A table Ferry creates for a fixture model with integer pks names its key ``id``
    (Django's default primary key field), fed by ``pk``."""
    picked = {
        i.spec.name
        for i in found
        if i.spec.unwrap and i.spec.key_column == "pk" and not i.consumed and not i.problem
    }
    for spec in tables:
        if (
            spec.source not in picked
            or spec.key != ["pk"]
            or spec.types.get("pk") != "integer"
            or "id" in spec.types
            or spec.columns
        ):
            continue
        spec.types = {("id" if name == "pk" else name): t for name, t in spec.types.items()}
        spec.columns = {"id": ColumnSpec.model_validate({"from": "pk"})}
        spec.key = ["id"]
