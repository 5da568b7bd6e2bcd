"""A column the database computes (``GENERATED ALWAYS AS``) stays computed after a move, so
rows the app inserts later get its value (found moving MLflow's tracking database: its
``spans.duration_ns`` became a plain column, NULL for every new span); one Ferry cannot
translate is named; a target's own computed column is never written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

SPANS = """
CREATE TABLE span (id INTEGER PRIMARY KEY, started INTEGER NOT NULL, ended INTEGER,
                   took INTEGER GENERATED ALWAYS AS (ended - started) STORED,
                   label TEXT, shout TEXT GENERATED ALWAYS AS (upper(label)) VIRTUAL);
INSERT INTO span (id, started, ended, label) VALUES (1, 10, 25, 'a'), (2, 7, NULL, 'b');
"""


def test_a_computed_column_is_computed_on_postgres_for_the_apps_new_rows(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, SPANS, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    verified = ferry("verify", plan)
    assert verified.exit_code == 0, verified.output
    pg_exec(pg_url, "INSERT INTO span (started, ended, label) VALUES (100, 130, 'c')")
    rows = pg_rows(pg_url, "SELECT id, took, shout FROM span ORDER BY id")
    assert rows == [(1, 15, "A"), (2, None, "B"), (3, 30, "C")]


def test_a_computed_column_is_computed_on_sqlite_for_the_apps_new_rows(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    plan = draft(tmp_path, SPANS, f"sqlite:///{target}")
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    verified = ferry("verify", plan)
    assert verified.exit_code == 0, verified.output
    with sqlite3.connect(target) as conn:
        conn.execute("INSERT INTO span (started, ended, label) VALUES (100, 130, 'c')")
        rows = conn.execute("SELECT id, took, shout FROM span ORDER BY id").fetchall()
    conn.close()
    assert rows == [(1, 15, "A"), (2, None, "B"), (3, 30, "C")]


UNTRANSLATABLE = """
CREATE TABLE doc (id INTEGER PRIMARY KEY, meta TEXT,
                  kind TEXT GENERATED ALWAYS AS (json_extract(meta, '$.kind')) VIRTUAL);
INSERT INTO doc (id, meta) VALUES (1, '{"kind": "memo"}');
"""


def test_a_computed_column_that_does_not_translate_is_named_and_keeps_its_values(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, UNTRANSLATABLE, pg_url)
    check = ferry("check", plan)
    assert check.exit_code == 0, check.output
    assert (
        "warn table doc: not carried to the target: GENERATED ALWAYS AS "
        "(json_extract(meta, '$.kind')) VIRTUAL of column kind" in " ".join(check.output.split())
    )
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT id, kind FROM doc") == [(1, "memo")]


def test_a_targets_own_computed_column_is_left_to_the_target(tmp_path: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE span (id bigint PRIMARY KEY, started bigint NOT NULL, ended bigint, "
        "took bigint GENERATED ALWAYS AS (ended - started) STORED, label text)",
    )
    plan = draft(tmp_path, SPANS.replace(" VIRTUAL", " STORED"), pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert pg_rows(pg_url, "SELECT id, took FROM span ORDER BY id") == [(1, 15), (2, None)]


def test_a_plan_that_writes_a_computed_column_is_refused(tmp_path: Path, pg_url: str) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE span (id bigint PRIMARY KEY, started bigint, ended bigint, "
        "took bigint GENERATED ALWAYS AS (ended - started) STORED)",
    )
    plan = draft(tmp_path, SPANS, pg_url)
    text = plan.read_text()
    plan.write_text(text + '\n[tables.columns]\ntook = { from = "ended" }\n')
    result = ferry("check", plan)
    assert result.exit_code != 0
    assert "column 'took' is computed by the target database" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("check", "carried"),
    [("flag IN (0, 1)", []), ("flag = 1 OR n > 0", None), ("n IN (1, 2)", ['"n" IN (1, 2)'])],
)
def test_sqlites_checks_on_booleans_suit_a_postgres_boolean(
    check: str, carried: list[str] | None
) -> None:
    from ferry.shape.ddl import target_shape
    from ferry.shape.source import TableShape

    shape = TableShape(dialect="sqlite", checks=[("", check)])
    found = target_shape(
        shape, {"flag": "flag", "n": "n"}, {}, "postgresql", {"flag": "boolean", "n": "integer"}
    )
    if carried is None:
        assert found.checks == [] and found.not_carried == [f"CHECK ({check})"]
    else:
        assert found.checks == carried and found.not_carried == []


def test_a_column_computed_on_both_sides_is_not_warned_about(tmp_path: Path, pg_url: str) -> None:
    plan = draft(tmp_path, SPANS, pg_url)
    assert ferry("migrate", plan).exit_code == 0
    (tmp_path / "app" / "app.db").touch()
    again = ferry("migrate", plan)
    assert again.exit_code == 0, again.output
    assert "took" not in again.output


def test_a_source_value_the_targets_computed_column_replaces_is_named(
    tmp_path: Path, pg_url: str
) -> None:
    pg_exec(
        pg_url,
        "CREATE TABLE span (id bigint PRIMARY KEY, started bigint, ended bigint, "
        "took bigint GENERATED ALWAYS AS (ended - started) STORED)",
    )
    plain = "CREATE TABLE span (id INTEGER PRIMARY KEY, started INT, ended INT, took INT);"
    plan = draft(tmp_path, plain + "INSERT INTO span VALUES (1, 10, 25, 99);", pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    assert "field 'took' is not written: column took of span is computed by the target" in (
        " ".join(result.output.split())
    )
    assert pg_rows(pg_url, "SELECT took FROM span") == [(15,)]


def test_undo_of_a_run_gives_computed_columns_their_values_back(
    tmp_path: Path, pg_url: str
) -> None:
    plan = draft(tmp_path, SPANS, pg_url)
    assert ferry("migrate", plan).exit_code == 0
    with sqlite3.connect(tmp_path / "app" / "app.db") as conn:
        conn.execute("UPDATE span SET ended = 40 WHERE id = 1")
        conn.execute("INSERT INTO span (id, started, ended, label) VALUES (3, 1, 2, 'c')")
    conn.close()
    again = ferry("migrate", plan)
    assert again.exit_code == 0, again.output
    undone = ferry("undo", plan, "--yes")
    assert undone.exit_code == 0, undone.output
    assert "proof PASS" in undone.output
    assert pg_rows(pg_url, "SELECT id, took, shout FROM span ORDER BY id") == [
        (1, 15, "A"),
        (2, None, "B"),
    ]
