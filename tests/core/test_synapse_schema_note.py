"""A draft that would create Synapse's schema in PostgreSQL from its SQLite file (the target
lacks ``applied_schema_deltas``) says on that table that Synapse will not start there, and
what to do: before, the draft said nothing, the run and verify passed, and Synapse applied its
PostgreSQL schema changes again (``column "inserted_ts" … already exists``). Real SQLite, real
PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ferry.scan.folder import scan_folder


def test_a_draft_creating_synapses_schema_says_synapse_will_not_start(
    tmp_path: Path, pg_url: str
) -> None:
    with sqlite3.connect(tmp_path / "homeserver.db") as conn:
        conn.executescript(
            "CREATE TABLE schema_version (Lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE,"
            " version INTEGER NOT NULL, upgraded BOOL NOT NULL);"
            "INSERT INTO schema_version VALUES ('X', 94, 1);"
            "CREATE TABLE applied_schema_deltas (version INTEGER NOT NULL, file TEXT NOT NULL,"
            " UNIQUE (version, file));"
            "INSERT INTO applied_schema_deltas VALUES (94, '94/01_x.sql.sqlite');"
        )
    conn.close()
    plan = scan_folder(tmp_path / "homeserver.db", pg_url).plan
    (deltas,) = [t for t in plan.tables if t.name == "applied_schema_deltas"]
    assert any("start Synapse once on the empty PostgreSQL database" in n for n in deltas.notes)
