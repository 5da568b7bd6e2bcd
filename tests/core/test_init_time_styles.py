"""A SQLite table Ferry creates from a JSON Lines app keeps the app's spelling of its times.

Found keeping a task app's JSON Lines log in sync: ``"2024-05-01T10:00:13.974"`` was stored as
``2024-05-01 10:00:13.974000`` in the new SQLite table, and the app's text comparisons (``' '``
sorts before ``'T'``) and its later writes in its own spelling disagreed with it. Real files,
the real CLI."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path

from draftkit import ferry

APP = '{"id": 1, "at": "2024-05-01T10:00:13.974"}\n{"id": 2, "at": "2024-05-01T10:00:14.100"}\n'


def _draft(tmp_path: Path, text: str = APP, *target: str) -> tuple[Path, dict]:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "log.jsonl").write_text(text, encoding="utf-8")
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "-o", plan, *target)
    assert result.exit_code == 0, result.output
    (table,) = tomllib.loads(plan.read_text(encoding="utf-8"))["tables"]
    return plan, table


def test_the_draft_names_the_apps_spelling(tmp_path: Path) -> None:
    _, table = _draft(tmp_path)

    assert table["styles"] == {"at": "2024-03-01T09:00:00.000"}
    assert [n for n in table["notes"] if "the app spells its times" in n]


def test_the_times_are_stored_as_the_app_spells_them(tmp_path: Path) -> None:
    plan, _ = _draft(tmp_path)

    assert ferry("migrate", plan).exit_code == 0
    assert ferry("verify", plan).exit_code == 0

    with sqlite3.connect(tmp_path / "ferry.db") as db:
        stored = db.execute("SELECT at FROM log ORDER BY id").fetchall()
    db.close()
    assert stored == [("2024-05-01T10:00:13.974",), ("2024-05-01T10:00:14.100",)]


def test_two_spellings_leave_the_default(tmp_path: Path) -> None:
    mixed = APP.replace("2024-05-01T10:00:14.100", "2024-05-01 10:00:14")
    _, table = _draft(tmp_path, mixed)

    assert "styles" not in table


def test_a_postgresql_draft_names_no_spelling(tmp_path: Path, pg_url: str) -> None:
    _, table = _draft(tmp_path, APP, "--target", pg_url)

    assert "styles" not in table
