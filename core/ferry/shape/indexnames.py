"""Names of the indexes Ferry creates, where the source's own name is taken in the target.

An index's name shares its schema's namespace with every table, view, sequence and index
(PostgreSQL: exactly; SQLite: whatever the case). A source index may be named like another
table of the app, like an index of a second source file, like a table of the target; folding
to lower case (``identifiers = "lower"``) or PostgreSQL's 63 bytes can make two names equal.
Ferry names each index after its table and columns instead (``<table>_<cols>_idx``, a short
hash of the source's name added when even that is taken, at most 63 bytes) and lists the
change (``index T.X created as Y: name taken by table Z``) in ``check``, the preview and the
report. Decided once the tables and views exist, against the target's live catalog.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from ..capabilities import TargetCapabilities
from ..targets import Target
from .carried import SchemaObject
from .ddl import index_sql
from .namefold import is_plain, shortened
from .schema import TableInfo


async def taken_names(target: Target) -> dict[str, str]:
    """Name (as :func:`_key` compares it) -> what holds it (``table customer``)."""
    caps = target.capabilities
    return {name_key(name, caps): f"{kind} {name}" for name, kind in await target.names_taken()}


def name_key(name: str, caps: TargetCapabilities) -> str:
    """How the target compares names: SQLite ignores (ASCII) case, PostgreSQL does not."""
    return name.lower() if caps.case_blind_names else name


def wanted_name(name: str, caps: TargetCapabilities, fold: bool) -> str:
    """The source's index name as the target spells it (folded, shortened on PostgreSQL);
    a target that compares names ignoring case takes it as it is."""
    if caps.case_blind_names:
        return name
    return _fit(name.lower() if fold and is_plain(name) else name, caps)


def _columns_part(parts: tuple[str, ...]) -> str:
    """``"a" DESC``, ``(lower("b"))`` -> ``a_lower_b``: the index's columns for its name."""
    words = []
    for part in parts:
        text = re.sub(r"\s+(ASC|DESC)$", "", part, flags=re.I)
        words.append(re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower() or "expr")
    return "_".join(words)


def _fit(name: str, caps: TargetCapabilities) -> str:
    return shortened(name) if caps.max_identifier_bytes else name


def _candidates(
    table: str, parts: tuple[str, ...], source_name: str, caps: TargetCapabilities
) -> list[str]:
    """``<table>_<cols>_idx``, then the same with a short hash of the source's name."""
    columns = _columns_part(parts)
    digest = hashlib.sha256(source_name.encode("utf-8")).hexdigest()[:6]
    return [
        _fit(f"{table}_{columns}_idx", caps),
        _fit(f"{table}_{columns}_{digest}_idx", caps),
    ]


async def settle_index_names(
    target: Target, created: dict[str, TableInfo], fold: bool
) -> list[SchemaObject]:
    """Give each index of the ``created`` tables a name free in the target (the source's
    when it is); an entry for each index that got another name, saying why."""
    caps = target.capabilities
    taken = await taken_names(target)
    changed: list[SchemaObject] = []
    for table, info in created.items():
        if info.shape is None:
            continue
        settled = []
        for index in info.shape.indexes:
            wanted = wanted_name(index.name, caps, fold)
            name, why = wanted, ""
            holder = taken.get(name_key(wanted, caps))
            if holder is not None:
                why = f"name taken by {holder}"
                options = _candidates(table, index.parts, index.name, caps)
                name = next((c for c in options if name_key(c, caps) not in taken), "")
                number = 2
                while not name:  # both taken: numbered, still deterministic
                    candidate = _fit(f"{options[0][:55]}_{number}", caps)
                    name = candidate if name_key(candidate, caps) not in taken else ""
                    number += 1
            elif wanted != index.name and wanted.lower() != index.name.lower():
                why = "longer than PostgreSQL's 63 bytes"
            taken[name_key(name, caps)] = f"index {name}"
            made = replace(index, name=name)
            settled.append(made)
            if why:
                changed.append(
                    SchemaObject(
                        "index",
                        f"{table}.{index.name}",
                        "translated",
                        f"created as {name}: {why}",
                        index_sql(table, made),
                    )
                )
        info.shape.indexes = settled
    return changed
