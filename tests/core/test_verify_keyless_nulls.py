"""`ferry verify` of a table loaded without a key (``mode = "append"`` or ``"replace"``)
compares each row by all its columns. A row with an empty column was counted as rejected by
the last run (``key column 'msg' is empty``) and never compared, so verify passed with such a
row missing from the target (found moving a JupyterHub database: its ``users`` replaced,
37 of 40 rows "rejected" by a run that rejected none). Real files, the real CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from draftkit import ferry

PLAN = """name = "app"

[target]
url = "sqlite:///out.db"

[[sources]]
name = "app"
kind = "sqlite"
path = "app.db"

[[tables]]
name = "log"
source = "app.log"
mode = "append"
"""


def test_a_missing_row_with_an_empty_column_fails_verify(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        conn.execute("CREATE TABLE log (at TEXT, msg TEXT)")
        conn.execute("INSERT INTO log VALUES ('1', 'a'), ('2', NULL), ('3', NULL)")
    conn.close()
    (tmp_path / "ferry.toml").write_text(PLAN)
    assert ferry("migrate", tmp_path / "ferry.toml").exit_code == 0
    with sqlite3.connect(tmp_path / "out.db") as conn:
        conn.execute("DELETE FROM log WHERE at = '3'")
    conn.close()

    verified = ferry("verify", tmp_path / "ferry.toml")

    assert verified.exit_code != 0, verified.output
    assert "log at='3', msg=NULL: missing from the target" in verified.output
