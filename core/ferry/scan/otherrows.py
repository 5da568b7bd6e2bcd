"""``ferry init`` on a target whose rows under the source's keys are other rows.

An app started once on the new database writes its own rows there: JupyterHub its admin
users, its roles from the configuration, its OAuth clients, numbered 1, 2, … in the order it
made them. The source numbers other rows so: id 1 is ``user05`` in the target and ``user00``
in the source, role 5 ``announcer`` here and ``teaching-assistant`` there. Merged by key
(conflict ``update``), each target row became the source's row of the same id, and the
target's rows referencing it followed: the hub's service kept its role assignment ``(1, 5)``,
now to ``teaching-assistant``, a role it never had (and ``verify`` passed: every source row
was there). A unique column (``name``) holding another value under the same key tells the
rows apart; the table is then asked about (``T.conflict``): ``keep`` (the default, and the
draft meanwhile: conflict ``insert``) keeps the target's rows, ``replace`` deletes them in the
run (those referencing them go by their foreign keys) and loads the source's, ``update``
overwrites by key.
"""

from __future__ import annotations

from typing import Any

from ..plan import QuestionSpec, TableSpec, TargetSpec
from ..shape.schema import TableInfo
from ..targets import open_target, quote

_SHOWN = 3


def natural_columns(info: TableInfo, key: list[str], feeds: dict[str, str]) -> list[str]:
    """The target's one-column unique constraints beside the key that the source feeds: what
    names a row apart from its number (a user's ``name``, a client's ``identifier``)."""
    found = [u[0] for u in info.unique if len(u) == 1 and u[0] not in key and u[0] in feeds]
    # a name tells the operator most (a user's name before its random cookie_id)
    return sorted(found, key=lambda c: "name" not in c.lower())


def differing(columns: list[str], target_row: dict[str, Any], source_row: dict[str, Any]) -> str:
    """How the two rows of one key differ in ``columns`` ("" when in none: the same row)."""
    for column in columns:
        mine, theirs = target_row.get(column), source_row.get(column)
        if mine is not None and theirs is not None and str(mine) != str(theirs):
            return f"{column} {str(mine)!r} in the target, {str(theirs)!r} in the source"
    return ""


async def count_referencing(
    target: TargetSpec,
    target_base: Any,
    existing: dict[str, TableInfo],
    table: str,
    key: list[str],
    keys: list[tuple[str, ...]],
) -> list[str]:
    """The target's rows of other tables whose one-column foreign key references ``keys`` of
    ``table``: ``"user_role_map.user_id: 4 rows"`` per such column."""
    if len(key) != 1 or not keys:
        return []
    handle = open_target(target, target_base)
    await handle.open(read_only=True)
    found: list[str] = []
    try:
        for child in existing.values():
            for fk in child.foreign_keys:
                if fk.ref_table != table or list(fk.ref_columns) != key or len(fk.columns) != 1:
                    continue
                column = fk.columns[0]
                rows = await handle.fetch_dicts(
                    f"SELECT {quote(column)} AS k FROM {quote(child.name)} "
                    f"WHERE {quote(column)} IS NOT NULL",
                    f"read {child.name}",
                )
                wanted = {k[0] for k in keys}
                count = sum(1 for r in rows if str(r["k"]) in wanted)
                if count:
                    found.append(f"{child.name}.{column}: {count} row{'s' * (count != 1)}")
    finally:
        await handle.finish(commit=False)
    return found


def other_rows_question(
    spec: TableSpec, key: list[str], others: dict[tuple[str, ...], str], referencing: list[str]
) -> QuestionSpec:
    """Ask how to meet a table whose target rows under the source's keys are other rows."""
    table = spec.name
    shown = [f"{'/'.join(k)}: {said}" for k, said in list(others.items())[:_SHOWN]]
    evidence = [
        f"{len(others)} of the source's keys ({', '.join(key)}) name other rows in the "
        f"target's {table}: " + "; ".join(shown) + ("; …" if len(others) > _SHOWN else "")
    ]
    if referencing:
        evidence.append(
            "the target's rows referencing them: " + ", ".join(referencing) + " (overwritten "
            "by key, they would belong to the source's rows)"
        )
    return QuestionSpec(
        id=f"{table}.conflict",
        ask=(
            f"{table} in the target holds other rows under the source's keys (the app's own, "
            "from its first start?): keep them (keep: the source's rows under those keys are "
            "not loaded), delete them and load the source's (replace: rows referencing them "
            "go by their foreign keys; the app writes its own again at its next start), or "
            "overwrite them by key (update: what references them then references the "
            "source's rows)?"
        ),
        evidence=evidence,
        choices=["keep", "replace", "update"],
        default="keep",
        sets={
            "keep": {f"tables.{table}.conflict": "insert"},
            "replace": {f"tables.{table}.mode": "replace"},
            "update": {f"tables.{table}.conflict": "update"},
        },
    )


__all__ = ["count_referencing", "differing", "natural_columns", "other_rows_question"]
