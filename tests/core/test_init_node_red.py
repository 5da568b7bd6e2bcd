"""``ferry init`` on a Node-RED user folder (found in a new-user trial on the folder Node-RED
4.1 wrote): npm's ``package.json`` was drafted as a settings table of the app, and the context
store's ``context/<flow>/flow.json`` files became tables ``flow`` and ``flow_2``, which say
nothing of which flow each holds. Real files, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from draftkit import ferry

from ferry.plan import load_plan


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


def test_the_npm_manifest_is_skipped_with_a_reason(tmp_path: Path) -> None:
    plan, text = _draft(tmp_path)

    assert "package" not in [s.name for s in load_plan(plan).sources]
    assert "skipped package.json: a toolchain's manifest" in text


def test_files_of_one_name_in_several_folders_are_named_by_their_folder(tmp_path: Path) -> None:
    plan, _ = _draft(tmp_path)

    names = sorted(s.name for s in load_plan(plan).sources)
    assert names == ["flows", "global", "tab1_flow", "tab2_flow"]
