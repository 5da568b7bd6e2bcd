"""``ferry init`` on a Node-RED user folder (found in a new-user trial on the folder Node-RED
4.1 wrote): npm's ``package.json`` was drafted as a settings table of the app, and the context
store's ``context/<flow>/flow.json`` files became tables ``flow`` and ``flow_2``, which say
nothing of which flow each holds (then ``tab1_flow``, ``tab2_flow``: still a table per flow
and node, and one more for every flow the app gains). The store is one table now, ``(scope,
key, value, value_type)``. Real files, the real CLI."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from draftkit import ferry

from ferry.api import migrate
from ferry.plan import Plan, load_plan


def _user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    for name, value in {
        "flows.json": [{"id": "tab1", "type": "tab", "label": "Sensors"}],
        "package.json": {"name": "node-red-project", "version": "0.0.1", "private": True},
        "context/global/global.json": {"last_temp": 21.5},
        "context/tab1/flow.json": {"count": 10},
        "context/tab2/flow.json": {"alerts": 3},
    }.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(value), encoding="utf-8")
    return folder


def _draft(tmp_path: Path) -> tuple[Path, str]:
    plan = tmp_path / "plan.toml"
    result = ferry("init", _user_folder(tmp_path), "-o", plan)
    assert result.exit_code == 0, result.output
    return plan, plan.read_text(encoding="utf-8")


def _migrate(plan: Plan) -> None:
    result = asyncio.run(migrate(plan, write_reports=False))
    assert result.status == "completed", result.error


def _rows(tmp_path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "ferry.db") as conn:
        rows = conn.execute("SELECT * FROM context ORDER BY scope, key").fetchall()
    conn.close()
    return rows


def test_the_npm_manifest_is_skipped_with_a_reason(tmp_path: Path) -> None:
    plan, text = _draft(tmp_path)

    assert "package" not in [s.name for s in load_plan(plan).sources]
    assert "skipped package.json: a toolchain's manifest" in text


def test_the_context_store_is_drafted_as_one_table_keyed_by_scope_and_key(
    tmp_path: Path,
) -> None:
    plan, _ = _draft(tmp_path)

    found = load_plan(plan)
    assert [(s.name, s.path, s.shape) for s in found.sources] == [
        ("context", "user/context/*/*.json", "kv"),
        ("flows", "user/flows.json", "auto"),
    ]
    assert next(t for t in found.tables if t.name == "context").key == ["scope", "key"]


def test_each_entry_is_a_row_named_by_its_file(tmp_path: Path) -> None:
    plan, _ = _draft(tmp_path)

    _migrate(load_plan(plan))

    assert _rows(tmp_path) == [
        ("global/global", "last_temp", 21.5, "number"),
        ("tab1/flow", "count", 10, "integer"),
        ("tab2/flow", "alerts", 3, "integer"),
    ]


def test_a_flow_the_app_adds_is_rows_of_the_same_table(tmp_path: Path) -> None:
    plan, _ = _draft(tmp_path)
    _migrate(load_plan(plan))
    (tmp_path / "user/context/tab3").mkdir()
    (tmp_path / "user/context/tab3/flow.json").write_text('{"count": 1}', encoding="utf-8")

    _migrate(load_plan(plan))

    assert ("tab3/flow", "count", 1, "integer") in _rows(tmp_path)


def test_files_of_one_name_in_several_folders_are_named_by_their_folder(tmp_path: Path) -> None:
    # lists of records, not settings: a source each, named by its folder
    folder = tmp_path / "app"
    for name in ("a", "b"):
        (folder / name).mkdir(parents=True)
        (folder / name / "data.json").write_text('[{"id": 1}]', encoding="utf-8")
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "-o", plan).exit_code == 0

    assert sorted(s.name for s in load_plan(plan).sources) == ["a_data", "b_data"]


def test_a_folder_holding_records_keyed_by_id_keeps_a_source_per_file(tmp_path: Path) -> None:
    # an object whose values are all objects is records keyed by id, not settings
    folder = tmp_path / "app"
    for name, value in {
        "store/a/users.json": {"u1": {"name": "Ada"}, "u2": {"name": "Bo"}},
        "store/b/prefs.json": {"theme": "dark"},
    }.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(value), encoding="utf-8")
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "-o", plan).exit_code == 0

    assert sorted(s.name for s in load_plan(plan).sources) == ["prefs", "users"]


def test_settings_in_sibling_folders_of_other_names_keep_a_source_each(tmp_path: Path) -> None:
    # no file name in two folders: unrelated settings side by side, not a store of scopes
    folder = tmp_path / "app"
    for name, value in {
        "app/config/app.json": {"theme": "dark"},
        "app/cache/state.json": {"last_open": "notes.txt"},
    }.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(value), encoding="utf-8")
    plan = tmp_path / "plan.toml"
    assert ferry("init", folder, "-o", plan).exit_code == 0

    assert sorted(s.name for s in load_plan(plan).sources) == ["app", "state"]
