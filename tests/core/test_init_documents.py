"""ferry init on a document that holds metadata scalars beside its collections."""

from __future__ import annotations

import json
from pathlib import Path

from ferry.scan.folder import json_layout, scan_folder


def test_a_version_beside_the_collections_still_makes_a_document(tmp_path: Path) -> None:
    path = tmp_path / "executions.json"
    path.write_text(json.dumps({"version": 2, "executions": [{"id": "a", "steps": []}]}))
    beside: dict[str, object] = {}

    assert json_layout(path, beside) == {"executions": "array"}
    assert beside == {"version": 2}


def test_a_settings_map_holding_a_list_is_not_a_document(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"theme": "dark", "plugins": ["a", "b"]}))

    assert json_layout(path) is None


def test_init_drafts_the_collection_and_names_the_metadata_it_leaves(tmp_path: Path) -> None:
    jobs = [{"id": "j1", "title": "Intro"}, {"id": "j2", "title": "Outro"}]
    (tmp_path / "executions.json").write_text(json.dumps({"version": 2, "executions": jobs}))

    plan = scan_folder(tmp_path).plan

    assert [(s.name, s.root, s.shape) for s in plan.sources] == [
        ("executions", "executions", "records")
    ]
    [table] = plan.tables
    assert (table.name, table.notes[0]) == (
        "executions",
        "executions.json holds version = 2 beside its collections: document metadata, not migrated",
    )


def test_a_dump_stamped_with_its_time_and_service_is_a_document(tmp_path: Path) -> None:
    path = tmp_path / "jobs_dump.json"
    stamp = {"dumped_at": "2025-11-10T14:03:22+00:00", "service": "presentation-api"}
    path.write_text(json.dumps({**stamp, "jobs": [{"job_id": "a"}]}))
    beside: dict[str, object] = {}

    assert json_layout(path, beside) == {"jobs": "array"}
    assert beside == stamp
