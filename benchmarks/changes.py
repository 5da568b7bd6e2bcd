"""What the delta lines change between a first run and its re-run, and how they check it.

1% of each table's rows change, deterministically: four fifths of them updated in place
(spread over the whole table), one fifth new rows with ids past the last. The checks are
exact: the re-run must count exactly those rows updated and inserted, and exactly those rows
may differ in the target afterwards (PostgreSQL: carry a new row version; SQLite: differ from
a copy of the target taken before).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

from .data import TABLES, Dataset

SHARE = 0.01
NEW_SHARE = 0.2  # of the changed rows, new ones

#: per table: the column an update changes, and how
_UPDATES = {
    "content": "title = title || ' (edited)'",
    "execution_steps": "status = 'edited', duration_ms = coalesce(duration_ms, 0) + 1",
}
_COPIES = {
    # a new row copies an existing one under a new id (no source_url: it is unique)
    "content": "INSERT INTO content (id, title, kind, created_at, updated_at, score, analysis, "
    "summary, source_url) SELECT ?, title || ' (new)', kind, created_at, updated_at, score, "
    "analysis, summary, NULL FROM content WHERE id = ?",
    "execution_steps": "INSERT INTO execution_steps (id, content_id, step, status, started_at, "
    "duration_ms, metadata) SELECT ?, content_id, step, 'new', started_at, duration_ms, "
    "metadata FROM execution_steps WHERE id = ?",
}
_CHECKED = {"content": "title", "execution_steps": "status"}


def picked(table: str, rows: int) -> tuple[list[int], list[int]]:
    """The ids updated and the ids inserted in ``table`` (of ``rows`` rows, ids 1..rows)."""
    changed = max(2, round(rows * SHARE))
    new = max(1, round(changed * NEW_SHARE))
    rng = random.Random(f"ferry-delta-{table}")
    updated = sorted(rng.sample(range(1, rows + 1), changed - new))
    return updated, list(range(rows + 1, rows + 1 + new))


def change_sqlite(path: Path, data: Dataset) -> dict[str, tuple[list[int], list[int]]]:
    """Change 1% of the rows of each table of the SQLite file ``path`` (in one commit)."""
    changes = {}
    db = sqlite3.connect(path)
    try:
        with db:
            for table in TABLES:
                updated, inserted = picked(table, data.rows(table))
                db.executemany(
                    f"UPDATE {table} SET {_UPDATES[table]} WHERE id = ?", [(i,) for i in updated]
                )
                db.executemany(_COPIES[table], [(i, i - len(inserted)) for i in inserted])
                changes[table] = (updated, inserted)
    finally:
        db.close()
    return changes


def touch_source(path: Path) -> None:
    """Write to the SQLite file ``path`` now, leaving every row as it was: a row changed and
    changed back, in two commits (SQLite writes nothing for an update to the same value)."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute("UPDATE content SET title = title || '~' WHERE id = 1")
        with db:
            db.execute(
                "UPDATE content SET title = substr(title, 1, length(title) - 1) WHERE id = 1"
            )
    finally:
        db.close()


def change_records(path: Path, data: Dataset) -> tuple[list[int], list[int]]:
    """Change 1% of the records of the JSON file ``path`` (one record per line, as
    generated): the ids updated and the ids appended."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "[" and lines[-2] == "]", "records.json is laid out as generated"
    updated, inserted = picked("records", data.size.records)
    for record_id in updated:
        line = lines[record_id]  # record i is on line i
        lead = "," if line.startswith(",") else ""
        record = json.loads(line[len(lead) :])
        assert record["id"] == record_id
        record["name"] += " (edited)"
        lines[record_id] = lead + json.dumps(record, ensure_ascii=False)
    added = []
    for record_id in inserted:
        record = json.loads(lines[record_id - len(inserted)].lstrip(","))
        record["id"] = record_id
        record["name"] += " (new)"
        added.append("," + json.dumps(record, ensure_ascii=False))
    lines[-2:-2] = added
    path.write_text("\n".join(lines), encoding="utf-8")
    return updated, inserted


def pg_versions(url: str) -> dict[str, list[str]]:
    """Per table, the row versions (``xmin``) its rows carry now."""
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            table: [str(r[0]) for r in conn.execute(f"SELECT DISTINCT xmin::text FROM {table}")]
            for table in TABLES
        }


def pg_touched(url: str, table: str, versions: list[str]) -> set[int]:
    """The ids of ``table``'s rows whose version is none of ``versions`` (written since)."""
    import psycopg

    with psycopg.connect(url) as conn:
        found = conn.execute(
            f"SELECT id FROM {table} WHERE NOT (xmin::text = ANY(%s))", (versions,)
        ).fetchall()
    return {int(r[0]) for r in found}


def pg_matches(url: str, source: Path, changes: dict[str, tuple[list[int], list[int]]]) -> bool:
    """Whether the changed rows hold the source's values in PostgreSQL."""
    import psycopg

    db = sqlite3.connect(source)
    try:
        with psycopg.connect(url) as conn:
            for table, (updated, inserted) in changes.items():
                ids = updated + inserted
                column = _CHECKED[table]
                marks = ",".join("?" * len(ids))
                want = db.execute(
                    f"SELECT id, {column} FROM {table} WHERE id IN ({marks}) ORDER BY id", ids
                ).fetchall()
                got = conn.execute(
                    f"SELECT id, {column} FROM {table} WHERE id = ANY(%s) ORDER BY id", (ids,)
                ).fetchall()
                if [tuple(r) for r in got] != want:
                    return False
    finally:
        db.close()
    return True


def sqlite_differing(target: Path, before: Path, table: str) -> set[int]:
    """The ids of ``table``'s rows in ``target`` that the copy ``before`` lacks or holds
    otherwise."""
    db = sqlite3.connect(target)
    try:
        db.execute("ATTACH DATABASE ? AS before", (str(before),))
        found = db.execute(
            f"SELECT id FROM (SELECT * FROM main.{table} EXCEPT SELECT * FROM before.{table})"
        ).fetchall()
    finally:
        db.close()
    return {int(r[0]) for r in found}
