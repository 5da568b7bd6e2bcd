"""A keyless table whose foreign key column happens to be distinct (a Buildbot master's
``logchunks``: one chunk per log so far): ``ferry init`` does not key it by that column
alone, so the app's next row for the same parent goes in on the target. Real SQLite files,
real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import zlib
from pathlib import Path

import pytest
from pgkit import pg_exec, pg_rows

from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.scan.folder import scan_folder

CHUNK = zlib.compress("line 1 héllo\n".encode() * 50)

SCHEMA = """
CREATE TABLE logs (id INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (id));
CREATE TABLE logchunks (
    logid INTEGER NOT NULL, first_line INTEGER NOT NULL, last_line INTEGER NOT NULL,
    content BLOB, compressed SMALLINT NOT NULL,
    FOREIGN KEY(logid) REFERENCES logs (id) ON DELETE CASCADE
);
CREATE INDEX logchunks_firstline ON logchunks (logid, first_line);
INSERT INTO logs VALUES (1, 'stdio'), (2, 'stdio');
INSERT INTO logchunks VALUES (2, 0, 0, X'6F6B0A', 0);
"""


def drafted(folder: Path, url: str) -> Plan:
    """``ferry init`` on a SQLite file shaped like a Buildbot master's, written and read back."""
    db = sqlite3.connect(folder / "state.sqlite")
    db.executescript(SCHEMA)
    db.execute("INSERT INTO logchunks VALUES (1, 0, 49, ?, 1)", (CHUNK,))
    db.commit()
    db.close()
    result = scan_folder(folder, url)
    (folder / "ferry.toml").write_text(result.plan.to_toml())
    return load_plan(folder / "ferry.toml")


def test_init_does_not_key_a_keyless_table_by_its_foreign_key_alone(tmp_path: Path) -> None:
    table = next(
        t for t in drafted(tmp_path, "sqlite:///target.db").tables if t.name == "logchunks"
    )
    assert table.key == ["logid", "first_line"]
    assert (
        "logchunks has no primary key: key = ['logid', 'first_line'] (NOT NULL, 2 distinct "
        "values in 2 rows; not logid alone: a foreign key, many rows may reference one parent)"
    ) in table.notes


@pytest.mark.pg
def test_the_apps_next_chunk_of_a_moved_log_goes_in_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    asyncio.run(migrate(drafted(tmp_path, pg_url), write_reports=False))
    pg_exec(
        pg_url,
        "INSERT INTO logchunks (logid, first_line, last_line, content, compressed) "
        "VALUES (1, 50, 99, '\\x00', 0)",
    )
    rows = pg_rows(pg_url, "SELECT first_line, content FROM logchunks WHERE logid = 1 ORDER BY 1")
    assert [(r[0], zlib.decompress(bytes(r[1])) if r[0] == 0 else bytes(r[1])) for r in rows] == [
        (0, "line 1 héllo\n".encode() * 50),
        (50, b"\x00"),
    ]
