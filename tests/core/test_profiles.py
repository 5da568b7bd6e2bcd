"""Connection profiles (ferry.profiles, ``ferry profiles``) and ``--target URL|PROFILE``.

Each test has its own config folder (``FERRY_CONFIG_DIR``, tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.errors import PlanError
from ferry.plan import load_plan
from ferry.profiles import (
    PROFILES_FILE,
    delete_profile,
    load_profiles,
    make_profile,
    override_target,
    profiles_path,
    save_profile,
    target_for,
)
from ferry.safety.passwords import PASSWORD_HINT

STAGING = "postgresql://app@staging.example:5432/app"


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def write_plan(folder: Path, target: str = 'url = "sqlite:///app.db"') -> Path:
    (folder / "items.jsonl").write_text('{"id": 1, "name": "a"}\n', encoding="utf-8")
    path = folder / "ferry.toml"
    path.write_text(
        f"""# my plan
name = "items"

[target]
{target}
connect_timeout = 7

[[sources]]
name = "items"
kind = "jsonl"
path = "items.jsonl"

[[tables]]
name = "items"
source = "items"
key = ["id"]
""",
        encoding="utf-8",
    )
    return path


# -- the profiles file ---------------------------------------------------------------------


def test_a_saved_profile_reads_back(ferry_config_dir: str) -> None:
    save_profile(make_profile("staging", STAGING, "sales", "require"))
    found = load_profiles()
    assert profiles_path() == Path(ferry_config_dir) / PROFILES_FILE
    assert list(found) == ["staging"]
    assert (found["staging"].url, found["staging"].pg_schema, found["staging"].sslmode) == (
        STAGING,
        "sales",
        "require",
    )


def test_the_profiles_file_is_private() -> None:
    path = save_profile(make_profile("staging", STAGING))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3cret@db/app",
        "postgresql://app@db/app?password=s3cret",
        "postgresql://app@db/app?PGPASSWORD=s3cret",
        "postgresql://app@db/app?options=-c%20password%3Ds3cret",
    ],
)
def test_a_password_is_refused_on_save_with_the_security_message(url: str) -> None:
    with pytest.raises(PlanError) as caught:
        save_profile(make_profile("staging", url))
    assert "plans never store secrets" in caught.value.message
    assert PASSWORD_HINT in caught.value.message
    assert "s3cret" not in caught.value.message
    assert not profiles_path().exists()


def test_a_password_written_into_the_file_by_hand_is_refused_naming_the_file() -> None:
    path = profiles_path()
    path.write_text('[connections.prod]\nurl = "postgresql://a:s3cret@db/x"\n', encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_profiles()
    assert str(path) in caught.value.message and "s3cret" not in caught.value.message


def test_a_broken_file_is_named_in_the_message() -> None:
    path = profiles_path()
    path.write_text("[connections.prod\nurl = 1\n", encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_profiles()
    assert str(path) in caught.value.message and "not valid TOML" in caught.value.message
    assert caught.value.hint


def test_saving_keeps_the_files_comments_and_replaces_by_name() -> None:
    path = profiles_path()
    path.write_text(
        f'# shared by the team\n[connections.staging]\nurl = "{STAGING}"\n', encoding="utf-8"
    )
    save_profile(make_profile("staging", "postgresql://app@staging2/app"))
    save_profile(make_profile("prod", "postgresql://app@prod/app"))
    assert path.read_text(encoding="utf-8").startswith("# shared by the team")
    assert {p.url for p in load_profiles().values()} == {
        "postgresql://app@staging2/app",
        "postgresql://app@prod/app",
    }


def test_a_profile_is_deleted_by_name() -> None:
    save_profile(make_profile("staging", STAGING))
    save_profile(make_profile("prod", "postgresql://app@prod/app"))
    assert delete_profile("staging") is True
    assert delete_profile("staging") is False
    assert list(load_profiles()) == ["prod"]


def test_a_schema_ferry_keeps_its_journal_in_is_refused() -> None:
    with pytest.raises(PlanError, match="Ferry's own"):
        make_profile("staging", STAGING, pg_schema="ferry")


# -- --target --------------------------------------------------------------------------------


def test_target_names_a_profile_and_keeps_the_plans_other_settings(tmp_path: Path) -> None:
    save_profile(make_profile("staging", STAGING, "sales", "require"))
    plan = load_plan(write_plan(tmp_path))
    override_target(plan, "staging")
    assert (plan.target.url, plan.target.pg_schema, plan.target.sslmode) == (
        STAGING,
        "sales",
        "require",
    )
    assert plan.target.connect_timeout == 7


def test_an_unknown_profile_name_lists_the_saved_ones() -> None:
    save_profile(make_profile("staging", STAGING))
    with pytest.raises(PlanError) as caught:
        target_for("prodution")
    assert "staging" in caught.value.message


def test_a_target_url_with_a_password_is_refused() -> None:
    with pytest.raises(PlanError, match="plans never store secrets"):
        target_for("postgresql://app:s3cret@db/app")


def test_migrate_target_writes_to_the_given_database_not_the_plans(tmp_path: Path) -> None:
    plan_file = write_plan(tmp_path)
    before = plan_file.read_text(encoding="utf-8")
    result = ferry("migrate", plan_file, "-q", "--target", "sqlite:///staging.db")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "staging.db").exists()
    assert not (tmp_path / "app.db").exists()
    assert plan_file.read_text(encoding="utf-8") == before
    assert "staging.db" in result.output


def test_verify_target_reads_the_given_database(tmp_path: Path) -> None:
    plan_file = write_plan(tmp_path)
    assert ferry("migrate", plan_file, "-q", "--target", "sqlite:///staging.db").exit_code == 0
    assert ferry("verify", plan_file, "--target", "sqlite:///staging.db").exit_code == 0
    # the plan's own target was never written: verifying it fails
    assert ferry("verify", plan_file).exit_code != 0


def test_target_profile_on_the_command_line(tmp_path: Path) -> None:
    save_profile(make_profile("local", "sqlite:///local.db"))
    plan_file = write_plan(tmp_path)
    result = ferry("migrate", plan_file, "-q", "--target", "local")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "local.db").exists()


def test_init_target_names_a_profile_and_the_draft_gets_its_url_and_schema(
    tmp_path: Path, pg_url: str
) -> None:
    save_profile(make_profile("staging", pg_url, pg_schema="sales"))
    data = tmp_path / "data"
    data.mkdir()
    (data / "items.jsonl").write_text('{"id": 1, "name": "a"}\n', encoding="utf-8")

    result = ferry("init", data, "--target", "staging", "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    target = load_plan(tmp_path / "ferry.toml").target
    assert (target.url, target.pg_schema) == (pg_url, "sales")


def test_init_target_with_an_unknown_profile_name_is_refused(tmp_path: Path) -> None:
    result = ferry("init", tmp_path, "--target", "nosuch", "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 2
    assert "neither a database URL nor a saved connection profile" in result.output
    assert not (tmp_path / "ferry.toml").exists()


def test_target_with_a_password_exits_with_the_message(tmp_path: Path) -> None:
    plan_file = write_plan(tmp_path)
    result = ferry("check", plan_file, "--target", "postgresql://a:s3cret@127.0.0.1/x")
    assert result.exit_code != 0
    assert "plans never store secrets" in result.output and "s3cret" not in result.output


# -- ferry profiles ----------------------------------------------------------------------------


def test_profiles_add_list_remove() -> None:
    assert ferry("profiles", "add", "staging", STAGING, "--pg-schema", "sales").exit_code == 0
    listed = ferry("profiles", "list")
    assert "staging" in listed.output and "sales" in listed.output
    assert ferry("profiles", "remove", "staging").exit_code == 0
    assert "No connection profiles" in ferry("profiles", "list").output


def test_profiles_remove_of_an_unknown_name_fails() -> None:
    result = ferry("profiles", "remove", "nope")
    assert result.exit_code != 0 and "nope" in result.output


def test_profiles_list_names_a_broken_file() -> None:
    profiles_path().write_text("not toml [", encoding="utf-8")
    result = ferry("profiles", "list")
    assert result.exit_code != 0 and str(profiles_path()) in result.output.replace("\n", "")


def test_the_report_names_the_target_the_run_used(tmp_path: Path) -> None:
    plan_file = write_plan(tmp_path)
    assert ferry("migrate", plan_file, "-q", "--target", "sqlite:///staging.db").exit_code == 0
    (report,) = (tmp_path / "ferry-reports").glob("migrate-*.json")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["result"]["target"].endswith("staging.db")
    assert data["plan"]["target"]["url"] == "sqlite:///staging.db"


def test_backups_prune_target_prunes_the_backups_of_that_target(tmp_path: Path) -> None:
    plan_file = write_plan(tmp_path)
    staging = "sqlite:///staging.db"
    assert ferry("migrate", plan_file, "-q", "--target", staging).exit_code == 0
    assert ferry("migrate", plan_file, "-q", "--target", staging).exit_code == 0
    # the plan's own target has none of them: nothing is deleted
    mine = ferry("backups", "prune", plan_file, "--keep", "1")
    assert "0 backups deleted" in mine.output, mine.output
    pruned = ferry("backups", "prune", plan_file, "--keep", "1", "--target", staging)
    assert pruned.exit_code == 0, pruned.output
    assert "1 backups deleted" in pruned.output, pruned.output
