"""The plan: validation messages, TOML load and save (ferry.plan)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import PlanError
from ferry.plan import Plan, load_plan, plan_from_dict, save_plan

BASE: dict[str, Any] = {
    "sources": [{"name": "jobs", "kind": "json", "path": "jobs.json"}],
    "tables": [{"name": "jobs", "source": "jobs"}],
}

FULL: dict[str, Any] = {
    "name": "demo",
    "target": {
        "url": "postgresql://app@db.example:5432/app",
        "schema": "schema.sql",
        "password_env": "APP_PW",
        "sslmode": "require",
        "connect_timeout": 30,
    },
    "backup": {"dir": "bk", "rename_migrated": True},
    "options": {"batch_size": 100, "timezone": "Europe/Berlin"},
    "sources": [
        {
            "name": "jobs",
            "kind": "json",
            "path": "jobs.json",
            "shape": "keyed",
            "key_column": "id",
            "nested_objects": "flatten",
        },
        {"name": "cfg", "kind": "env", "path": ".env"},
        {"name": "old", "kind": "postgres", "url": "postgresql://ro@old/app", "tables": ["a"]},
    ],
    "tables": [
        {
            "name": "jobs",
            "source": "jobs",
            "key": ["id"],
            "conflict": "newer",
            "newer_by": "updated_at",
            "on_reject": "stop",
            "columns": {
                "title": "name",
                "meta": {
                    "from": "raw",
                    "parse_json": True,
                    "json_path": "$.a[0]",
                    "default": "x",
                    "ops": ["trim", "lower"],
                    "cast": "text",
                    "on_error": "warn",
                    "fallback": "?",
                },
                "origin": {"const": "legacy"},
                "zero": {"const": 0},
                "seen": {"now": True},
                "has_flag": {"from": "flag", "is_not_null": True},
            },
            "map_all": False,
            "types": {"n": "integer"},
            "skip_when_null": ["title"],
            "delete_missing": True,
            "hook": "hooks.py:fix",
            "notes": ["check me"],
        },
        {"name": "settings", "source": "cfg"},
        {"name": "a", "source": "old.a"},
    ],
    "assertions": [
        {"name": "some jobs", "sql": "SELECT count(*) FROM jobs", "op": ">=", "expect": 1}
    ],
}


def problem(mutate: Any) -> str:
    """The PlanError message for BASE changed by ``mutate``."""
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(PlanError) as caught:
        plan_from_dict(data, Path("."), origin="ferry.toml")
    return caught.value.message


# -- round trip ---------------------------------------------------------------------------


def test_round_trip_load_save_load_is_equal(tmp_path: Path) -> None:
    plan = plan_from_dict(FULL, tmp_path)
    first = tmp_path / "first.toml"
    save_plan(plan, first)
    loaded = load_plan(first)
    second = tmp_path / "second.toml"
    save_plan(loaded, second)
    again = load_plan(second)
    assert loaded == plan
    assert again == loaded
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    save_plan(plan_from_dict(FULL, tmp_path), path)
    loaded = load_plan(path)
    assert loaded.target.schema_sql == "schema.sql"
    assert loaded.tables[0].columns["meta"].json_path == "$.a[0]"
    assert loaded.tables[0].columns["meta"].ops == ["trim", "lower"]
    assert loaded.tables[0].columns["zero"].has_const is True
    assert loaded.tables[0].columns["zero"].const == 0
    assert loaded.tables[0].columns["title"].from_ == "name"
    assert loaded.assertions[0].expect == 1
    assert loaded.base_dir == tmp_path.resolve()


def test_saved_plan_uses_shorthand_leaves_defaults_out_but_names_the_target(tmp_path: Path) -> None:
    data = BASE | {"tables": [{"name": "t", "source": "jobs", "columns": {"title": "name"}}]}
    path = tmp_path / "ferry.toml"
    save_plan(plan_from_dict(data, tmp_path), path)
    assert path.read_text(encoding="utf-8") == (
        "version = 1\n"
        "sources = [\n"
        '    { name = "jobs", kind = "json", path = "jobs.json" },\n'
        "]\n"
        "tables = [\n"
        '    { name = "t", source = "jobs", columns = { title = "name" } },\n'
        "]\n"
        "\n"
        "[target]\n"
        'url = "sqlite:///ferry.db"\n'
    )


def test_save_leaves_no_temporary_file(tmp_path: Path) -> None:
    save_plan(plan_from_dict(BASE, tmp_path), tmp_path / "ferry.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ferry.toml"]


def test_digest_is_stable_and_follows_content() -> None:
    one = plan_from_dict(BASE, Path("."))
    two = plan_from_dict(copy.deepcopy(BASE), Path("/elsewhere"))
    other = plan_from_dict(BASE | {"name": "other"}, Path("."))
    assert one.digest() == two.digest()
    assert len(one.digest()) == 64
    assert other.digest() != one.digest()


def test_defaults() -> None:
    plan = plan_from_dict(BASE, Path("."))
    assert plan.target.url == "sqlite:///ferry.db"
    assert plan.tables[0].conflict == "update"
    assert plan.tables[0].on_reject == "skip"
    assert plan.tables[0].delete_missing is False
    assert plan.tables[0].map_all is True
    assert plan.options.batch_size == 5000


def test_relative_paths_resolve_against_the_plan_folder(tmp_path: Path) -> None:
    (tmp_path / "ferry.toml").write_text(
        '[[sources]]\nname = "jobs"\nkind = "json"\npath = "data/jobs.json"\n', encoding="utf-8"
    )
    plan = load_plan(tmp_path / "ferry.toml")
    assert plan.resolve("data/jobs.json") == tmp_path.resolve() / "data" / "jobs.json"
    assert plan.resolve("/abs/x.json") == Path("/abs/x.json")


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    path.write_bytes(b'\xef\xbb\xbfname = "bom"\n')
    assert load_plan(path).name == "bom"


# -- validation messages ------------------------------------------------------------------


def test_unknown_key_is_named_with_a_suggestion() -> None:
    message = problem(lambda d: d.update(target={"ulr": "sqlite:///x.db"}))
    assert (
        message == "ferry.toml is not a valid plan: target.ulr: unknown key (did you mean 'url'?)"
    )


def test_unknown_key_in_a_table_names_the_table() -> None:
    message = problem(lambda d: d["tables"][0].update(conflct="insert"))
    assert message == (
        "ferry.toml is not a valid plan: "
        "tables[0] (\"jobs\").conflct: unknown key (did you mean 'conflict'?)"
    )


def test_unknown_key_in_a_column_spec_is_suggested() -> None:
    message = problem(lambda d: d["tables"][0].update(columns={"title": {"frm": "name"}}))
    assert message == (
        "ferry.toml is not a valid plan: "
        "tables[0] (\"jobs\").columns.title.frm: unknown key (did you mean 'from'?)"
    )


def test_unknown_top_level_key_without_a_close_match() -> None:
    message = problem(lambda d: d.update(zzz=1))
    assert message == "ferry.toml is not a valid plan: zzz: unknown key"


def test_bad_enum_value_lists_the_choices() -> None:
    message = problem(lambda d: d["tables"][0].update(conflict="upsert"))
    assert message == (
        'ferry.toml is not a valid plan: tables[0] ("jobs").conflict: must be one of '
        "'insert', 'update', 'newer' or 'error' (got 'upsert')"
    )


def test_bad_logical_type_lists_the_types() -> None:
    message = problem(lambda d: d["tables"][0].update(types={"n": "int"}))
    assert message == (
        'ferry.toml is not a valid plan: tables[0] ("jobs").types.n: must be one of '
        "'integer', 'float', 'decimal', 'boolean', 'text', 'timestamp', 'datetime', 'date', "
        "'json', 'bytes' or 'any' (got 'int')"
    )


def test_bad_source_kind() -> None:
    message = problem(lambda d: d["sources"][0].update(kind="yaml"))
    assert "sources[0] (\"jobs\").kind: must be one of 'json', 'jsonl'" in message
    assert message.endswith("(got 'yaml')")


def test_target_url_with_a_password_is_refused_without_echoing_it() -> None:
    message = problem(lambda d: d.update(target={"url": "postgresql://app:s3cr3t@db/app"}))
    assert message.startswith(
        "ferry.toml is not a valid plan: target.url: the URL holds a password; "
        "plans never store secrets."
    )
    assert "FERRY_PASSWORD" in message
    assert "s3cr3t" not in message


def test_source_url_with_a_password_is_refused() -> None:
    message = problem(
        lambda d: d["sources"].append(
            {"name": "old", "kind": "postgres", "url": "postgresql://u:hunter2@h/d"}
        )
    )
    assert message.startswith(
        'ferry.toml is not a valid plan: sources[1] ("old"): the URL holds a password'
    )
    assert "hunter2" not in message


# Every spelling libpq or a driver reads a password from; the secret is always "hunter2".
PASSWORD_SPELLINGS = [
    "postgresql://app:hunter2@db/app",
    "postgresql://app@db/app?password=hunter2",
    "postgresql://app@db/app?sslmode=require&PASSWORD=hunter2",
    "postgresql://app@db/app?PassWord=hunter2",
    "postgresql://app@db/app?%70assword=hunter2",
    "postgresql://app@db/app?%50GPASSWORD=hunter2",
    "postgresql://app@db/app?options=-c%20password%3Dhunter2",
    "postgresql+psycopg://app@db/app?options=-cpassword=hunter2",
    "postgresql://app:hunter2@[::1/app",  # not even a valid URL: still refused, not echoed
]


@pytest.mark.parametrize("url", PASSWORD_SPELLINGS)
def test_a_plan_file_with_a_password_in_the_target_url_is_refused(tmp_path: Path, url: str) -> None:
    plan_file = tmp_path / "ferry.toml"
    plan_file.write_text(
        f'[target]\nurl = "{url}"\n\n'
        '[[sources]]\nname = "jobs"\nkind = "json"\npath = "jobs.json"\n\n'
        '[[tables]]\nname = "jobs"\nsource = "jobs"\n',
        encoding="utf-8",
    )
    with pytest.raises(PlanError) as caught:
        load_plan(plan_file)
    assert caught.value.message.startswith(
        f"{plan_file} is not a valid plan: target.url: the URL holds a password; "
        "plans never store secrets. Remove the "
    )
    assert "FERRY_PASSWORD" in caught.value.message
    assert "ferry password set URL" in caught.value.message
    assert "hunter2" not in caught.value.message


@pytest.mark.parametrize("url", PASSWORD_SPELLINGS)
def test_a_postgres_source_url_with_a_password_is_refused(url: str) -> None:
    message = problem(
        lambda d: d["sources"].append({"name": "old", "kind": "postgres", "url": url})
    )
    assert message.startswith(
        'ferry.toml is not a valid plan: sources[1] ("old"): the URL holds a password'
    )
    assert "hunter2" not in message


def test_the_refusal_names_where_the_password_is() -> None:
    message = problem(
        lambda d: d.update(target={"url": "postgresql://app@db/app?options=-c%20password%3Dx"})
    )
    assert "Remove the password setting in the query's 'options' and set FERRY_PASSWORD" in (
        message
    )


def test_a_password_file_or_options_without_a_password_are_accepted() -> None:
    url = "postgresql://app@db/app?passfile=/home/app/.pgpass&options=-csearch_path%3Dapp"
    data = copy.deepcopy(BASE) | {"target": {"url": url}}
    assert plan_from_dict(data, Path(".")).target.url == url


def test_url_without_password_is_accepted() -> None:
    data = copy.deepcopy(BASE) | {"target": {"url": "postgresql://app@db:5432/app"}}
    assert plan_from_dict(data, Path(".")).target.url == "postgresql://app@db:5432/app"


def test_target_url_of_another_database_is_refused() -> None:
    message = problem(lambda d: d.update(target={"url": "mysql://db/app"}))
    assert message == (
        "ferry.toml is not a valid plan: "
        "target.url: the target url starts with sqlite:/// or postgresql://"
    )


def test_missing_source_reference_suggests_the_close_name() -> None:
    message = problem(lambda d: d["tables"][0].update(source="jbos"))
    assert message == (
        "ferry.toml is not a valid plan: (top level): table 'jobs' reads source 'jbos', "
        "but no source is named 'jbos' (did you mean 'jobs'?)"
    )


def test_missing_source_reference_of_a_child_table() -> None:
    message = problem(lambda d: d["tables"][0].update(source="tasks.steps"))
    assert message.endswith(
        "table 'jobs' reads source 'tasks.steps', but no source is named 'tasks'"
    )


def test_duplicate_source_names() -> None:
    message = problem(lambda d: d["sources"].append({"name": "jobs", "kind": "env", "path": "e"}))
    assert (
        message == "ferry.toml is not a valid plan: (top level): source names must be unique: jobs"
    )


def test_source_without_a_path() -> None:
    message = problem(lambda d: d["sources"][0].pop("path"))
    assert (
        message
        == "ferry.toml is not a valid plan: sources[0] (\"jobs\"): a json source needs 'path'"
    )


def test_postgres_source_without_a_url() -> None:
    message = problem(lambda d: d["sources"].append({"name": "old", "kind": "postgres"}))
    assert message == (
        "ferry.toml is not a valid plan: sources[1] (\"old\"): a postgres source needs 'url'"
    )


def test_required_key_missing() -> None:
    message = problem(lambda d: d["tables"][0].pop("name"))
    assert message == "ferry.toml is not a valid plan: tables[0].name: required key is missing"


def test_newer_needs_newer_by() -> None:
    message = problem(lambda d: d["tables"][0].update(conflict="newer"))
    assert message == (
        'ferry.toml is not a valid plan: tables[0] ("jobs"): '
        "conflict rule 'newer' needs 'newer_by' (the column to compare)"
    )


def test_column_with_two_origins() -> None:
    message = problem(lambda d: d["tables"][0].update(columns={"x": {"from": "a", "now": True}}))
    assert message == (
        'ferry.toml is not a valid plan: tables[0] ("jobs").columns.x: '
        "give only one of 'from', 'const' and 'now'"
    )


def test_json_path_must_start_with_dollar() -> None:
    message = problem(lambda d: d["tables"][0].update(columns={"x": {"json_path": "a.b"}}))
    assert message == (
        'ferry.toml is not a valid plan: tables[0] ("jobs").columns.x: '
        "json_path starts with '$', e.g. '$.categories[0]'"
    )


def test_unknown_plan_version() -> None:
    message = problem(lambda d: d.update(version=2))
    assert message == "ferry.toml is not a valid plan: version: this Ferry reads plan version 1"


def test_every_problem_is_listed() -> None:
    data = copy.deepcopy(BASE)
    data["tables"][0]["conflict"] = "upsert"
    data["options"] = {"batch_size": 0}
    with pytest.raises(PlanError) as caught:
        plan_from_dict(data, Path("."), origin="ferry.toml")
    assert caught.value.details.splitlines() == [
        "options.batch_size: Input should be greater than or equal to 1",
        "tables[0] (\"jobs\").conflict: must be one of 'insert', 'update', 'newer' or 'error' "
        "(got 'upsert')",
    ]
    assert caught.value.hint.startswith("Fix the keys named above")


def test_plan_error_exit_code() -> None:
    assert PlanError("x").exit_code == 3


# -- reading files ------------------------------------------------------------------------


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    path.write_text('name = "unterminated\n', encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.message.startswith(f"plan file {path} is not valid TOML: ")
    assert caught.value.message.endswith("(at line 1, column 21)")


def test_not_utf8_names_the_file_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.message == f"plan file {path} is not UTF-8 text (bad byte at offset 11)"
    assert caught.value.hint == "Save the plan as UTF-8."


def test_missing_plan_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.message == f"plan file {path} does not exist"


def test_plan_file_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path)
    assert caught.value.message.startswith(f"cannot read plan file {tmp_path}: ")


def test_invalid_plan_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    path.write_text('[target]\nulr = "sqlite:///x.db"\n', encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.message == (
        f"{path} is not a valid plan: target.ulr: unknown key (did you mean 'url'?)"
    )


def test_plan_model_is_exported() -> None:
    import ferry

    assert ferry.Plan is Plan
    assert ferry.load_plan is load_plan


def test_time_zone_is_checked() -> None:
    message = problem(lambda d: d.update(options={"timezone": "Mars/Olympus"}))
    assert message == (
        "ferry.toml is not a valid plan: options.timezone: unknown time zone 'Mars/Olympus'; "
        "use an IANA name such as 'Europe/Berlin', or 'UTC'"
    )


def test_time_zone_of_the_plan() -> None:
    from datetime import UTC
    from zoneinfo import ZoneInfo

    assert plan_from_dict(BASE, Path(".")).options.zone is UTC
    berlin = plan_from_dict(BASE | {"options": {"timezone": "Europe/Berlin"}}, Path("."))
    assert berlin.options.zone == ZoneInfo("Europe/Berlin")
