"""A NeDB datafile (``users.db``: JSON Lines an embedded Node store appends to).

Found in a new-user trial on files @seald-io/nedb wrote: ``ferry init`` skipped them ("not
JSON, though it starts so"); renamed ``.jsonl``, the draft keyed the rows by line, so every
update gave a second row, every removed document came back (beside its ``$$deleted`` line),
the index lines were rows and dates stayed ``{"$$date": …}`` JSON. Now such a file is read as
NeDB loads it (``format = "nedb"``) and the app's indexes are drafted. The lines below are as
NeDB writes them. Real files, the real CLI, a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from draftkit import ferry

from ferry.api import migrate
from ferry.errors import PlanError
from ferry.plan import Plan, load_plan

USERS = [
    {"$$indexCreated": {"fieldName": "email", "unique": True, "sparse": False}},
    {"name": "Ada", "email": "ada@example.com", "age": 36, "_id": "MsMHrxzVTniKUUgk"},
    {"name": "Bo", "email": "bo@example.com", "age": 20, "_id": "JFCTG6ku5yh3sp0n"},
    {"name": "Cy", "email": "cy@example.com", "age": 51, "_id": "NzbP1qNHHEtdFpDJ"},
    {"$$indexCreated": {"fieldName": "age"}},
    {"name": "Ada", "email": "ada@example.com", "age": 37, "_id": "MsMHrxzVTniKUUgk"},
    {"$$deleted": True, "_id": "NzbP1qNHHEtdFpDJ"},
    {
        "name": "Di",
        "email": "di@example.com",
        "age": 29,
        "seen": {"$$date": 1704067200123},
        "_id": "0hIG8yZqJtnZsOJ0",
    },
]


def _app(tmp_path: Path, lines: list[dict[str, object]] = USERS) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    (folder / "users.db").write_text(text, encoding="utf-8")
    return folder


def _draft(tmp_path: Path, folder: Path, *target: str) -> Plan:
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "-o", plan, *target)
    assert result.exit_code == 0, result.output
    return load_plan(plan)


def _migrate(plan: Plan) -> None:
    result = asyncio.run(migrate(plan, write_reports=False))
    assert result.status == "completed", result.error


def test_the_datafile_is_drafted_as_nedb_keyed_by_id(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _app(tmp_path))

    assert [(s.kind, s.format) for s in plan.sources] == [("jsonl", "nedb")]
    assert plan.tables[0].key == ["_id"]


def test_a_document_is_its_last_version_and_a_removed_one_is_no_row(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _app(tmp_path))

    _migrate(plan)

    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        rows = conn.execute("SELECT name, age FROM users ORDER BY name").fetchall()
    assert rows == [("Ada", 37), ("Bo", 20), ("Di", 29)]


def test_a_date_is_a_timestamp_with_its_milliseconds(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _app(tmp_path))

    _migrate(plan)

    assert plan.tables[0].types["seen"] == "timestamp"
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        seen = conn.execute("SELECT seen FROM users WHERE name = 'Di'").fetchone()[0]
    assert seen.startswith("2024-01-01") and "00:00:00.123" in seen


def test_the_apps_indexes_are_drafted_and_made(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _app(tmp_path))

    _migrate(plan)

    indexes = [(i.columns, i.unique) for i in plan.tables[0].indexes]
    assert indexes == [(["email"], True), (["age"], False)]
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        made = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' "
            "AND sql IS NOT NULL ORDER BY 1"
        ).fetchall()
    assert made == [("users_age_idx",), ("users_email_key",)]


def test_the_note_counts_older_versions_and_removed_documents(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _app(tmp_path))

    note = next(n for n in plan.tables[0].notes if "NeDB" in n)
    assert "1 older version(s) and 1 removed document(s)" in note


def test_a_unique_field_holding_a_value_twice_gets_a_plain_index(tmp_path: Path) -> None:
    lines = [*USERS, {"name": "Ed", "email": "bo@example.com", "_id": "q1"}]

    plan = _draft(tmp_path, _app(tmp_path, lines))

    assert (plan.tables[0].indexes[0].columns, plan.tables[0].indexes[0].unique) == (
        ["email"],
        False,
    )
    assert any("'bo@example.com' is held by two documents" in n for n in plan.tables[0].notes)


def test_the_unique_index_holds_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    plan = _draft(tmp_path, _app(tmp_path), "--target", pg_url)

    _migrate(plan)

    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT count(*) FROM users").fetchone()
        try:
            conn.execute("INSERT INTO users (_id, email) VALUES ('new', 'bo@example.com')")
            refused = False
        except psycopg.errors.UniqueViolation:
            refused = True
    assert rows == (3,) and refused


def test_json_lines_under_another_name_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "events.log").write_text('{"id": 1, "kind": "a"}\n{"id": 2, "kind": "b"}\n')

    plan = _draft(tmp_path, folder)

    assert [(s.name, s.kind, s.format) for s in plan.sources] == [("events", "jsonl", None)]


def test_an_index_on_a_missing_column_stops_the_run_naming_it(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _app(tmp_path))
    plan.tables[0].indexes[0].columns = ["mail"]

    with pytest.raises(PlanError, match="an index on mail: the table has no column 'mail'"):
        asyncio.run(migrate(plan, write_reports=False))

    assert not (tmp_path / "ferry.db").exists()


def test_format_nedb_is_refused_on_a_json_source(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'version = 1\nname = "x"\n[[sources]]\nname = "s"\nkind = "json"\npath = "s.json"\n'
        'format = "nedb"\n[target]\nurl = "sqlite:///x.db"\n'
    )

    result = ferry("check", plan)

    assert result.exit_code != 0
    assert "format = 'nedb' is for jsonl sources" in result.output


def _without_id(tmp_path: Path) -> Path:
    """The datafile with, at line 4 (a blank line and an index line before it), a document
    without an _id: NeDB itself skips such a line when it loads the file."""
    lines = [USERS[1], USERS[0], {"name": "Ed", "email": "ed@example.com"}, *USERS[2:]]
    folder = _app(tmp_path, lines)
    datafile = folder / "users.db"
    datafile.write_text("\n" + datafile.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_a_datafile_with_a_document_without_an_id_is_still_nedb(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _without_id(tmp_path))

    assert [(s.kind, s.format) for s in plan.sources] == [("jsonl", "nedb")]


def test_the_draft_names_the_line_without_an_id(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _without_id(tmp_path))

    assert any(
        n.startswith("users.db: line 4: a document without an _id") for n in plan.tables[0].notes
    )


def test_a_document_without_an_id_is_no_row_as_nedb_loads_it(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _without_id(tmp_path))

    _migrate(plan)

    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        names = conn.execute("SELECT name FROM users ORDER BY name").fetchall()
    assert names == [("Ada",), ("Bo",), ("Di",)]


def test_the_run_names_the_line_without_an_id(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _without_id(tmp_path))

    result = asyncio.run(migrate(plan, write_reports=False))

    assert any("users.db: line 4: a document without an _id" in w for w in result.warnings)


def test_check_names_the_line_without_an_id(tmp_path: Path) -> None:
    _without_id(tmp_path)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'version = 1\nname = "x"\n[[sources]]\nname = "users"\nkind = "jsonl"\n'
        'path = "app/users.db"\nformat = "nedb"\n[target]\nurl = "sqlite:///x.db"\n'
        '[[tables]]\nname = "users"\nsource = "users"\nkey = ["_id"]\n'
    )

    result = ferry("check", plan)

    said = " ".join(result.output.split())  # the console wraps long lines
    assert result.exit_code == 0, result.output
    assert "warn source users: users.db: line 4: a document without an _id" in said
    assert "NeDB itself skips such a line when it loads the file" in said


def test_an_id_that_is_an_object_stops_the_run_naming_the_line(tmp_path: Path) -> None:
    folder = _app(tmp_path, [USERS[1], {"name": "Ed", "_id": {"a": 1}}])
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'version = 1\nname = "x"\n[[sources]]\nname = "users"\nkind = "jsonl"\n'
        'path = "app/users.db"\nformat = "nedb"\n[target]\nurl = "sqlite:///x.db"\n'
        '[[tables]]\nname = "users"\nsource = "users"\nkey = ["_id"]\n'
    )

    result = ferry("check", plan)

    said = " ".join(result.output.split())
    assert result.exit_code != 0
    assert f"{folder / 'users.db'}: line 2: an _id that is an object or a list" in said
