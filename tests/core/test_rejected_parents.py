"""A foreign key that fails after the load because the run rejected the rows it references
says so: the hint named the source as at fault ("the source's rows break this constraint …
fix them in the source"), while the source was sound and the run had refused the parents (a
Superset chart whose binary UUID the run could not read stopped the run on ``slice_user``).
Real files, real PostgreSQL, the real CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from draftkit import ferry

PLAN = """version = 1
name = "app"
sources = [{{ name = "app", kind = "sqlite", path = "app.db" }}]

[target]
url = "{url}"

[[tables]]
name = "parent"
source = "app.parent"

[tables.types]
n = "integer"

[[tables]]
name = "child"
source = "app.child"
"""


def test_a_key_broken_by_rejected_parents_names_the_rejects(tmp_path: Path, pg_url: str) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.executescript(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, n INTEGER);"
            "INSERT INTO parent VALUES (1, 'abc'), (2, 5);"
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));"
            "INSERT INTO child VALUES (1, 1), (2, 2);"
        )
    conn.close()
    (tmp_path / "plan.toml").write_text(PLAN.format(url=pg_url))

    result = ferry("migrate", tmp_path / "plan.toml")

    assert result.exit_code == 5, result.output
    flat = " ".join(result.output.split())
    assert (
        "hint: This run rejected 1 row of parent (first: id=1: column 'n': 'abc' is not a whole "
        "number), so the rows referencing them break this key."
    ) in flat
