"""The SQL of an undo, as pure functions of a run's image table (:mod:`ferry.load.changesql`).

Image rows are aliased ``i`` and the app table's rows ``t``. A row the app changed after the
run is one whose fingerprint is no longer the one the run left (``ferry_after``), or that is
gone although the run updated it, or that is back although the run deleted it: every statement
that writes leaves such rows alone by the same conditions, so ``keep_app_changes`` needs no list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..load.changesql import (
    ACTION,
    AFTER,
    CHANGES,
    DELETE,
    INSERT,
    RESTORED,
    RUN,
    UPDATE,
    VERSION,
    ImageTable,
    fingerprint,
)
from ..load.mergesql import join
from ..shape.identifiers import quote


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _run(image: ImageTable, run_id: str, action: str | None = None, alias: str = "i") -> str:
    where = f"{alias}.{RUN} = {_literal(run_id)}"
    return where + (f" AND {alias}.{ACTION} = '{action}'" if action else "")


def _keys(image: ImageTable, alias: str) -> str:
    return ", ".join(f"{alias}.{quote(k)}" for k in image.key)


def later_runs(image: ImageTable, run_id: str, later: Sequence[str]) -> str | None:
    """The later runs (of ``later``) that changed a row this run changed."""
    if not later:
        return None
    runs = ", ".join(_literal(r) for r in later)
    return (
        f"SELECT DISTINCT l.{RUN} AS run_id FROM {image.ref} AS l JOIN {image.ref} AS i "
        f"ON {join(image.key, 'l', 'i')} WHERE {_run(image, run_id)} AND l.{RUN} IN ({runs}) "
        f"AND l.{ACTION} IN {CHANGES} AND i.{ACTION} IN {CHANGES}"
    )


def app_changes(image: ImageTable, run_id: str, limit: int) -> str:
    """Keys (and the run's action) of up to ``limit`` rows the app changed after the run."""
    first = f"t.{quote(image.key[0])}"
    now = fingerprint(image.dialect, "t", image.columns)
    return (
        f"SELECT {_keys(image, 'i')}, i.{ACTION} AS ferry_action "
        f"FROM {image.ref} AS i LEFT JOIN {quote(image.table)} AS t ON {join(image.key, 'i', 't')} "
        f"WHERE {_run(image, run_id)} AND ("
        f"(i.{ACTION} = '{INSERT}' AND {first} IS NOT NULL AND {now} <> i.{AFTER}) OR "
        f"(i.{ACTION} = '{UPDATE}' AND ({first} IS NULL OR {now} <> i.{AFTER})) OR "
        f"(i.{ACTION} = '{DELETE}' AND {first} IS NOT NULL)) LIMIT {int(limit)}"
    )


def count_actions(image: ImageTable, run_id: str) -> str:
    """How many rows of each action the run recorded (``ferry_action``, ``n``)."""
    return (
        f"SELECT i.{ACTION} AS ferry_action, COUNT(*) AS n FROM {image.ref} AS i "
        f"WHERE {_run(image, run_id)} GROUP BY i.{ACTION}"
    )


def listed(image: ImageTable, run_id: str, limit: int) -> str:
    """Keys and actions of up to ``limit`` recorded rows (what a preview shows)."""
    return (
        f"SELECT {_keys(image, 'i')}, i.{ACTION} AS ferry_action FROM {image.ref} AS i "
        f"WHERE {_run(image, run_id)} ORDER BY {_keys(image, 'i')} LIMIT {int(limit)}"
    )


# -- the undo, in foreign-key order ------------------------------------------------------------
def restore_deleted(image: ImageTable, run_id: str, computed: Collection[str] = ()) -> str:
    """Put back the rows the run deleted (unless the app wrote a row with the key since);
    ``computed`` columns the target computes from the others are left to it."""
    written = [c for c in image.columns if c not in computed]
    cols = ", ".join(quote(c) for c in written)
    icols = ", ".join(f"i.{quote(c)}" for c in written)
    return (
        f"INSERT INTO {quote(image.table)} ({cols}) SELECT {icols} FROM {image.ref} AS i "
        f"WHERE {_run(image, run_id, DELETE)} AND NOT EXISTS "
        f"(SELECT 1 FROM {quote(image.table)} AS t WHERE {join(image.key, 'i', 't')})"
    )


def restore_updated(image: ImageTable, run_id: str, computed: Collection[str] = ()) -> str | None:
    """Give the rows the run updated their before-images back (those the app left as the
    run wrote them); None when every column is a key column or ``computed`` by the target."""
    sets = ", ".join(
        f"{quote(c)} = i.{quote(c)}"
        for c in image.columns
        if c not in image.key and c not in computed
    )
    if not sets:
        return None
    now = fingerprint(image.dialect, "t", image.columns)
    return (
        f"UPDATE {quote(image.table)} AS t SET {sets} FROM {image.ref} AS i "
        f"WHERE {_run(image, run_id, UPDATE)} AND {join(image.key, 'i', 't')} "
        f"AND {now} = i.{AFTER}"
    )


def delete_inserted(image: ImageTable, run_id: str, delete_alias: bool) -> str:
    """Delete the rows the run inserted (those the app left as the run wrote them)."""
    table = quote(image.table)
    row = "t" if delete_alias else table
    now = fingerprint(image.dialect, row, image.columns)
    head = f"DELETE FROM {table} AS t" if delete_alias else f"DELETE FROM {table}"
    return (
        f"{head} WHERE EXISTS (SELECT 1 FROM {image.ref} AS i WHERE "
        f"{_run(image, run_id, INSERT)} AND {join(image.key, 'i', row)} AND i.{AFTER} = {now})"
    )


def referencing_rows(
    image: ImageTable,
    run_id: str,
    version: str | None,
    child: str,
    shown: Sequence[str],
    link: Sequence[tuple[str, str]],
    limit: int,
) -> str:
    """``shown`` columns of up to ``limit`` rows of ``child`` whose foreign key (``link``:
    pairs of its column and the referenced column) points at a row this undo is about to
    delete (as :func:`delete_inserted` or :func:`delete_owned` would). A row of the table
    itself that the undo deletes too is not counted."""

    def deleted(alias: str) -> str:
        if version is not None:
            return owned(image, run_id, version, alias)
        now = fingerprint(image.dialect, alias, image.columns)
        return (
            f"EXISTS (SELECT 1 FROM {image.ref} AS i WHERE {_run(image, run_id, INSERT)} AND "
            f"{join(image.key, 'i', alias)} AND i.{AFTER} = {now})"
        )

    on = " AND ".join(f"p.{quote(ref)} = c.{quote(col)}" for col, ref in link)
    own = f" AND NOT {deleted('c')}" if child == image.table else ""
    columns = ", ".join(f"c.{quote(c)}" for c in shown)
    return (
        f"SELECT {columns} FROM {quote(child)} AS c WHERE EXISTS (SELECT 1 FROM "
        f"{quote(image.table)} AS p WHERE {on} AND {deleted('p')}){own} LIMIT {int(limit)}"
    )


# -- the proof -----------------------------------------------------------------------------------
def restored_pairs(image: ImageTable, run_id: str) -> str:
    """Per restored row: its key, the before-image's fingerprint (``want``) and the row's
    fingerprint now (``got``, NULL when missing)."""
    want = fingerprint(image.dialect, "i", image.columns)
    got = fingerprint(image.dialect, "t", image.columns)
    first = f"t.{quote(image.key[0])}"
    return (
        f"SELECT {_keys(image, 'i')}, {want} AS want, "
        f"CASE WHEN {first} IS NULL THEN NULL ELSE {got} END AS got "
        f"FROM {image.ref} AS i LEFT JOIN {quote(image.table)} AS t ON {join(image.key, 'i', 't')} "
        f"WHERE {_run(image, run_id)} AND i.{ACTION} IN ('{UPDATE}', '{DELETE}')"
    )


def inserted_left(image: ImageTable, run_id: str) -> str:
    """Keys of rows the run inserted that the table still holds."""
    return (
        f"SELECT {_keys(image, 'i')} FROM {image.ref} AS i JOIN {quote(image.table)} AS t "
        f"ON {join(image.key, 'i', 't')} WHERE {_run(image, run_id, INSERT)}"
    )


def record_restored(image: ImageTable, run_id: str, owners: dict[str, str]) -> str | None:
    """After undoing ``run_id``: the rows it put back that a first load recorded by row
    version had written (their before-image's version is that load's, ``owners``: version →
    run, or a row an earlier undo gave back to it) now carry the undo's version; say they
    are still that load's rows. Only rows equal to their before-image (not kept ones)."""
    if image.dialect != "postgresql":
        return None
    cases = " ".join(f"WHEN {_literal(v)} THEN {_literal(r)}" for v, r in owners.items() if v)
    earlier = (
        f"(SELECT r.{RUN} FROM {image.ref} AS r WHERE r.{ACTION} = '{RESTORED}' "
        f"AND {join(image.key, 'r', 'i')} AND r.{AFTER} = i.{VERSION} LIMIT 1)"
    )
    owner = f"CASE i.{VERSION} {cases} ELSE {earlier} END" if cases else earlier
    keys = ", ".join(quote(k) for k in image.key)
    same = f"{fingerprint(image.dialect, 't', image.columns)} = " + fingerprint(
        image.dialect, "i", image.columns
    )
    return (
        f"INSERT INTO {image.ref} ({RUN}, {ACTION}, {AFTER}, {keys}) "
        f"SELECT owner, '{RESTORED}', version, {keys} FROM (SELECT {owner} AS owner, "
        f"t.xmin::text AS version, {_keys(image, 'i')} FROM {image.ref} AS i "
        f"JOIN {quote(image.table)} AS t ON {join(image.key, 'i', 't')} "
        f"WHERE {_run(image, run_id)} AND i.{ACTION} IN ('{UPDATE}', '{DELETE}') AND {same}) "
        "AS restored WHERE owner IS NOT NULL"
    )


# -- a first load recorded by row version (PostgreSQL xmin) ------------------------------------
def owned(image: ImageTable, run_id: str, version: str, alias: str = "t") -> str:
    """The row ``alias`` is still as first load ``run_id`` wrote it: it carries the load's
    version, or the one an undo gave it when it put the row back (``restored``)."""
    return (
        f"({alias}.xmin::text = {_literal(version)} OR EXISTS (SELECT 1 FROM {image.ref} AS r "
        f"WHERE r.{RUN} = {_literal(run_id)} AND r.{ACTION} = '{RESTORED}' AND "
        f"{join(image.key, 'r', alias)} AND r.{AFTER} = {alias}.xmin::text))"
    )


def later_runs_versioned(
    image: ImageTable, run_id: str, version: str, later: Sequence[str]
) -> str | None:
    """The later runs (of ``later``) that updated or deleted a row first load ``run_id``
    wrote (their before-image carries its version)."""
    if not later:
        return None
    runs = ", ".join(_literal(r) for r in later)
    return (
        f"SELECT DISTINCT l.{RUN} AS run_id FROM {image.ref} AS l WHERE l.{RUN} IN ({runs}) "
        f"AND l.{ACTION} IN ('{UPDATE}', '{DELETE}') AND (l.{VERSION} = {_literal(version)} "
        f"OR EXISTS (SELECT 1 FROM {image.ref} AS r WHERE r.{RUN} = {_literal(run_id)} AND "
        f"r.{ACTION} = '{RESTORED}' AND {join(image.key, 'r', 'l')} AND r.{AFTER} = l.{VERSION}))"
    )


def _not_later(image: ImageTable, later: Sequence[str], alias: str = "t") -> str:
    if not later:
        return "1 = 1"
    runs = ", ".join(_literal(r) for r in later)
    return (
        f"NOT EXISTS (SELECT 1 FROM {image.ref} AS l WHERE l.{RUN} IN ({runs}) AND "
        f"l.{ACTION} IN ('{INSERT}', '{UPDATE}') AND {join(image.key, 'l', alias)})"
    )


def app_rows(image: ImageTable, run_id: str, version: str, later: Sequence[str], limit: int) -> str:
    """Keys of up to ``limit`` rows of a first-loaded table written since by someone else
    than the load and the ``later`` runs: rows the app inserted or changed (told apart by
    row version only, so both count)."""
    return (
        f"SELECT {_keys(image, 't')} FROM {quote(image.table)} AS t "
        f"WHERE NOT {owned(image, run_id, version)} AND {_not_later(image, later)} "
        f"ORDER BY {_keys(image, 't')} LIMIT {int(limit)}"
    )


def owned_rows(image: ImageTable, run_id: str, version: str, limit: int) -> str:
    """Keys of up to ``limit`` rows the first load wrote that the table still holds."""
    return (
        f"SELECT {_keys(image, 't')} FROM {quote(image.table)} AS t "
        f"WHERE {owned(image, run_id, version)} ORDER BY {_keys(image, 't')} LIMIT {int(limit)}"
    )


def count_owned(image: ImageTable, run_id: str, version: str) -> str:
    """How many rows the first load wrote the table still holds."""
    return f"SELECT COUNT(*) FROM {quote(image.table)} AS t WHERE {owned(image, run_id, version)}"


def delete_owned(image: ImageTable, run_id: str, version: str) -> str:
    """Delete the rows the first load wrote that are still as it wrote them."""
    return f"DELETE FROM {quote(image.table)} AS t WHERE {owned(image, run_id, version)}"


def forget(image: ImageTable, run_id: str) -> str:
    """Drop the run's rows from the image table (the run is undone)."""
    return f"DELETE FROM {image.ref} WHERE {RUN} = {_literal(run_id)}"


__all__ = [
    "app_changes",
    "app_rows",
    "count_actions",
    "count_owned",
    "delete_inserted",
    "delete_owned",
    "forget",
    "inserted_left",
    "later_runs",
    "later_runs_versioned",
    "listed",
    "owned",
    "owned_rows",
    "record_restored",
    "referencing_rows",
    "restore_deleted",
    "restore_updated",
    "restored_pairs",
]
