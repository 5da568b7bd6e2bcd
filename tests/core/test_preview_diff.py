"""The preview's row-level diff and its sampling mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fakesource import FakeTable, install, make_plan, sha256

from ferry.errors import PlanError
from ferry.load.diff import CellChange, RowDiff, RowInsert
from ferry.migrate import migrate
from ferry.plan import Plan
from ferry.results import RunResult

OLD = [
    {"id": 1, "name": "a", "n": 1},
    {"id": 2, "name": "b", "n": 2},
    {"id": 3, "name": "c", "n": 3},
]
NEW = [
    {"id": 1, "name": "a", "n": 1},
    {"id": 2, "name": "B", "n": 20},
    {"id": 4, "name": "d", "n": 4},
]


def _plan(tmp_path: Path, **table: Any) -> Plan:
    spec = {"name": "t", "source": "src", "key": ["id"], **table}
    return make_plan(f"sqlite:///{tmp_path / 'out.db'}", [spec], tmp_path)


def _run(plan: Plan, **options: Any) -> RunResult:
    return asyncio.run(migrate(plan, **options))


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    install(monkeypatch, {"src": FakeTable(OLD, key=("id",))})
    _run(_plan(tmp_path))
    install(monkeypatch, {"src": FakeTable(NEW, key=("id",))})
    return tmp_path


def test_diff_lists_changed_cells_of_updates(loaded: Path) -> None:
    result = _run(_plan(loaded), preview=True, diff_tables=["t"])
    assert result.diffs == [
        RowDiff("t", "id=2", "update", [CellChange("name", "b", "B"), CellChange("n", 2, 20)])
    ]


def test_diff_marks_conflicts_kept_by_the_rule(loaded: Path) -> None:
    result = _run(_plan(loaded, conflict="insert"), preview=True, diff_tables=["*"])
    assert [(d.key, d.decision) for d in result.diffs] == [("id=2", "conflict")]


def test_diff_is_empty_unless_asked_for(loaded: Path) -> None:
    assert _run(_plan(loaded), preview=True).diffs == []


def test_diff_preview_leaves_the_target_byte_identical(loaded: Path) -> None:
    before = sha256(loaded / "out.db")
    _run(_plan(loaded), preview=True, diff_tables=["*"])
    assert sha256(loaded / "out.db") == before


def test_diff_limit_caps_the_rows(loaded: Path) -> None:
    result = _run(_plan(loaded), preview=True, diff_tables=["t"], diff_limit=0)
    assert result.diffs == []


def test_sample_reads_only_the_first_rows(loaded: Path) -> None:
    result = _run(_plan(loaded), preview=True, sample=2)
    assert result.table("t").counts()["read"] == 2
    assert result.sample == 2


def test_sample_is_refused_outside_a_preview(loaded: Path) -> None:
    with pytest.raises(PlanError, match="previews only"):
        _run(_plan(loaded), sample=2)


def test_diff_appears_in_the_json_result(loaded: Path) -> None:
    data = _run(_plan(loaded), preview=True, diff_tables=["t"]).to_dict()
    assert data["diffs"][0]["changes"][0] == {"column": "name", "before": "b", "after": "B"}


def test_diff_lists_the_rows_to_insert_with_their_values(loaded: Path) -> None:
    result = _run(_plan(loaded), preview=True, diff_tables=["t"])
    assert result.inserts == [RowInsert("t", "id=4", {"id": 4, "name": "d", "n": 4})]


def test_diff_lists_the_rows_loaded_into_an_empty_table_as_inserts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, {"src": FakeTable(OLD, key=("id",))})
    result = _run(_plan(tmp_path), preview=True, diff_tables=["*"], diff_limit=2)
    assert result.inserts == [
        RowInsert("t", "id=1", {"id": 1, "name": "a", "n": 1}),
        RowInsert("t", "id=2", {"id": 2, "name": "b", "n": 2}),
    ]
    assert result.table("t").counts()["inserted"] == 3


def test_cli_preview_prints_the_diff(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from ferry.cli.command import cli

    data = tmp_path / "jobs.json"
    plan = tmp_path / "ferry.toml"
    plan.write_text(
        'version = 1\n[target]\nurl = "sqlite:///out.db"\n'
        '[[sources]]\nname = "jobs"\nkind = "json"\npath = "jobs.json"\n'
        '[[tables]]\nname = "jobs"\nsource = "jobs"\n'
    )
    data.write_text(json.dumps([{"id": 1, "title": "old"}]))
    assert CliRunner().invoke(cli, ["migrate", str(plan), "-q"]).exit_code == 0
    data.write_text(json.dumps([{"id": 1, "title": "new"}]))
    result = CliRunner().invoke(cli, ["preview", str(plan), "-q", "--diff", "jobs"])
    assert result.exit_code == 0
    assert "jobs id=1: update" in result.stdout
    assert "title: 'old' -> 'new'" in result.stdout


def test_diff_lists_the_rows_to_insert_into_postgresql(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = {"name": "t", "source": "src", "key": ["id"]}
    install(monkeypatch, {"src": FakeTable(OLD, key=("id",))})
    _run(make_plan(pg_url, [spec], tmp_path))
    install(monkeypatch, {"src": FakeTable(NEW, key=("id",))})
    result = _run(make_plan(pg_url, [spec], tmp_path), preview=True, diff_tables=["*"])
    assert result.inserts == [RowInsert("t", "id=4", {"id": 4, "name": "d", "n": 4})]
