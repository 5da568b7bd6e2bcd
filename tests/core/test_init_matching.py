"""ferry init into an existing schema: what it could not match is listed for the reviewer."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan

SCHEMA = """
CREATE TABLE line_items (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL, note TEXT);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, message TEXT NOT NULL);
"""


def test_init_lists_type_disagreements_and_the_tables_no_source_feeds(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    items = [{"sku": "A-1", "qty": "two"}, {"sku": "B-2", "qty": "3"}]
    (data / "line_items.json").write_text(json.dumps(items), encoding="utf-8")
    (tmp_path / "schema.sql").write_text(SCHEMA, encoding="utf-8")

    result = CliRunner().invoke(
        cli,
        [
            "init",
            str(data),
            "--schema",
            str(tmp_path / "schema.sql"),
            "-o",
            str(tmp_path / "p.toml"),
        ],
    )

    assert result.exit_code == 0, result.output
    [spec] = load_plan(tmp_path / "p.toml").tables
    assert (spec.name, spec.columns["quantity"].from_) == ("line_items", "qty")
    assert spec.notes == [
        "matched to line_items by name: 2 of 3 columns match",
        "source field 'position' matches no column of line_items",
        "field 'qty' feeds column 'quantity' (synonym)",
        "type disagreement: field 'qty' holds text, column 'quantity' is integer (INTEGER): "
        "values that do not convert are rejected by key",
        "columns no source field fills (they get their default or NULL): note",
    ]
    assert "note: table audit_log of the target: no source matched it" in result.output


def test_a_column_default_is_drafted_only_where_the_source_column_may_be_null(
    tmp_path: Path,
) -> None:
    # MLflow: workspace is NOT NULL DEFAULT 'default' in the source too; a drafted default
    # there never applies, and the reverse plan asked a question for each of 24 tables
    data = tmp_path / "data"
    data.mkdir()
    schema = (
        "CREATE TABLE exps (id INTEGER PRIMARY KEY, "
        "ws TEXT NOT NULL DEFAULT 'default', stage TEXT DEFAULT 'active')"
    )
    source = sqlite3.connect(data / "app.db")
    source.execute(schema)
    source.close()
    target = sqlite3.connect(tmp_path / "target.db")
    target.execute(schema.replace("stage TEXT", "stage TEXT NOT NULL"))
    target.close()

    result = CliRunner().invoke(
        cli,
        ["init", str(data), "--target", f"sqlite:///{tmp_path / 'target.db'}",
         "-o", str(tmp_path / "p.toml")],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [spec] = load_plan(tmp_path / "p.toml").tables
    assert {name: column.default for name, column in spec.columns.items()} == {"stage": "active"}


def test_no_column_default_is_drafted_for_a_key_column(tmp_path: Path) -> None:
    # MLflow's registered_models: workspace is part of the primary key
    data = tmp_path / "data"
    data.mkdir()
    schema = (
        "CREATE TABLE models (ws TEXT NOT NULL DEFAULT 'default', name TEXT NOT NULL, "
        "PRIMARY KEY (ws, name))"
    )
    for path in (data / "app.db", tmp_path / "target.db"):
        db = sqlite3.connect(path)
        db.execute(schema)
        db.close()

    result = CliRunner().invoke(
        cli,
        ["init", str(data), "--target", f"sqlite:///{tmp_path / 'target.db'}",
         "-o", str(tmp_path / "p.toml")],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [spec] = load_plan(tmp_path / "p.toml").tables
    assert {name: column.default for name, column in spec.columns.items()} == {}
