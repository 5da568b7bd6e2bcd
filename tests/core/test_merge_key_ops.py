"""Merge sources with ``key_ops``: keys written differently in different inputs (a .env
file's ``WHISPER_MODEL``, settings.json's ``whisper_model``) meet after the text ops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ferry.errors import PlanError
from ferry.plan import Plan, plan_from_dict
from ferry.sources import open_source


def _plan(tmp_path: Path, **merge: Any) -> Plan:
    (tmp_path / "settings.json").write_text(
        json.dumps({"whisper_model": "medium", "dry_run": False}), encoding="utf-8"
    )
    (tmp_path / ".env").write_text(
        "WHISPER_MODEL=small\nDRY_RUN=true\nWHISPER_DEVICE=cuda\n", encoding="utf-8"
    )
    source = {"name": "settings", "kind": "merge", "inputs": ["json", "env"], "key": ["key"]}
    return plan_from_dict(
        {
            "sources": [
                {"name": "json", "kind": "json", "path": "settings.json", "shape": "kv"},
                {"name": "env", "kind": "env", "path": ".env"},
                {**source, **merge},
            ],
            "tables": [{"name": "settings", "source": "settings", "key": ["key"]}],
        },
        tmp_path,
    )


def _merged(plan: Plan) -> dict[str, dict[str, Any]]:
    reader = open_source(plan.source("settings"), plan.base_dir, plan.sources)
    try:
        rows = [
            row for batch in reader.batches(100) if batch.table == "settings" for row in batch.rows
        ]
    finally:
        reader.close()
    return {row["key"]: row for row in rows}


def test_key_ops_let_differently_written_keys_meet(tmp_path: Path) -> None:
    merged = _merged(_plan(tmp_path, key_ops=["lower"]))

    assert sorted(merged) == ["dry_run", "whisper_device", "whisper_model"]
    assert merged["whisper_model"]["value"] == "medium"  # settings.json comes first
    assert merged["dry_run"]["value"] is False
    assert merged["whisper_device"]["value"] == "cuda"  # only in .env, its key lower-cased


def test_without_key_ops_keys_compare_as_written(tmp_path: Path) -> None:
    merged = _merged(_plan(tmp_path))

    assert "WHISPER_MODEL" in merged and "whisper_model" in merged


def test_key_ops_belong_to_merge_sources(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="key_ops"):
        plan_from_dict(
            {"sources": [{"name": "env", "kind": "env", "path": ".env", "key_ops": ["lower"]}]},
            tmp_path,
        )
