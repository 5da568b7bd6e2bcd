"""A workspace per plan (ferry.scan.workspace, ``ferry init FOLDER [-w DIR]``): the drafted plan,
its backups, reports and new SQLite target go into a folder of their own, never into the app's
data folder unless the operator names it.

Every test runs with its own ``FERRY_WORKSPACE_DIR`` (tests/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ferry.cli.command import cli
from ferry.plan import load_plan
from ferry.scan.workspace import WORKSPACE_DIR_ENV, default_workspace, slug, workspaces_root


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def make_app(folder: Path) -> Path:
    """An app's data folder: two JSON files and a .env."""
    folder.mkdir(parents=True)
    users = [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]
    (folder / "users.json").write_text(json.dumps(users), encoding="utf-8")
    (folder / "settings.json").write_text(json.dumps({"theme": "dark"}), encoding="utf-8")
    (folder / ".env").write_text("MODE=prod\n", encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) with its bytes; folders as empty."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<dir>"
        for p in sorted(folder.rglob("*"))
    }


# -- the default workspace -----------------------------------------------------------------


def test_the_default_workspace_is_under_the_workspace_dir_named_after_the_folder(
    tmp_path: Path, ferry_workspace_dir: Path
) -> None:
    folder = make_app(tmp_path / "My App Data")

    workspace = default_workspace(folder)

    assert workspace.parent == ferry_workspace_dir
    assert workspace.name.startswith("my-app-data-")
    assert len(workspace.name) == len("my-app-data-") + 8


def test_the_default_workspace_is_stable_for_the_same_folder(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")

    assert default_workspace(folder) == default_workspace(tmp_path / "." / "app")


def test_two_folders_of_the_same_name_get_two_workspaces(tmp_path: Path) -> None:
    one, two = make_app(tmp_path / "a" / "data"), make_app(tmp_path / "b" / "data")

    assert default_workspace(one) != default_workspace(two)


def test_a_name_without_letters_or_digits_still_gives_a_folder_name() -> None:
    assert (slug("Été 2024 / prod"), slug("…")) == ("t-2024-prod", "data")


def test_a_database_url_gets_a_workspace_named_after_its_database() -> None:
    first = default_workspace("postgresql://app@db.example/shop?sslmode=require")
    second = default_workspace("postgresql://app@other.example/shop")

    assert first.parent == workspaces_root()
    assert first.name.startswith("shop-") and second.name.startswith("shop-")
    assert first != second


def test_without_the_variable_workspaces_go_to_the_users_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WORKSPACE_DIR_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))

    assert workspaces_root() == tmp_path / "share" / "ferry" / "workspaces"


# -- ferry init ----------------------------------------------------------------------------


def test_init_leaves_the_data_folder_byte_identical(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")
    before = snapshot(folder)

    result = ferry("init", folder)

    assert result.exit_code == 0, result.output
    assert snapshot(folder) == before


def test_init_writes_the_plan_into_the_default_workspace_and_says_where(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")
    workspace = default_workspace(folder)

    result = ferry("init", folder)

    assert result.exit_code == 0, result.output
    assert (workspace / "ferry.toml").is_file()
    assert f"Workspace (the plan, backups, reports, new target): {workspace}" in result.output


def test_the_workspace_plan_names_the_apps_files_by_absolute_path(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")

    assert ferry("init", folder).exit_code == 0

    plan = load_plan(default_workspace(folder) / "ferry.toml")
    assert sorted(s.path or "" for s in plan.sources) == [
        str(folder / ".env"),
        str(folder / "settings.json"),
        str(folder / "users.json"),
    ]


def test_a_migration_of_the_workspace_plan_writes_only_into_the_workspace(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")
    workspace = default_workspace(folder)
    assert ferry("init", folder).exit_code == 0
    before = snapshot(folder)

    result = ferry("migrate", workspace / "ferry.toml", "-q")

    assert result.exit_code == 0, result.output
    assert snapshot(folder) == before
    assert {p.name for p in workspace.iterdir()} >= {
        "ferry.toml",
        "ferry.db",
        "ferry-backups",
        "ferry-reports",
    }


def test_init_into_a_chosen_workspace(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")
    chosen = tmp_path / "plans" / "staging"

    result = ferry("init", folder, "--workspace", chosen)

    assert result.exit_code == 0, result.output
    assert load_plan(chosen / "ferry.toml").target.url == "sqlite:///ferry.db"
    assert not default_workspace(folder).exists()


def test_init_into_the_data_folder_when_the_operator_names_it(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")

    result = ferry("init", folder, "-w", folder)

    assert result.exit_code == 0, result.output
    plan = load_plan(folder / "ferry.toml")
    assert sorted(s.path or "" for s in plan.sources) == [".env", "settings.json", "users.json"]


def test_init_refuses_output_and_workspace_together(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")

    result = ferry("init", folder, "-o", tmp_path / "p.toml", "-w", tmp_path / "w")

    assert result.exit_code == 2
    assert "give -o/--output or -w/--workspace, not both" in result.output
    assert not (tmp_path / "p.toml").exists()
    assert not (tmp_path / "w").exists()


def test_init_again_keeps_the_workspace_plan_without_force(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")
    assert ferry("init", folder).exit_code == 0
    plan_file = default_workspace(folder) / "ferry.toml"
    plan_file.write_text(plan_file.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")

    result = ferry("init", folder)

    assert result.exit_code == 1
    assert f"{plan_file} exists already" in result.output
    assert plan_file.read_text(encoding="utf-8").endswith("# mine\n")


def test_a_failed_scan_makes_no_workspace(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    result = ferry("init", missing)

    assert result.exit_code == 1
    assert not default_workspace(missing).exists()


def test_init_json_names_the_workspace(tmp_path: Path) -> None:
    folder = make_app(tmp_path / "app")

    result = ferry("init", folder, "--json")

    assert result.exit_code == 0, result.output
    found = json.loads(result.output[result.output.index("{") :])
    assert (found["plan"], found["workspace"]) == (
        str(default_workspace(folder) / "ferry.toml"),
        str(default_workspace(folder)),
    )
