"""Two sources matched to one existing target table ask its questions once. Found drafting a
Chromium profile beside a target that already had a ``settings`` table: ``Local State`` and
``Preferences`` (two settings maps) both fed it, each asked the same question, and ``ferry
init`` stopped with "unexpected error: question ids must be unique". Real files, a real SQLite
target, the real CLI."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

from draftkit import ferry


def test_a_question_two_sources_raise_is_asked_once(tmp_path: Path) -> None:
    folder = tmp_path / "profile"
    (folder / "Default").mkdir(parents=True)
    (folder / "local.json").write_text(json.dumps({"a": 1, "b": True, "c": {"x": 1}}))
    (folder / "Default" / "prefs.json").write_text(json.dumps({"d": "s", "e": [1], "f": 2}))
    with sqlite3.connect(tmp_path / "ferry.db") as db:
        db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT, value_type TEXT)")
    db.close()
    plan = tmp_path / "plan.toml"

    result = ferry("init", folder, "-o", plan, "--target", f"sqlite:///{tmp_path / 'ferry.db'}")

    assert result.exit_code == 0, result.output
    questions = tomllib.loads(plan.read_text(encoding="utf-8"))["questions"]
    asked = [q for q in questions if q["id"] == "settings.value_type.names"]
    assert len(asked) == 1 and len(asked[0]["evidence"]) >= 3
