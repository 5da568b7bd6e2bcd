"""SQLite → SQLite: a column holding values of several storage classes comes across as stored.

SQLite types values, not columns. Before, ``ferry init`` drafted such a column as one logical
type: as ``text`` the integer 5 became ``'5'`` (the app read a string back, and ``'10'`` sorted
before ``'9'``), as ``integer`` a text value's row was rejected. A SQLite target now gets
``types.v = "any"``: each value in its own class, the column with the source's declared type.
A PostgreSQL target still widens such a column to text, and check and the run name the rows
that change.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

from draftkit import draft, ferry

from ferry.migrate import migrate
from ferry.plan import load_plan, plan_from_dict

MIXED = """
CREATE TABLE notype (id INTEGER PRIMARY KEY, v);
INSERT INTO notype VALUES (1, 5), (2, 'five'), (3, 2.5), (4, x'00ff'), (5, NULL), (6, 10);
CREATE TABLE counts (id INTEGER PRIMARY KEY, n INTEGER);
INSERT INTO counts VALUES (1, 10), (2, 'n/a');
CREATE TABLE labels (id INTEGER PRIMARY KEY, t TEXT);
INSERT INTO labels VALUES (1, 'hello'), (2, x'deadbeef');
CREATE TABLE strict_any (id INTEGER PRIMARY KEY, v ANY) STRICT;
INSERT INTO strict_any VALUES (1, 5), (2, '007');
"""


def _target(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'new.db'}"


def _moved(tmp_path: Path) -> Path:
    """The mixed file drafted (no hand edits) and migrated into a new SQLite file."""
    plan = draft(tmp_path, MIXED, _target(tmp_path))
    result = ferry("migrate", plan, "--no-backup")
    assert result.exit_code == 0, result.output
    return tmp_path / "new.db"


def _stored(path: Path, table: str, column: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT id, typeof({column}), {column} FROM {table} ORDER BY id")
        found = rows.fetchall()
    conn.close()
    return found


def _declared(path: Path, table: str) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(f"SELECT name, type FROM pragma_table_info('{table}')").fetchall()
    conn.close()
    return found


def test_numbers_still_sort_as_numbers_in_a_column_without_a_declared_type(
    tmp_path: Path,
) -> None:
    new = _moved(tmp_path)

    with sqlite3.connect(new) as conn:
        found = conn.execute("SELECT id FROM notype ORDER BY v").fetchall()
    conn.close()
    # as text, '10' sorted before '2.5' and '5'
    assert found == [(5,), (3,), (1,), (6,), (2,), (4,)]


def test_every_value_keeps_its_storage_class(tmp_path: Path) -> None:
    new = _moved(tmp_path)

    assert _stored(new, "notype", "v") == _stored(tmp_path / "app" / "app.db", "notype", "v")


def test_text_in_an_integer_column_stays_text_and_its_row_comes_across(tmp_path: Path) -> None:
    new = _moved(tmp_path)

    assert _stored(new, "counts", "n") == [(1, "integer", 10), (2, "text", "n/a")]


def test_a_blob_in_a_text_column_stays_a_blob(tmp_path: Path) -> None:
    new = _moved(tmp_path)

    assert _stored(new, "labels", "t") == [(1, "text", "hello"), (2, "blob", b"\xde\xad\xbe\xef")]


def test_the_declared_types_are_kept(tmp_path: Path) -> None:
    new = _moved(tmp_path)

    assert _declared(new, "notype") == [("id", "INTEGER"), ("v", "")]
    assert _declared(new, "counts") == [("id", "INTEGER"), ("n", "INTEGER")]
    assert _declared(new, "labels") == [("id", "INTEGER"), ("t", "TEXT")]


def test_a_strict_tables_any_column_keeps_text_that_looks_like_a_number(tmp_path: Path) -> None:
    """Declared ANY without STRICT has NUMERIC affinity ('007' would become 7): created
    with no declared type, which stores each value as it is."""
    new = _moved(tmp_path)

    assert _stored(new, "strict_any", "v") == [(1, "integer", 5), (2, "text", "007")]


def test_the_draft_says_any_and_names_the_rows(tmp_path: Path) -> None:
    plan = draft(tmp_path, MIXED, _target(tmp_path))

    tables = {t["name"]: t for t in tomllib.loads(plan.read_text())["tables"]}
    assert tables["notype"]["types"]["v"] == "any"
    assert tables["notype"]["notes"] == [
        "column 'v' (no declared type) holds values of several storage classes (2 integer: "
        "5 at id 1; 10 at id 6, 1 real: 2.5 at id 3, 1 text, 1 blob: b'\\x00\\xff' at id 4): "
        "kept as "
        'stored (types.v = "any": each value keeps its class, the column its declared type; '
        '"text" would change or reject the others)'
    ]


def test_verify_passes_on_the_copy_with_every_row_compared(tmp_path: Path) -> None:
    _moved(tmp_path)

    result = ferry("verify", tmp_path / "plan.toml")

    assert result.exit_code == 0, result.output
    # before, the row holding 'n/a' was rejected (listed, not compared) and verify passed
    counts = result.output.split("counts ← app.counts\n", 1)[1].splitlines()[0]
    assert "expected 2  target 2  match 2  differ 0  missing 0  extra 0  reject 0" in counts


def test_verify_fails_when_one_values_class_differs(tmp_path: Path) -> None:
    new = _moved(tmp_path)
    with sqlite3.connect(new) as conn:
        conn.execute("UPDATE notype SET v = '5' WHERE id = 1")  # the text, not the integer
    conn.close()

    result = ferry("verify", tmp_path / "plan.toml")
    assert result.exit_code != 0, result.output
    assert "notype id=1: differs: v: source 5 (integer), target '5' (text)" in result.output


def test_a_later_run_carries_a_value_whose_class_changed(tmp_path: Path) -> None:
    """The table exists then: reflected by its declared type alone, the column would be
    cast to one type; the plan's ``any`` keeps it as stored."""
    new = _moved(tmp_path)
    with sqlite3.connect(tmp_path / "app" / "app.db") as conn:
        conn.execute("UPDATE counts SET n = 'none' WHERE id = 1")
        conn.execute("INSERT INTO counts VALUES (3, 2.5)")
    conn.close()

    result = ferry("migrate", tmp_path / "plan.toml", "--no-backup")

    assert result.exit_code == 0, result.output
    assert _stored(new, "counts", "n") == [
        (1, "text", "none"),
        (2, "text", "n/a"),
        (3, "real", 2.5),
    ]


def test_the_row_by_row_mapping_keeps_each_class_too(tmp_path: Path) -> None:
    """A column with a default is mapped in Python, not by SQLite's INSERT … SELECT."""
    draft(tmp_path, MIXED, _target(tmp_path))
    plan = plan_from_dict(
        {
            "version": 1,
            "sources": [{"name": "app", "kind": "sqlite", "path": "app/app.db"}],
            "target": {"url": _target(tmp_path)},
            "tables": [
                {
                    "name": "notype",
                    "source": "app.notype",
                    "key": ["id"],
                    "types": {"id": "integer", "v": "any"},
                    "columns": {"v": {"from": "v", "default": 0}},
                }
            ],
        },
        tmp_path,
    )

    result = asyncio.run(migrate(plan, write_reports=False))

    assert result.tables[0].mapped_by_sqlite == 0
    assert _stored(tmp_path / "new.db", "notype", "v") == [
        (1, "integer", 5),
        (2, "text", "five"),
        (3, "real", 2.5),
        (4, "blob", b"\x00\xff"),
        (5, "integer", 0),
        (6, "integer", 10),
    ]


def test_any_is_refused_for_a_postgresql_target(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, MIXED, _target(tmp_path))
    plan.write_text(plan.read_text().replace(_target(tmp_path), pg_url))

    result = ferry("check", plan)

    assert result.exit_code != 0
    assert (
        "table 'counts', column 'n': types.n = \"any\" keeps each value as SQLite stored it, "
        "but a PostgreSQL column holds one type" in " ".join(result.output.split())
    )


def test_the_refusal_names_the_table_whose_column_type_to_choose(
    tmp_path: Path, pg_url: str
) -> None:
    # the wizard opens that table's column editor from the failed check
    plan = draft(tmp_path, MIXED, _target(tmp_path))
    plan.write_text(plan.read_text().replace(_target(tmp_path), pg_url))

    result = ferry("check", plan, "--json")

    schema = [i for i in json.loads(result.stdout)["items"] if i["subject"] == "schema"]
    assert [(i["ok"], i["table"]) for i in schema] == [(False, "counts")]


def test_a_postgresql_target_names_the_numbers_its_text_column_gets(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, MIXED, pg_url)

    checked = ferry("check", plan)
    result = asyncio.run(migrate(load_plan(plan), write_reports=False))

    named = (
        "numbers stored as their text (2 integer: 5 at id 1; 10 at id 6, 1 real: 2.5 at id 3): "
        "the app reads them back as text, and they sort as text ('10' before '9')"
    )
    assert f"column type notype.v: translated: {named}" in " ".join(checked.output.split())
    assert [o.detail for o in result.schema_objects if o.name == "notype.v"] == [named]


def test_an_any_column_keeps_its_collation(tmp_path: Path) -> None:
    plan = draft(
        tmp_path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, w INTEGER COLLATE NOCASE);"
        "INSERT INTO t VALUES (1, 'X'), (2, 3);",
        _target(tmp_path),
    )
    assert ferry("migrate", plan, "--no-backup").exit_code == 0

    with sqlite3.connect(tmp_path / "new.db") as conn:
        found = conn.execute("SELECT id FROM t WHERE w = 'x'").fetchall()
    conn.close()
    assert found == [(1,)]
