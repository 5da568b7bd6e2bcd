"""Text that holds JSON, going into a ``json`` / ``jsonb`` column the target already has.

An app that keeps its documents as plain ``TEXT`` in SQLite (n8n's ``workflow_entity.nodes``,
TypeORM's ``simple-json``) makes the same column ``json`` on PostgreSQL. Written as it is read,
each text went in as one JSON *string* (``"[{\\"parameters\\": …}]"``), not as the document it
holds: ``verify`` passed (the text comes back the same) while the app, reading an array, found
a string (n8n: ``nodes.find is not a function``, no migrated workflow ran). So ``ferry init``
drafts ``parse_json = true`` for such a column, with a note: each text is stored as the
document it holds, and a text that is not JSON is rejected, naming its row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..planspecs import ColumnSpec

if TYPE_CHECKING:
    from ..planspecs import TableSpec
    from ..shape.schema import TableInfo
    from ..sources import SourceTable


def parse_json_into_json_columns(
    tables: list[TableSpec], existing: dict[str, TableInfo], sources: dict[str, SourceTable]
) -> None:
    """For each drafted table the target already has, parse the source's text that goes into
    a JSON column of it (``parse_json``), noting each column on the table."""
    for spec in tables:
        info = existing.get(spec.name)
        source = sources.get(spec.source)
        if info is None or source is None:
            continue
        parsed: list[str] = []
        for name, column in info.columns.items():
            if column.type != "json" or column.generated:
                continue
            setting = spec.columns.get(name)
            origin = setting.from_ if setting is not None else name
            if origin is None or source.columns.get(origin) != "text":
                continue  # a constant, or a source column read as JSON (or not text) already
            if setting is None:
                spec.columns[name] = ColumnSpec.model_validate({"from": origin, "parse_json": True})
            elif setting.parse_json or setting.json_path:
                continue
            else:
                setting.parse_json = True
            parsed.append(name)
        if parsed:
            spec.notes.append(
                f"{_listed(parsed)} {'is' if len(parsed) == 1 else 'are'} json in the target and "
                "text in the source: parse_json = true stores each text as the document it "
                "holds (without it, as one JSON string: the app would read a string where it "
                "wrote an object); a text that is not JSON is rejected, naming its row"
            )


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    more = f" (and {len(names) - 5} more)" if len(names) > 5 else ""
    return f"column{'s' if len(names) > 1 else ''} {shown}{more}"
