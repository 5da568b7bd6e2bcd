"""A SQLite file's header numbers an app reads (``user_version``: its schema version;
``application_id``). Found moving a calibre library SQLite → SQLite: the new file had version
0, calibre ran its upgrades from the start and listed no book. A run that makes every table of
a SQLite target from one SQLite file now sets them; anything else is named. Real SQLite files,
a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from ferry.api import migrate, preview
from ferry.plan import Plan, plan_from_dict


def _source(path: Path, version: int = 25, app_id: int = 0x0F0F) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT);"
            "INSERT INTO books VALUES (1, 'Emma'), (2, 'Persuasion');"
            f"PRAGMA user_version = {version}; PRAGMA application_id = {app_id};"
        )
    conn.close()
    return path


def _plan(tmp_path: Path, url: str, *sources: Path) -> Plan:
    return plan_from_dict(
        {
            "version": 1,
            "name": "lib",
            "target": {"url": url},
            "sources": [
                {"name": f"s{i}", "kind": "sqlite", "path": str(p)} for i, p in enumerate(sources)
            ],
            "tables": [{"name": f"books{i}", "source": f"s{i}.books"} for i in range(len(sources))],
        },
        base_dir=tmp_path,
    )


def _numbers(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    conn.close()
    return version, app_id


def _lines(result: object) -> list[str]:
    return [o.line() for o in getattr(result, "schema_objects", []) if o.kind == "pragma"]


def test_a_new_sqlite_target_gets_the_sources_numbers(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "sqlite:///new.db", _source(tmp_path / "app.db"))

    result = asyncio.run(migrate(plan, write_reports=False))

    assert _numbers(tmp_path / "new.db") == (25, 0x0F0F)
    assert "pragma user_version 25 (the app's schema version): carried" in " ".join(_lines(result))


def test_a_preview_leaves_the_target_without_them(tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    sqlite3.connect(target).close()
    plan = _plan(tmp_path, "sqlite:///new.db", _source(tmp_path / "app.db"))

    result = asyncio.run(preview(plan))

    assert any("carried (set as the source file holds it)" in line for line in _lines(result))
    assert _numbers(target) == (0, 0)


def test_a_target_holding_another_version_keeps_it_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    with sqlite3.connect(target) as conn:
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    plan = _plan(tmp_path, "sqlite:///new.db", _source(tmp_path / "app.db"))

    result = asyncio.run(migrate(plan, write_reports=False))

    assert _numbers(target)[0] == 7
    assert any("not carried (the target holds 7: kept" in line for line in _lines(result))


def test_sources_that_disagree_are_named(tmp_path: Path) -> None:
    one, two = _source(tmp_path / "a.db", 3), _source(tmp_path / "b.db", 4)
    plan = _plan(tmp_path, "sqlite:///new.db", one, two)

    result = asyncio.run(migrate(plan, write_reports=False))

    assert _numbers(tmp_path / "new.db")[0] == 0
    assert any("the source files disagree (3 in a.db, 4 in b.db)" in x for x in _lines(result))


def test_a_postgresql_target_names_the_version_not_carried(tmp_path: Path, pg_url: str) -> None:
    plan = _plan(tmp_path, pg_url, _source(tmp_path / "app.db"))

    result = asyncio.run(migrate(plan, write_reports=False))

    assert any("user_version 25" in x and "not carried" in x for x in _lines(result))
