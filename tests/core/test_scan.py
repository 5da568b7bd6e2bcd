"""``ferry init``: scanning a folder of legacy state and drafting a plan (ferry.scan.folder + the
CLI).

Each test builds a small folder of real files, runs ``ferry init`` through click's test runner
and reads the written plan back with ``load_plan``, so what is asserted is what a person
reviewing ``ferry.toml`` sees.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.errors import Cancelled
from ferry.events import CancelToken
from ferry.plan import Plan, load_plan
from ferry.scan.folder import find_sources, json_layout, scan_folder


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def make_app_state(folder: Path) -> Path:
    """One file of every kind ``ferry init`` reads, and one it does not."""
    write_json(
        folder / "users.json",
        [
            {"id": 1, "name": "Ada", "active": True},
            {"id": 2, "name": "Bob", "active": False},
        ],
    )
    write_json(
        folder / "jobs.json",
        {
            "job-1": {
                "title": "Nightly",
                "steps": [{"name": "probe", "ok": True}, {"name": "mux", "ok": False}],
            },
            "job-2": {"title": "Weekly", "steps": [{"name": "probe", "ok": True}]},
        },
    )
    write_json(folder / "settings.json", {"log_level": "INFO", "retries": 3, "dry_run": False})
    write_json(
        folder / "state.json",
        {
            "discs": [{"id": "d1", "label": "One"}, {"id": "d2", "label": "Two"}],
            "drives": {"sr0": {"model": "X"}, "sr1": {"model": "Y"}},
        },
    )
    (folder / "events.jsonl").write_text(
        '{"ts": "2025-01-01T00:00:00Z", "level": "info", "msg": "a"}\n'
        '{"ts": "2025-01-02T00:00:00Z", "level": "warn", "msg": "b"}\n'
        '{"ts": "2025-01-03T00:00:00Z", "level": "info", "msg": "c"}\n',
        encoding="utf-8",
    )
    (folder / ".env").write_text("API_HOST=localhost\nAPI_PORT=8080\n", encoding="utf-8")
    (folder / "heartbeat_polling.txt").write_text("1763021702\n", encoding="utf-8")
    (folder / "heartbeat_manual.txt").write_text("2025-11-13T08:15:02Z\n", encoding="utf-8")
    with sqlite3.connect(folder / "legacy.db") as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        conn.executemany("INSERT INTO notes VALUES (?, ?)", [(1, "x"), (2, "y"), (3, "z")])
    conn.close()
    (folder / "blob.bin").write_bytes(bytes(range(256)))
    return folder


def sources_of(plan: Plan) -> list[tuple[Any, ...]]:
    return [(s.name, s.kind, s.path, s.shape, s.root, s.key_pattern) for s in plan.sources]


def tables_of(plan: Plan) -> list[tuple[Any, ...]]:
    return [(t.name, t.source, t.key, t.types) for t in plan.tables]


def test_init_drafts_one_source_per_file_and_one_table_per_source_table(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")
    plan_path = tmp_path / "ferry.toml"

    result = ferry("init", state, "-o", plan_path)

    assert result.exit_code == 0, result.output
    plan = load_plan(plan_path)
    assert plan.target.url == "sqlite:///ferry.db"
    assert sources_of(plan) == [
        ("env", "env", "state/.env", "auto", None, None),
        ("events", "jsonl", "state/events.jsonl", "auto", None, None),
        ("jobs", "json", "state/jobs.json", "auto", None, None),
        ("legacy", "sqlite", "state/legacy.db", "auto", None, None),
        ("settings", "json", "state/settings.json", "auto", None, None),
        ("discs", "json", "state/state.json", "records", "discs", None),
        ("drives", "json", "state/state.json", "keyed", "drives", None),
        ("users", "json", "state/users.json", "auto", None, None),
        ("heartbeat", "text", "state/heartbeat_*.txt", "auto", None, r"heartbeat_(?P<key>.+)\.txt"),
    ]
    assert tables_of(plan) == [
        ("env", "env", ["key"], {"key": "text", "value": "text"}),
        (
            "events",
            "events",
            ["position"],
            {"position": "integer", "ts": "timestamp", "level": "text", "msg": "text"},
        ),
        ("jobs", "jobs", ["id"], {"id": "text", "title": "text"}),
        (
            "jobs_steps",
            "jobs.steps",
            ["jobs_id", "position"],
            {"jobs_id": "text", "position": "integer", "name": "text", "ok": "boolean"},
        ),
        ("notes", "legacy.notes", ["id"], {"id": "integer", "body": "text"}),
        ("settings", "settings", ["key"], {"key": "text", "value": "text", "value_type": "text"}),
        ("discs", "discs", ["id"], {"id": "text", "label": "text"}),
        ("drives", "drives", ["id"], {"id": "text", "model": "text"}),
        ("users", "users", ["id"], {"id": "integer", "name": "text", "active": "boolean"}),
        (
            "heartbeat",
            "heartbeat",
            ["key"],
            {"key": "text", "value": "text", "file": "text", "modified_at": "timestamp"},
        ),
    ]
    assert all(t.columns == {} for t in plan.tables)
    assert {t.name: t.notes for t in plan.tables if t.notes} == {
        "events": [
            "column 'ts': the app spells its times '2025-01-01T00:00:00Z' (all 3 values "
            "sampled): styles.ts = '2024-03-01T09:00:00Z' writes them so in the new SQLite "
            "table, as the app compares them as text (the default spelling is "
            "'2024-03-01 09:00:00.000000')"
        ],
        "heartbeat": [
            "column 'value' holds mixed values, so it is text: 1 timestamp and 1 text value: "
            "'1763021702' at key 'polling' (every value loads as text; types.value = "
            "'timestamp' loads them as timestamp and rejects the others, naming their keys)"
        ],
        "users": [
            "key 'id' holds ids the app numbered (1…2, 2 rows): identity = 'id' lets the "
            "database number the rows the app inserts later without one (the next after the "
            "highest migrated); remove it to keep 'id' as given only"
        ],
    }
    assert [t.name for t in plan.tables if t.identity] == ["users"]
    assert "Wrote" in result.output and "(9 sources, 10 tables)" in result.output


def test_init_json_lists_every_source_with_rows_and_the_skipped_files(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")

    result = ferry("init", state, "-o", tmp_path / "ferry.toml", "--json")

    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["plan"] == str(tmp_path / "ferry.toml")
    summary = {
        s["source"]: (s["kind"], s["root"], s["rows"], s["tables"], s["problem"])
        for s in found["sources"]
    }
    assert summary == {
        "env": ("env", None, 2, ["env"], ""),
        "events": ("jsonl", None, 3, ["events"], ""),
        "jobs": ("json", None, 5, ["jobs", "jobs.steps"], ""),
        "legacy": ("sqlite", None, 3, ["legacy.notes"], ""),
        "settings": ("json", None, 3, ["settings"], ""),
        "discs": ("json", "discs", 2, ["discs"], ""),
        "drives": ("json", "drives", 2, ["drives"], ""),
        "users": ("json", None, 2, ["users"], ""),
        "heartbeat": ("text", None, 2, ["heartbeat"], ""),
    }
    assert found["skipped"] == [[str(state / "blob.bin"), "not a kind of file Ferry reads"]]


def test_init_plan_in_another_folder_gets_paths_relative_to_that_folder(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")
    (tmp_path / "plans").mkdir()
    plan_path = tmp_path / "plans" / "p.toml"

    result = ferry("init", state, "-o", plan_path)

    assert result.exit_code == 0, result.output
    plan = load_plan(plan_path)
    assert [s.path for s in plan.sources] == [
        "../state/.env",
        "../state/events.jsonl",
        "../state/jobs.json",
        "../state/legacy.db",
        "../state/settings.json",
        "../state/state.json",
        "../state/state.json",
        "../state/users.json",
        "../state/heartbeat_*.txt",
    ]
    assert plan.resolve("../state/.env").resolve() == (state / ".env").resolve()


def test_init_plan_inside_the_scanned_folder(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")

    result = ferry("init", state, "-o", state / "ferry.toml")

    assert result.exit_code == 0, result.output
    plan = load_plan(state / "ferry.toml")
    assert plan.source("users").path == "users.json"
    assert plan.source("heartbeat").path == "heartbeat_*.txt"


def test_init_refuses_to_overwrite_a_plan_without_force(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")
    plan_path = tmp_path / "ferry.toml"
    plan_path.write_text("# my reviewed plan\n", encoding="utf-8")

    result = ferry("init", state, "-o", plan_path)

    assert result.exit_code == 1
    assert f"error: {plan_path} exists already" in result.stderr
    assert "hint: Use --force to overwrite it." in result.stderr
    assert plan_path.read_text(encoding="utf-8") == "# my reviewed plan\n"


def test_init_force_overwrites_the_plan(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")
    plan_path = tmp_path / "ferry.toml"
    plan_path.write_text("# old\n", encoding="utf-8")

    result = ferry("init", state, "-o", plan_path, "--force")

    assert result.exit_code == 0, result.output
    assert len(load_plan(plan_path).sources) == 9


def test_init_into_a_missing_folder_is_refused_before_the_scan(tmp_path: Path) -> None:
    state = make_app_state(tmp_path / "state")

    result = ferry("init", state, "-o", tmp_path / "plans" / "ferry.toml")

    assert result.exit_code == 2
    assert (
        f"Invalid value for '-o' / '--output': the folder {tmp_path / 'plans'} does not exist"
        in result.stderr
    )
    assert not (tmp_path / "plans").exists()


def test_init_on_a_missing_folder_says_so(tmp_path: Path) -> None:
    result = ferry("init", tmp_path / "nope", "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 1
    assert f"error: {tmp_path / 'nope'} is not a folder" in result.stderr
    assert not (tmp_path / "ferry.toml").exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://app@db/state", "the target url starts with sqlite:/// or postgresql://"),
        ("postgresql://app:s3cret@db/state", "the URL holds a password; plans never store"),
        ("postgresql://app@db/state?password=s3cret", "the URL holds a password; plans never"),
        ("postgresql://app@db/state?Password=s3cret", "the URL holds a password; plans never"),
        ("postgresql://app@db/state?%70assword=s3cret", "the URL holds a password; plans never"),
        (
            "postgresql://app@db/state?options=-c%20password%3Ds3cret",
            "the URL holds a password; plans never store",
        ),
    ],
)
def test_init_refuses_a_bad_target_url_as_a_bad_command_line(
    tmp_path: Path, url: str, problem: str
) -> None:
    write_json(tmp_path / "state" / "users.json", [{"id": 1}])

    result = ferry("init", tmp_path / "state", "--target", url, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 2
    assert f"Invalid value for '--target': {problem}" in result.stderr
    assert "s3cret" not in result.stderr
    assert not (tmp_path / "ferry.toml").exists()


def test_a_rerun_of_init_does_not_take_the_plans_own_target_for_a_source(tmp_path: Path) -> None:
    state = tmp_path / "state"
    write_json(state / "users.json", [{"id": 1, "name": "Ada"}])
    plan_path = state / "ferry.toml"
    assert ferry("init", state, "-o", plan_path).exit_code == 0
    assert ferry("migrate", plan_path, "-q").exit_code == 0
    assert (state / "ferry.db").exists()

    result = ferry("init", state, "-o", plan_path, "--force")

    assert result.exit_code == 0, result.output
    plan = load_plan(plan_path)
    assert [s.name for s in plan.sources] == ["users"]
    # the target already holds the table: the draft maps into it as it is
    assert [(t.name, t.source, t.types) for t in plan.tables] == [("users", "users", {})]


def test_init_matches_against_a_sqlite_target_relative_to_the_plan(tmp_path: Path) -> None:
    state = tmp_path / "state"
    write_json(state / "users.json", [{"id": 1, "name": "Ada", "active": True}])
    plans = tmp_path / "plans"
    plans.mkdir()
    with sqlite3.connect(plans / "app.db") as conn:
        conn.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)"
        )
    conn.close()

    result = ferry("init", state, "--target", "sqlite:///app.db", "-o", plans / "ferry.toml")

    assert result.exit_code == 0, result.output
    [table] = load_plan(plans / "ferry.toml").tables
    assert (table.name, table.source, table.types, table.columns) == ("users", "users", {}, {})
    assert table.notes == [
        "matched to users by name: 2 of 3 columns match",
        "source field 'active' matches no column of users",
        "column 'email' is required but no source field matches it",
        "'email' needs a value the data does not hold: add columns.email = { const = ... } "
        '(one value for every row) or { from = "FIELD" }; until then migrate refuses users',
    ]
    # SQLite's INTEGER PRIMARY KEY is generated, but the source fills it: it is the key
    assert table.key == []
    assert not (state / "app.db").exists()


def test_init_notes_a_generated_primary_key_the_source_cannot_fill(tmp_path: Path) -> None:
    write_json(tmp_path / "state" / "steps.json", [{"job": "j1", "step": "probe"}])
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        conn.execute(
            "CREATE TABLE steps (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "job TEXT NOT NULL, step TEXT NOT NULL)"
        )
    conn.close()

    result = ferry("init", tmp_path / "state", "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    [table] = load_plan(tmp_path / "ferry.toml").tables
    assert table.key == []
    assert table.notes == [
        "matched to steps by name and columns: 2 of 2 columns",
        "source field 'position' matches no column of steps",
        "the primary key id is generated by the database: "
        "name the columns that identify a row in `key`",
    ]


def test_a_plan_drafted_against_the_apps_sqlite_schema_passes_check(tmp_path: Path) -> None:
    write_json(
        tmp_path / "state" / "users.json",
        [{"id": 1, "Name": "Ada", "email": "ada@example.org"}],
    )
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        conn.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL)"
        )
    conn.close()
    assert ferry("init", tmp_path / "state", "-o", tmp_path / "ferry.toml").exit_code == 0
    [table] = load_plan(tmp_path / "ferry.toml").tables
    assert (table.key, table.notes) == (
        [],
        [
            "matched to users by name and columns: 3 of 3 columns",
            "field 'Name' feeds column 'name' (case/underscores)",
        ],
    )

    result = ferry("check", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    assert "ok   table users: exists; 3 columns mapped, key id" in result.stdout


# -- --schema ------------------------------------------------------------------------------

SCHEMA_SQL = """
CREATE TABLE executions (
    execution_id VARCHAR(50) PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at DATETIME,
    note TEXT
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
"""


def make_schema_case(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    write_json(
        data / "executions.json",
        {
            "e1": {"ExecutionID": "e1", "Title": "First", "started_at": "2025-01-01T00:00:00Z"},
            "e2": {"ExecutionID": "e2", "Title": "Second", "started_at": "2025-01-02T00:00:00Z"},
        },
    )
    write_json(data / "Settings.json", {"log_level": "INFO"})
    write_json(data / "misc.json", [{"a": 1, "b": "x"}])
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA_SQL, encoding="utf-8")
    return data, schema


def test_init_with_schema_matches_tables_and_columns_by_name(tmp_path: Path) -> None:
    data, schema = make_schema_case(tmp_path)

    result = ferry("init", data, "--schema", schema, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    plan = load_plan(tmp_path / "ferry.toml")
    assert plan.target.url == "sqlite:///ferry.db"
    assert plan.target.schema_sql == "schema.sql"
    settings, executions, misc = plan.tables
    assert (settings.name, settings.source, settings.key, settings.types) == (
        "settings",
        "settings",
        [],
        {},
    )
    assert settings.columns == {}
    assert settings.notes == [
        "matched to settings by name: 2 of 3 columns match",
        "source field 'value_type' matches no column of settings",
        "columns no source field fills (they get their default or NULL): updated_at",
    ]
    assert (executions.name, executions.source, executions.key) == (
        "executions",
        "executions",
        [],
    )
    assert {name: c.from_ for name, c in executions.columns.items()} == {
        "execution_id": "ExecutionID",
        "title": "Title",
    }
    assert executions.notes == [
        "matched to executions by name: 3 of 5 columns match",
        "source field 'id' matches no column of executions",
        "field 'ExecutionID' feeds column 'execution_id' (case/underscores)",
        "field 'Title' feeds column 'title' (case/underscores)",
        "column 'status' is required but no source field matches it",
        "'status' needs a value the data does not hold: add columns.status = { const = ... } "
        '(one value for every row) or { from = "FIELD" }; until then migrate refuses executions',
        "columns no source field fills (they get their default or NULL): note",
    ]
    # no table of that name in the schema: Ferry will create it from the data
    assert (misc.name, misc.source, misc.key, misc.types, misc.notes) == (
        "misc",
        "misc",
        ["position"],
        {"position": "integer", "a": "integer", "b": "text"},
        [],
    )
    assert "note: executions: column 'status' is required" in result.stdout


def test_init_with_schema_leaves_no_target_file_behind(tmp_path: Path) -> None:
    data, schema = make_schema_case(tmp_path)

    result = ferry("init", data, "--schema", schema, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "ferry.toml", "schema.sql"]
    assert sorted(p.name for p in data.iterdir()) == [
        "Settings.json",
        "executions.json",
        "misc.json",
    ]


def test_init_with_a_broken_schema_names_it(tmp_path: Path) -> None:
    data, schema = make_schema_case(tmp_path)
    schema.write_text("CREATE TABLE broken (id INTEGER PRIMARY KEY,,);\n", encoding="utf-8")

    result = ferry("init", data, "--schema", schema, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 5
    assert "schema.sql" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ferry.toml").exists()
    assert not (tmp_path / "ferry.db").exists()


def test_init_against_an_existing_postgres_table(tmp_path: Path, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE jobs (job_id TEXT PRIMARY KEY, title TEXT NOT NULL, "
            "created_at TIMESTAMPTZ NOT NULL DEFAULT now(), owner TEXT NOT NULL)"
        )
    data = tmp_path / "data"
    write_json(
        data / "Jobs.json",
        [
            {"JobID": "j1", "Title": "Nightly", "priority": 1},
            {"JobID": "j2", "Title": "Weekly", "priority": 2},
        ],
    )

    result = ferry("init", data, "--target", pg_url, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    plan = load_plan(tmp_path / "ferry.toml")
    assert plan.target.url == pg_url
    [table] = plan.tables
    assert (table.name, table.source, table.key, table.types) == ("jobs", "jobs", [], {})
    assert {name: c.from_ for name, c in table.columns.items()} == {
        "job_id": "JobID",
        "title": "Title",
    }
    assert table.notes == [
        "matched to jobs by name: 2 of 4 columns match",
        "source field 'position' matches no column of jobs",
        "field 'JobID' feeds column 'job_id' (case/underscores)",
        "field 'Title' feeds column 'title' (case/underscores)",
        "source field 'priority' matches no column of jobs",
        "column 'owner' is required but no source field matches it",
        "'owner' needs a value the data does not hold: add columns.owner = { const = ... } "
        '(one value for every row) or { from = "FIELD" }; until then migrate refuses jobs',
        "columns no source field fills (they get their default or NULL): created_at",
    ]


# -- the scanner's pieces ------------------------------------------------------------------


def test_json_layout_tells_documents_from_records_and_settings(tmp_path: Path) -> None:
    doc = write_json(tmp_path / "doc.json", {"jobs": [{"id": 1}], "discs": {"a": {"n": 1}}})
    records = write_json(tmp_path / "records.json", [{"id": 1}])
    keyed = write_json(tmp_path / "keyed.json", {"a": {"n": 1}, "b": {"n": 2}})
    settings = write_json(tmp_path / "settings.json", {"langs": ["en"], "level": "INFO"})
    broken = tmp_path / "broken.json"
    broken.write_text('{"jobs": [', encoding="utf-8")

    assert json_layout(doc) == {"jobs": "array", "discs": "keyed"}
    assert json_layout(records) is None
    assert json_layout(keyed) is None
    assert json_layout(settings) is None
    assert json_layout(broken) is None


def test_text_files_group_by_prefix_only_when_several_share_it(tmp_path: Path) -> None:
    (tmp_path / "heartbeat_a.txt").write_text("1\n")
    (tmp_path / "heartbeat_b.txt").write_text("2\n")
    (tmp_path / "version.txt").write_text("1.2.3\n")
    (tmp_path / "pid_main.txt").write_text("42\n")
    (tmp_path / "notes.txt").write_text("line one\nline two\n")

    specs, skipped = find_sources(tmp_path)

    assert [(s.name, s.path, s.key_pattern) for s in specs] == [
        ("heartbeat", "heartbeat_*.txt", r"heartbeat_(?P<key>.+)\.txt"),
        ("pid_main", "pid_main.txt", None),
        ("version", "version.txt", None),
    ]
    assert skipped == [(tmp_path / "notes.txt", "a text file with more than one value")]


def test_a_source_that_cannot_be_read_is_reported_and_left_out(tmp_path: Path) -> None:
    write_json(tmp_path / "good.json", [{"id": 1}])
    (tmp_path / "bad.json").write_text('[{"id": 1},\n{"id": 2,,}]\n', encoding="utf-8")

    result = scan_folder(tmp_path)

    assert [s.name for s in result.plan.sources] == ["good"]
    [bad] = [s for s in result.sources if s.spec.name == "bad"]
    assert "bad.json" in bad.problem and "line 2" in bad.problem


def test_a_folder_without_state_writes_no_plan_and_exits_4(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hello\n")

    result = ferry("init", tmp_path, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 4, result.output
    assert f"error: {tmp_path} holds no file Ferry reads (readme.md: not a kind of file " in (
        result.output
    )
    assert not (tmp_path / "ferry.toml").exists()


@pytest.mark.parametrize("name", ["app.env", ".env.local", ".env"])
def test_env_files_are_found_by_name(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("A=1\n")

    specs, _ = find_sources(tmp_path)

    assert [(s.kind, s.path) for s in specs] == [("env", name)]


class _CancelAfter(CancelToken):
    """Cancelled once it has been asked ``checks`` times."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.left = checks

    def raise_if_cancelled(self) -> None:
        self.left -= 1
        if self.left < 0:
            self.cancel()
        super().raise_if_cancelled()


def test_a_cancelled_scan_stops_between_batches_with_its_own_message(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"job {i}"} for i in range(100_000)]
    (tmp_path / "jobs.json").write_text(json.dumps(records), encoding="utf-8")
    cancel = _CancelAfter(3)  # the check before the source, then two batches

    with pytest.raises(Cancelled, match=r"^Scan cancelled: nothing was written\.$"):
        scan_folder(tmp_path, cancel=cancel)
    assert cancel.left == -1  # stopped at the third batch of 5,000, not after 100,000 records


def test_a_database_named_file_that_is_not_sqlite_is_skipped_naming_that(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "app.db").write_bytes(b"garbage, not a database")
    (state / "users.json").write_text('[{"id": 1}]', encoding="utf-8")

    result = ferry("init", state, "-o", tmp_path / "ferry.toml", "--json")

    assert result.exit_code == 0, result.output
    [[path, why]] = json.loads(result.stdout)["skipped"]
    assert path == str(state / "app.db")
    assert why.startswith("named like a database but not a SQLite file")
