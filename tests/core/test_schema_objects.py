"""What a database move creates, translates and leaves out (issue 17, item 10): shown by
``ferry check`` and the preview (with the DDL), listed in the report (HTML and JSON).

Real SQLite source files and the real PostgreSQL server, through the ``ferry`` command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fakesource import sqlite_exec

from ferry.cli.command import cli

pytestmark = pytest.mark.pg

APP = """
CREATE TABLE invoice (id INTEGER PRIMARY KEY, paid BOOLEAN, issued DATETIME,
                      customer TEXT COLLATE NOCASE);
INSERT INTO invoice VALUES (1, 1, '2024-01-02 03:04:05', 'Ada'), (2, 0, NULL, 'Bob');
CREATE VIEW unpaid AS SELECT id, customer FROM invoice WHERE NOT paid;
CREATE TRIGGER stamp AFTER INSERT ON invoice
    BEGIN UPDATE invoice SET issued = CURRENT_TIMESTAMP WHERE id = new.id; END;
"""


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def app_plan(folder: Path, url: str) -> Path:
    sqlite_exec(folder / "app.db", APP)
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""
sources = [{{ name = "app", kind = "sqlite", path = "app.db" }}]

[target]
url = "{url}"

[[tables]]
name = "invoice"
source = "app.invoice"
""",
        encoding="utf-8",
    )
    return plan


def test_check_names_each_object_a_run_creates_translates_or_leaves_out(
    tmp_path: Path, pg_url: str
) -> None:
    result = ferry("check", app_plan(tmp_path, pg_url), "--json")

    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    assert [(i["subject"], i["detail"], i.get("warning", False)) for i in items[3:9]] == [
        ("column type invoice.id", "translated: INTEGER → bigint", False),
        ("column type invoice.paid", "translated: BOOLEAN 0/1 → boolean", False),
        ("column type invoice.issued", "translated: DATETIME → timestamptz", False),
        (
            "collation invoice.customer",
            "not carried: COLLATE NOCASE: the column compares case-sensitively in PostgreSQL; "
            "run CREATE EXTENSION citext in the target database first to get a citext column",
            True,
        ),
        ("view unpaid", "will be created", False),
        (
            "trigger stamp",
            "not carried: triggers are not carried: recreate it in the target after the move "
            "if the app needs it",
            True,
        ),
    ]


def test_check_marks_what_is_not_carried_as_a_warning(tmp_path: Path, pg_url: str) -> None:
    result = ferry("check", app_plan(tmp_path, pg_url))

    assert result.exit_code == 0, result.output
    assert "warn trigger stamp: not carried: " in result.stdout
    assert "ok   view unpaid: will be created" in result.stdout


def test_check_shows_the_ddl_of_every_table_and_view_in_order(tmp_path: Path, pg_url: str) -> None:
    result = ferry("check", app_plan(tmp_path, pg_url))

    statements = result.stdout.split("A run creates:\n", 1)[1]
    assert statements.startswith('CREATE TABLE "invoice" (')
    assert (
        'CREATE VIEW "unpaid" AS SELECT "id", "customer" FROM "invoice" WHERE NOT "paid";'
        in statements.replace("\n", "")
    )


def test_check_as_json_lists_the_objects(tmp_path: Path, pg_url: str) -> None:
    result = ferry("check", app_plan(tmp_path, pg_url), "--json")

    objects = json.loads(result.stdout)["objects"]
    assert [(o["kind"], o["name"], o["status"]) for o in objects] == [
        ("table", "invoice", "carried"),
        ("column type", "invoice.id", "translated"),
        ("column type", "invoice.paid", "translated"),
        ("column type", "invoice.issued", "translated"),
        ("collation", "invoice.customer", "not carried"),
        ("view", "unpaid", "carried"),
        ("trigger", "stamp", "not carried"),
    ]


def test_the_preview_prints_the_views_ddl_and_what_is_not_carried(
    tmp_path: Path, pg_url: str
) -> None:
    result = ferry("preview", app_plan(tmp_path, pg_url))

    assert result.exit_code == 0, result.output
    output = result.stdout.replace("\n", "")
    assert 'CREATE VIEW "unpaid" AS SELECT "id", "customer" FROM "invoice"' in output
    assert "trigger stamp: not carried (triggers are not carried: recreate it in the " in output


def test_the_report_lists_carried_translated_and_not_carried(tmp_path: Path, pg_url: str) -> None:
    plan = app_plan(tmp_path, pg_url)
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output

    (report,) = (tmp_path / "ferry-reports").glob("migrate-*.json")
    objects = json.loads(report.read_text(encoding="utf-8"))["result"]["schema_objects"]
    assert {(o["status"], o["name"], o["detail"]) for o in objects} >= {
        ("translated", "invoice.issued", "DATETIME → timestamptz"),
        ("carried", "unpaid", ""),
        (
            "not carried",
            "stamp",
            "triggers are not carried: recreate it in the target after the move if the app "
            "needs it",
        ),
    }
    html = report.with_suffix(".html").read_text(encoding="utf-8")
    assert '<h2>Schema <span class="count">7</span></h2>' in html
    assert "<td>translated</td><td>column type</td>" in html
    assert "DATETIME → timestamptz" in html
