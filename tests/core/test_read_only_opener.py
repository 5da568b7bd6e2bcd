"""Every SQLite file Ferry only reads is opened by ``ferry.sources.readonly``: read-only by
its URI and with the app's own collations (Anki's ``unicase``) registered. Before, seven readers
each built the URI and registered the collations themselves, and the SQLite target's side check
forgot them (it fell back to a slower path on such a file). Real SQLite files."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from ferry.sources.appcollations import stand_in
from ferry.sources.readonly import open_read_only, read_only_uri

CORE = Path(__file__).resolve().parents[2] / "core" / "ferry"


def _collated(tmp_path: Path) -> Path:
    path = tmp_path / "odd name #1.db"
    db = sqlite3.connect(path)
    db.create_collation("unicase", stand_in)  # as the app does on each connection
    db.executescript(
        "CREATE TABLE tags (tag text NOT NULL PRIMARY KEY COLLATE unicase, usn integer) "
        "WITHOUT ROWID; INSERT INTO tags VALUES ('verb', 0), ('Week1', 1);"
    )
    db.commit()
    db.close()
    return path


def test_a_table_keyed_by_an_app_collation_reads(tmp_path: Path) -> None:
    conn = open_read_only(_collated(tmp_path), timeout=1.0)
    try:
        assert conn.execute("SELECT count(*) FROM tags").fetchone() == (2,)
    finally:
        conn.close()


def test_the_connection_cannot_write(tmp_path: Path) -> None:
    conn = open_read_only(_collated(tmp_path), timeout=1.0)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("INSERT INTO tags VALUES ('new', 2)")
    finally:
        conn.close()


def test_an_immutable_uri_opens_a_copy_nobody_writes(tmp_path: Path) -> None:
    uri = read_only_uri(_collated(tmp_path), immutable=True)
    conn = sqlite3.connect(uri, uri=True)
    try:
        assert uri.endswith("?immutable=1")
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (1,)
    finally:
        conn.close()


def test_no_other_module_builds_a_read_only_uri() -> None:
    spelled = [
        path.relative_to(CORE).as_posix()
        for path in CORE.rglob("*.py")
        if path.name != "readonly.py"
        and re.search(
            r"mode=ro|immutable=1",
            path.read_text(encoding="utf-8").replace("(SQLite ``mode=ro``", ""),
        )
    ]
    assert spelled == []
