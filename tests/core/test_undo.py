"""``ferry undo`` (issue 20 item 4): a run's changeset is recorded in the target and undo
reverts exactly that run, never a row the app changed since; real SQLite files and a real
PostgreSQL database, one behaviour per test."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from ferry.api import UndoRefused, UndoResult, undo
from ferry.cli.command import cli
from ferry.migrate import migrate
from ferry.plan import Plan, load_plan
from ferry.results import RunResult
from ferry.runs import list_runs

PLAN = """name = "shop"

[target]
url = "{url}"
{schema}
[[sources]]
name = "app"
kind = "sqlite"
path = "app.db"

[[tables]]
name = "customers"
source = "app.customers"

[[tables]]
name = "orders"
source = "app.orders"

[options]
undo_first_loads = {rows}
"""

#: the target's own tables (a test of foreign keys): orders go with their customer
SCHEMA = """CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL);
CREATE TABLE orders (id INTEGER PRIMARY KEY,
  customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE, total REAL);
"""


def make_plan(folder: Path, url: str, schema: bool = False, first_rows: bool = True) -> Plan:
    db = sqlite3.connect(folder / "app.db")
    db.executescript(
        """CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER
          REFERENCES customers (id), total REAL);
        INSERT INTO customers VALUES (1, 'ada', 1.5), (2, 'bob', 2.0), (3, 'cy', NULL);
        INSERT INTO orders VALUES (10, 1, 5.0), (11, 2, 6.25);"""
    )
    db.commit()
    db.close()
    if schema:
        (folder / "schema.sql").write_text(SCHEMA, encoding="utf-8")
    extra = 'schema = "schema.sql"\n' if schema else ""
    (folder / "ferry.toml").write_text(
        PLAN.format(url=url, schema=extra, rows=str(first_rows).lower()), encoding="utf-8"
    )
    return load_plan(folder / "ferry.toml")


def source(folder: Path, sql: str) -> None:
    db = sqlite3.connect(folder / "app.db")
    db.executescript(sql)
    db.commit()
    db.close()


def engine_url(plan: Plan) -> str:
    url = plan.target.url
    if url.startswith("sqlite:///"):
        return f"sqlite:///{plan.base_dir / url.removeprefix('sqlite:///')}"
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def app_sql(plan: Plan, sql: str) -> None:
    """The app writes to the target after the run."""
    engine = create_engine(engine_url(plan))
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def rows(plan: Plan) -> dict[str, list[tuple[Any, ...]]]:
    """Every app table's rows, ordered (Ferry's own tables left out)."""
    engine = create_engine(engine_url(plan))
    found = {}
    with engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            if not name.startswith("_ferry"):
                found[name] = [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{name}"'))]
                found[name].sort(key=repr)
    engine.dispose()
    return found


def run(plan: Plan) -> RunResult:
    return asyncio.run(migrate(plan))


def do_undo(plan: Plan, **options: Any) -> UndoResult:
    return asyncio.run(undo(plan, **options))


def test_undo_of_a_first_load_drops_the_tables_it_created(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    first = run(plan)

    done = do_undo(plan)

    assert done.undone_run == first.run_id and done.status == "completed"
    assert {t.name: (t.deleted, t.dropped) for t in done.tables} == {
        "customers": (3, True),
        "orders": (2, True),
    }
    assert done.verdict == "PASS"
    assert rows(plan) == {}


def test_undo_of_a_first_load_into_existing_tables_empties_them(
    tmp_path: Path, target_url: str
) -> None:
    plan = make_plan(tmp_path, target_url, schema=True)
    run(plan)

    done = do_undo(plan)

    assert not any(t.dropped for t in done.tables)
    assert rows(plan) == {"customers": [], "orders": []}


def test_undo_of_a_rerun_brings_the_before_images_back(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    run(plan)
    before = rows(plan)
    source(
        tmp_path,
        "UPDATE customers SET name = 'ADA', score = 9.75 WHERE id = 1; "
        "INSERT INTO customers VALUES (4, 'dee', 4.0); INSERT INTO orders VALUES (12, 4, 1.5);",
    )
    second = run(plan)
    assert rows(plan) != before

    done = do_undo(plan)

    assert done.undone_run == second.run_id
    parts = {t.name: t for t in done.tables}
    assert (parts["customers"].deleted, parts["customers"].reverted) == (1, 1)
    assert parts["orders"].deleted == 1
    assert rows(plan) == before  # exactly the rows before the run
    for part in done.tables:
        assert part.expected_checksum == part.actual_checksum and part.verdict == "PASS"


def test_a_row_the_app_changed_stops_the_undo(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    run(plan)
    source(tmp_path, "UPDATE customers SET name = 'ADA' WHERE id = 1;")
    run(plan)
    app_sql(plan, "UPDATE customers SET name = 'changed by the app' WHERE id = 1")
    seen = rows(plan)

    with pytest.raises(UndoRefused) as refused:
        do_undo(plan)

    assert refused.value.exit_code == 12
    assert refused.value.app_changes == [{"table": "customers", "key": "id=1", "action": "update"}]
    assert "customers id=1" in refused.value.message
    assert rows(plan) == seen  # unchanged


def test_keep_app_changes_keeps_that_row_and_reverts_the_rest(
    tmp_path: Path, target_url: str
) -> None:
    plan = make_plan(tmp_path, target_url)
    run(plan)
    source(
        tmp_path,
        "UPDATE customers SET name = 'ADA' WHERE id = 1; "
        "UPDATE customers SET name = 'BOB' WHERE id = 2;",
    )
    run(plan)
    app_sql(plan, "UPDATE customers SET name = 'app' WHERE id = 1")

    done = do_undo(plan, keep_app_changes=True)

    names = {r[0]: r[1] for r in rows(plan)["customers"]}
    assert names == {1: "app", 2: "bob", 3: "cy"}
    assert done.app_changes == [{"table": "customers", "key": "id=1", "action": "update"}]
    assert {t.name: t.kept for t in done.tables}["customers"] == 1
    assert done.verdict == "PASS"


def test_undo_of_a_run_a_later_run_built_on_is_refused(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    first = run(plan)
    source(tmp_path, "UPDATE customers SET name = 'ADA' WHERE id = 1;")
    second = run(plan)
    seen = rows(plan)

    with pytest.raises(UndoRefused) as refused:
        do_undo(plan, run_id=first.run_id)

    assert refused.value.later_runs == [second.run_id]
    assert second.run_id in refused.value.message
    assert rows(plan) == seen
    do_undo(plan, run_id=second.run_id)  # the later one first, then the first
    do_undo(plan, run_id=first.run_id)
    assert rows(plan) == {}


def test_foreign_key_order_with_cascading_children(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url, schema=True)
    run(plan)
    before = rows(plan)
    source(
        tmp_path,
        "INSERT INTO customers VALUES (4, 'dee', 4.0); INSERT INTO orders VALUES (12, 4, 1.5);",
    )
    run(plan)

    done = do_undo(plan)  # orders (children) first, then customers

    assert {t.name: t.deleted for t in done.tables} == {"customers": 1, "orders": 1}
    assert rows(plan) == before


def test_a_cascade_onto_rows_the_app_wrote_stops_the_undo(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url, schema=True)
    run(plan)
    source(tmp_path, "INSERT INTO customers VALUES (4, 'dee', 4.0);")
    run(plan)
    app_sql(plan, "INSERT INTO orders VALUES (99, 4, 7.0)")  # the app's order of the new one
    seen = rows(plan)

    with pytest.raises(UndoRefused) as refused:
        do_undo(plan)

    assert "orders" in refused.value.message and "CASCADE" in refused.value.message
    assert rows(plan) == seen


def test_undo_is_journaled_and_runs_shows_undone(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    first = run(plan)

    done = do_undo(plan)

    runs = {r.run_id: r for r in asyncio.run(list_runs(plan))}
    assert runs[first.run_id].undone and runs[first.run_id].status == "undone"
    assert runs[done.run_id].kind == "undo" and runs[done.run_id].journaled
    assert done.report_path and Path(done.report_path).with_suffix(".json").exists()
    report = json.loads(Path(done.report_path).with_suffix(".json").read_text(encoding="utf-8"))
    assert report["kind"] == "undo" and report["result"]["undone_run"] == first.run_id
    shown = CliRunner().invoke(cli, ["runs", str(tmp_path / "ferry.toml"), "--json"])
    assert shown.exit_code == 0, shown.output
    listed = {r["run_id"]: r for r in json.loads(shown.stdout)["runs"]}
    assert listed[first.run_id]["undone"] is True
    with pytest.raises(UndoRefused):  # undone once: not again
        do_undo(plan, run_id=first.run_id)


def test_preview_changes_nothing(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    first = run(plan)
    seen = rows(plan)

    shown = CliRunner().invoke(cli, ["undo", str(tmp_path / "ferry.toml"), "--preview"])

    assert shown.exit_code == 0, shown.output
    assert first.run_id in shown.stdout and "Nothing was changed" in shown.stdout
    assert "customers id=1" in shown.stdout
    assert rows(plan) == seen
    runs = {r.run_id: r for r in asyncio.run(list_runs(plan))}
    assert not runs[first.run_id].undone


def test_cli_refusal_lists_the_rows_and_exits_10(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    run(plan)
    app_sql(plan, "UPDATE customers SET score = 0 WHERE id = 2")

    shown = CliRunner().invoke(cli, ["undo", str(tmp_path / "ferry.toml"), "--yes"])

    assert shown.exit_code == 12, shown.output
    assert "customers id=2" in shown.output
    done = CliRunner().invoke(
        cli, ["undo", str(tmp_path / "ferry.toml"), "--yes", "--keep-app-changes"]
    )
    assert done.exit_code == 0, done.output
    assert [r[0] for r in rows(plan)["customers"]] == [2]  # the app's row stays


def test_a_sqlite_first_load_without_a_row_record_is_refused(tmp_path: Path) -> None:
    # SQLite rows carry no version: without [options] undo_first_loads the first load keeps
    # no per-row record (the first run stays cheap), so undo cannot prove the app left its
    # rows alone and refuses, naming the table and the way back that works
    plan = make_plan(tmp_path, "sqlite:///target.db", first_rows=False)
    run(plan)
    seen = rows(plan)

    with pytest.raises(UndoRefused) as refused:
        do_undo(plan)

    assert refused.value.exit_code == 12
    assert "customers" in refused.value.message and "undo_first_loads" in refused.value.message
    assert "rollback" in refused.value.hint
    assert rows(plan) == seen


@pytest.mark.pg
def test_a_postgres_first_load_is_recorded_by_row_version_alone(
    tmp_path: Path, pg_url: str
) -> None:
    plan = make_plan(tmp_path, pg_url, first_rows=False)
    first = run(plan)

    engine = create_engine(engine_url(plan))
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT table_name, loaded_version, loaded_rows FROM ferry.changesets")
        ).fetchall()
        images = conn.execute(text('SELECT COUNT(*) FROM ferry."img_customers"')).scalar()
        versions = conn.execute(text("SELECT DISTINCT xmin::text FROM customers")).fetchall()
    engine.dispose()
    assert sorted((r[0], r[2]) for r in recorded) == [("customers", 3), ("orders", 2)]
    assert {r[1] for r in recorded if r[0] == "customers"} == {versions[0][0]}
    assert images == 0  # no per-row record
    assert do_undo(plan).undone_run == first.run_id
    assert rows(plan) == {}


@pytest.mark.pg
def test_rows_the_app_wrote_into_a_first_load_are_listed_and_kept(
    tmp_path: Path, pg_url: str
) -> None:
    plan = make_plan(tmp_path, pg_url, first_rows=False)
    run(plan)
    app_sql(plan, "INSERT INTO customers VALUES (7, 'app row', 1.0)")
    app_sql(plan, "UPDATE customers SET name = 'app' WHERE id = 2")
    seen = rows(plan)

    with pytest.raises(UndoRefused) as refused:
        do_undo(plan)

    assert [c["key"] for c in refused.value.app_changes] == ["id=2", "id=7"]
    assert rows(plan) == seen
    done = do_undo(plan, keep_app_changes=True)
    assert rows(plan) == {"customers": [(2, "app", 2.0), (7, "app row", 1.0)]}  # orders dropped
    assert {t.name: t.dropped for t in done.tables} == {"customers": False, "orders": True}
    assert done.verdict == "PASS"


def test_undo_passes_over_runs_that_changed_nothing(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    first = run(plan)
    before = rows(plan)
    source(tmp_path, "UPDATE customers SET name = 'ADA' WHERE id = 1;")
    second = run(plan)
    idle = run(plan)  # a sync cycle that found nothing to change
    assert sum(t.inserted + t.updated + t.deleted for t in idle.tables) == 0

    done = do_undo(plan)

    assert done.undone_run == second.run_id and first.run_id != second.run_id
    assert rows(plan) == before


def test_undo_of_a_run_that_changed_nothing_says_so(tmp_path: Path, target_url: str) -> None:
    plan = make_plan(tmp_path, target_url)
    run(plan)
    idle = run(plan)

    with pytest.raises(UndoRefused, match="changed no row: there is nothing to undo"):
        do_undo(plan, run_id=idle.run_id)


def test_the_preview_names_only_the_tables_the_run_changed(tmp_path: Path, target_url: str) -> None:
    make_plan(tmp_path, target_url)
    source(tmp_path, "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT)")  # empty
    with (tmp_path / "ferry.toml").open("a", encoding="utf-8") as plan_file:
        plan_file.write('\n[[tables]]\nname = "tags"\nsource = "app.tags"\n')
    plan = load_plan(tmp_path / "ferry.toml")
    run(plan)
    source(tmp_path, "UPDATE customers SET score = 9.0 WHERE id = 2")
    second = run(plan)

    shown = CliRunner().invoke(
        cli, ["undo", str(tmp_path / "ferry.toml"), "--run", second.run_id, "--preview"]
    )

    assert shown.exit_code == 0, shown.output
    assert "customers: 0 inserted row(s) deleted, 1 updated row(s) reverted" in shown.stdout
    assert "orders:" not in shown.stdout
    assert "1 other table(s): the run changed nothing there; proof PASS" in shown.stdout, (
        shown.stdout
    )
