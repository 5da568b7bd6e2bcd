"""Values written into an existing SQLite table take the spelling of the app's own rows.

Timestamps (``T`` or a space, fraction digits, ``Z``), booleans (1/0 or words) and JSON text
(compact or spaced) are written in the style the target column already shows, or the one the
plan's ``styles`` names; a column that would end up mixed is a warning in ``ferry check`` and
``ferry preview``; a SQLite -> SQLite copy keeps timestamp text byte for byte.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pgkit import pg_exec

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def make_target(path: Path, ddl: str, rows: list[tuple[Any, ...]], table: str = "events") -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(ddl)
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    conn.close()


def values_of(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(sql).fetchall()
    conn.close()
    return found


def jsonl_plan(folder: Path, records: list[dict[str, Any]], extra: str = "") -> Path:
    (folder / "events.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""
[target]
url = "sqlite:///app.db"

[[sources]]
name = "events"
kind = "jsonl"
path = "events.jsonl"

[[tables]]
name = "events"
source = "events"
key = ["id"]
{extra}
""",
        encoding="utf-8",
    )
    return plan


STAMP_DDL = "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME)"


def test_new_timestamps_take_the_t_separator_of_the_rows_already_there(tmp_path: Path) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, [(1, "2024-03-01T09:00:00")])
    plan = jsonl_plan(tmp_path, [{"id": 2, "at": "2024-03-01 10:00:00"}])

    result = ferry("migrate", plan, "--no-backup", "-q")

    assert result.exit_code == 0, result.output
    assert values_of(tmp_path / "app.db", "SELECT id, at FROM events ORDER BY at") == [
        (1, "2024-03-01T09:00:00"),
        (2, "2024-03-01T10:00:00"),
    ]


def test_new_timestamps_keep_the_fraction_digits_and_z_of_the_rows_already_there(
    tmp_path: Path,
) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, [(1, "2024-03-01T09:00:00.000Z")])
    plan = jsonl_plan(
        tmp_path,
        [{"id": 2, "at": "2024-03-01T12:30:00.250+02:00"}, {"id": 3, "at": "2024-03-02"}],
    )

    result = ferry("migrate", plan, "--no-backup", "-q")

    assert result.exit_code == 0, result.output
    assert values_of(tmp_path / "app.db", "SELECT id, at FROM events ORDER BY id") == [
        (1, "2024-03-01T09:00:00.000Z"),
        (2, "2024-03-01T10:30:00.250Z"),
        (3, "2024-03-02T00:00:00.000Z"),
    ]
    assert ferry("verify", plan).exit_code == 0


def test_new_booleans_take_the_true_false_words_of_the_rows_already_there(
    tmp_path: Path,
) -> None:
    make_target(
        tmp_path / "app.db",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, done BOOLEAN)",
        [(1, "true"), (2, "false")],
    )
    plan = jsonl_plan(tmp_path, [{"id": 3, "done": True}, {"id": 4, "done": False}])

    result = ferry("migrate", plan, "--no-backup", "-q")

    assert result.exit_code == 0, result.output
    assert values_of(tmp_path / "app.db", "SELECT id, done FROM events ORDER BY id") == [
        (1, "true"),
        (2, "false"),
        (3, "true"),
        (4, "false"),
    ]
    assert ferry("verify", plan).exit_code == 0


@pytest.mark.parametrize(
    ("existing", "written"),
    [
        ('{"a":1,"b":[1,2]}', '{"c":"x","d":[3,4]}'),  # compact (also Ferry's own)
        ('{"a": 1, "b": [1, 2]}', '{"c": "x", "d": [3, 4]}'),  # spaced, as Python writes it
    ],
    ids=["compact", "spaced"],
)
def test_new_json_takes_the_spacing_of_the_rows_already_there(
    tmp_path: Path, existing: str, written: str
) -> None:
    make_target(
        tmp_path / "app.db",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, meta JSON)",
        [(1, existing)],
    )
    plan = jsonl_plan(tmp_path, [{"id": 2, "meta": {"c": "x", "d": [3, 4]}}])

    result = ferry("migrate", plan, "--no-backup", "-q")

    assert result.exit_code == 0, result.output
    assert values_of(tmp_path / "app.db", "SELECT id, meta FROM events ORDER BY id") == [
        (1, existing),
        (2, written),
    ]


def test_a_fraction_the_style_cannot_hold_is_written_whole_and_named_in_a_warning(
    tmp_path: Path,
) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, [(1, "2024-03-01T09:00:00")])
    plan = jsonl_plan(tmp_path, [{"id": 2, "at": "2024-03-01T10:00:00.25"}])

    result = ferry("migrate", plan, "--no-backup", "--json")

    assert result.exit_code == 0, result.output
    assert values_of(tmp_path / "app.db", "SELECT at FROM events WHERE id = 2") == [
        ("2024-03-01T10:00:00.250000",)
    ]
    assert json.loads(result.stdout)["warnings"] == [
        "events.at: 1 timestamps have fractions of a second the column's style "
        "'2024-03-01T09:00:00' cannot hold; they are written with six digits "
        "(first: '2024-03-01T10:00:00.250000' at id=2) so no time changes"
    ]


def test_the_plans_style_wins_over_ferrys_own(tmp_path: Path) -> None:
    plan = jsonl_plan(
        tmp_path,
        [{"id": 1, "at": "2024-03-01 09:00:00.5", "done": True}],
        extra='styles = { at = "2024-03-01T09:00:00.000Z", done = "yes/no" }',
    )

    result = ferry("migrate", plan, "--no-backup", "-q")

    assert result.exit_code == 0, result.output
    assert values_of(tmp_path / "app.db", "SELECT at, done FROM events") == [
        ("2024-03-01T09:00:00.500Z", "yes")
    ]


def test_a_style_the_plan_names_badly_is_refused_with_the_column(tmp_path: Path) -> None:
    plan = jsonl_plan(
        tmp_path, [{"id": 1, "at": "2024-03-01"}], extra='styles = { at = "March 1st" }'
    )

    result = ferry("check", plan)

    assert result.exit_code != 0
    assert "styles.at: style 'March 1st' is not one Ferry writes" in result.output


MIXED_ROWS = [(1, "2024-03-01T09:00:00"), (2, "2024-03-01T09:30:00"), (3, "2024-03-01 10:00:00")]
MIXED_WARNING = (
    "events.at already holds values in several styles ('2024-03-01T09:00:00' (2 rows), "
    "'2024-03-01 09:00:00' (1 row) of those sampled): new values are written as "
    "'2024-03-01T09:00:00'; name one in the plan (styles.at of table events)"
)


def test_check_warns_about_a_target_column_already_mixed(tmp_path: Path) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, MIXED_ROWS)
    plan = jsonl_plan(tmp_path, [{"id": 4, "at": "2024-03-02 10:00:00"}])

    result = ferry("check", plan)
    listed = ferry("check", plan, "--json")

    assert result.exit_code == 0, result.output
    assert "warn table events: events.at already holds values in several" in result.output
    assert {
        "subject": "table events",
        "ok": True,
        "detail": MIXED_WARNING,
        "hint": "",
        "warning": True,
    } in json.loads(listed.stdout)["items"]


def test_preview_warns_about_a_target_column_already_mixed(tmp_path: Path) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, MIXED_ROWS)
    plan = jsonl_plan(tmp_path, [{"id": 4, "at": "2024-03-02 10:00:00"}])

    result = ferry("preview", plan, "--json")

    assert result.exit_code == 0, result.output
    assert MIXED_WARNING in json.loads(result.stdout)["warnings"]


def test_check_and_preview_warn_when_the_plans_style_differs_from_the_rows(
    tmp_path: Path,
) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, [(1, "2024-03-01T09:00:00")])
    plan = jsonl_plan(
        tmp_path,
        [{"id": 2, "at": "2024-03-01 10:00:00"}],
        extra='styles = { at = "2024-03-01 09:00:00.000000" }',
    )
    warning = (
        "events.at: the plan's style '2024-03-01 09:00:00.000000' is not the style of the "
        "rows already there ('2024-03-01T09:00:00' (1 row) of those sampled): the column "
        "will hold both"
    )

    checked = ferry("check", plan, "--json")
    previewed = ferry("preview", plan, "--json")

    assert checked.exit_code == 0, checked.output
    assert warning in [i["detail"] for i in json.loads(checked.stdout)["items"] if i.get("warning")]
    assert warning in json.loads(previewed.stdout)["warnings"]


APP_STAMPS = [
    (1, "2024-03-01T09:00:00"),
    (2, "2024-03-01T09:00:00.123Z"),
    (3, "2024-03-01 09:00:00+02:00"),
    (4, "2024-03-01T23:59:59.999999"),
    (5, "2024-03-01"),
]


def sqlite_plan(folder: Path, native: bool) -> Path:
    make_target(folder / "app_source.db", STAMP_DDL, APP_STAMPS)
    plan = folder / "ferry.toml"
    plan.write_text(
        f"""
[target]
url = "sqlite:///copy.db"

[options]
native = {"true" if native else "false"}

[[sources]]
name = "app"
kind = "sqlite"
path = "app_source.db"

[[tables]]
name = "events"
source = "app.events"
""",
        encoding="utf-8",
    )
    return plan


@pytest.mark.parametrize(("native", "by_sqlite"), [(True, 5), (False, 0)], ids=["native", "python"])
def test_a_sqlite_copy_keeps_timestamp_text_byte_for_byte(
    tmp_path: Path, native: bool, by_sqlite: int
) -> None:
    plan = sqlite_plan(tmp_path, native)

    result = ferry("migrate", plan, "--no-backup", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tables"][0]["mapped_by_sqlite"] == by_sqlite
    assert values_of(tmp_path / "copy.db", "SELECT id, at FROM events ORDER BY id") == APP_STAMPS
    assert ferry("verify", plan).exit_code == 0


def test_check_says_a_postgres_target_takes_no_style(tmp_path: Path, pg_url: str) -> None:
    pg_exec(pg_url, "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz)")
    plan = jsonl_plan(
        tmp_path,
        [{"id": 1, "at": "2024-03-01T09:00:00Z"}],
        extra='styles = { at = "2024-03-01T09:00:00Z" }',
    )
    plan.write_text(plan.read_text(encoding="utf-8").replace("sqlite:///app.db", pg_url))

    result = ferry("check", plan, "--json")

    assert result.exit_code == 0, result.output
    assert [i["detail"] for i in json.loads(result.stdout)["items"] if i.get("warning")] == [
        "events.at: styles apply to SQLite targets only; postgresql stores typed values, "
        "the style is not used"
    ]


def test_init_names_the_usual_style_of_a_mixed_column_with_a_note(tmp_path: Path) -> None:
    make_target(tmp_path / "app.db", STAMP_DDL, MIXED_ROWS)
    state = tmp_path / "state"
    state.mkdir()
    (state / "events.jsonl").write_text('{"id": 4, "at": "2024-03-02 10:00:00"}\n')

    result = ferry("init", state, "--target", "sqlite:///app.db", "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    (table,) = tomllib.loads((tmp_path / "ferry.toml").read_text(encoding="utf-8"))["tables"]
    assert table["styles"] == {"at": "2024-03-01T09:00:00"}
    assert table["notes"] == [
        "matched to events by name and columns: 2 of 2 columns",
        "column 'at' already holds values in several styles ('2024-03-01T09:00:00' (2 rows), "
        "'2024-03-01 09:00:00' (1 row) of the rows sampled): styles.at names the one new "
        "values take",
    ]
