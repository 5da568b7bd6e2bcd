"""JSON documents with their collections inside an envelope, and JSON files without the
``.json`` name (found drafting a Home Assistant ``.storage`` folder: every file was skipped as
"not a kind of file Ferry reads"; named ``*.json``, the six files became one table of six
rows with each whole registry in a JSON column)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from draftkit import ferry


def _store(folder: Path, name: str, data: Any, minor: int = 1) -> None:
    envelope = {"version": 1, "minor_version": minor, "key": name, "data": data}
    (folder / name).write_text(json.dumps(envelope, indent=4), encoding="utf-8")


def _home(tmp_path: Path, suffix: str = "") -> Path:
    storage = tmp_path / "config" / ".storage"
    storage.mkdir(parents=True)
    entity = {
        "id": "a1",
        "entity_id": "sensor.t",
        "options": {"x": 1},
        "created_at": "2024-05-01T10:00:00+00:00",
    }
    gone = {"id": "b2", "entity_id": "sensor.old", "orphaned_timestamp": None}
    _store(
        storage, f"core.entity_registry{suffix}", {"entities": [entity], "deleted_entities": [gone]}
    )
    _store(storage, f"person{suffix}", {"items": [{"id": "ana", "name": "Ana"}]})
    _store(
        storage,
        f"core.restore_state{suffix}",
        [{"state": {"entity_id": "sensor.t"}, "last_seen": "x"}],
    )
    return tmp_path / "config"


def _drafted(tmp_path: Path, folder: Path) -> dict[str, Any]:
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", f"sqlite:///{tmp_path / 'out.db'}", "-o", plan)
    assert result.exit_code == 0, result.output
    return tomllib.loads(plan.read_text(encoding="utf-8"))


def test_each_collection_in_an_envelope_is_a_table(tmp_path: Path) -> None:
    drafted = _drafted(tmp_path, _home(tmp_path))
    roots = {s["name"]: s.get("root") for s in drafted["sources"]}
    assert roots == {
        "entities": "data.entities",
        "deleted_entities": "data.deleted_entities",
        "person": "data.items",
        "core_restore_state": "data",
    }


def test_files_named_json_are_not_read_as_one_record_each(tmp_path: Path) -> None:
    drafted = _drafted(tmp_path, _home(tmp_path, suffix=".json"))
    assert sorted(t["name"] for t in drafted["tables"]) == [
        "core_restore_state",
        "deleted_entities",
        "entities",
        "person",
    ]


def test_the_envelopes_metadata_is_named_as_not_migrated(tmp_path: Path) -> None:
    drafted = _drafted(tmp_path, _home(tmp_path))
    (table,) = [t for t in drafted["tables"] if t["name"] == "person"]
    assert any("holds version = 1, minor_version = 1, key = 'person'" in n for n in table["notes"])


def test_the_drafted_plan_moves_every_row(tmp_path: Path) -> None:
    folder = _home(tmp_path)
    _drafted(tmp_path, folder)
    result = ferry("migrate", "--no-backup", tmp_path / "plan.toml")
    assert result.exit_code == 0, result.output
    assert ferry("verify", tmp_path / "plan.toml").exit_code == 0


def test_a_file_that_only_starts_like_json_is_skipped(tmp_path: Path) -> None:
    folder = _home(tmp_path)
    (folder / ".storage" / "broken").write_text('{"version": 1, "data": [', encoding="utf-8")
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", f"sqlite:///{tmp_path / 'out.db'}", "-o", plan)
    assert result.exit_code == 0, result.output
    assert "skipped .storage/broken: not a kind of file Ferry reads (not JSON" in plan.read_text()


def test_a_databases_write_ahead_log_is_named_as_part_of_it(tmp_path: Path) -> None:
    folder = _home(tmp_path)
    (folder / "home-assistant_v2.db").write_bytes(b"SQLite format 3\x00" + bytes(4080))
    (folder / "home-assistant_v2.db-wal").write_bytes(b"\x37\x7f\x06\x82")
    plan = tmp_path / "plan.toml"
    ferry("init", folder, "--target", f"sqlite:///{tmp_path / 'out.db'}", "-o", plan)
    assert (
        "skipped home-assistant_v2.db-wal: the write-ahead log of the SQLite file "
        "home-assistant_v2.db, read with it"
    ) in plan.read_text()


def _settings_stores(tmp_path: Path) -> Path:
    """Home Assistant's ``.storage/http`` and ``.storage/http.auth``: settings objects in the
    envelope (scalars, a list), two files whose names share a stem."""
    storage = tmp_path / "config" / ".storage"
    storage.mkdir(parents=True)
    _store(storage, "http", {"server_port": 8123, "cors_allowed_origins": ["https://a.example"]})
    _store(storage, "http.auth", {"content_user": "85be0f50"})
    return tmp_path / "config"


def test_a_settings_object_in_an_envelope_is_one_row_per_setting(tmp_path: Path) -> None:
    drafted = _drafted(tmp_path, _settings_stores(tmp_path))
    sources = {s["name"]: (s.get("root"), s.get("shape")) for s in drafted["sources"]}
    assert sources == {"http": ("data", "kv"), "http_auth": ("data", "kv")}


def test_two_copies_of_settings_with_object_values_do_not_stop_init(tmp_path: Path) -> None:
    # HA's .storage/http and http.auth, read whole, were two copies of one key/value table and
    # init stopped on comparing their objects: "unexpected error: TypeError: unhashable type"
    folder = tmp_path / "app"
    folder.mkdir()
    for name, port in (("settings", 1), ("settings.old", 2)):
        document = {"port": 80, "cors": {"origins": [port]}, "theme": "dark"}
        (folder / name).write_text(json.dumps(document), encoding="utf-8")

    drafted = _drafted(tmp_path, folder)

    (merged,) = [s for s in drafted["sources"] if s["kind"] == "merge"]
    assert [q["id"] for q in drafted["questions"]] == [f"{merged['name']}.prefer.value"]


def test_a_collection_left_out_leaves_no_empty_found_line(tmp_path: Path) -> None:
    # HA's core.device_registry with no deleted device: "found …/core.device_registry (N bytes):"
    # and nothing after it, then the left-out line
    storage = tmp_path / "config" / ".storage"
    storage.mkdir(parents=True)
    _store(storage, "trace.saved_traces", {})
    _store(storage, "core.device_registry", {"devices": [{"id": "d1"}], "deleted_devices": []})
    plan = tmp_path / "plan.toml"
    result = ferry("init", tmp_path / "config", "-o", plan)
    assert result.exit_code == 0, result.output

    found = [line for line in plan.read_text(encoding="utf-8").splitlines() if "found" in line]

    assert [line for line in found if line.rstrip().endswith(":")] == []


def test_a_collection_named_like_another_files_is_named_by_its_file_too(tmp_path: Path) -> None:
    # HA's .storage/auth and auth_provider.homeassistant both hold data.users: "users_2" said
    # nothing of where the second came from
    storage = tmp_path / "config" / ".storage"
    storage.mkdir(parents=True)
    _store(storage, "auth", {"users": [{"id": "u1", "name": "Owner"}], "groups": [{"id": "g"}]})
    _store(storage, "auth_provider.homeassistant", {"users": [{"username": "owner"}]})

    drafted = _drafted(tmp_path, tmp_path / "config")

    names = {s["name"]: s["path"].rsplit("/", 1)[-1] for s in drafted["sources"]}
    assert names == {
        "users": "auth",
        "groups": "auth",
        "auth_provider_homeassistant_users": "auth_provider.homeassistant",
    }
