"""Merge sources: several copies of the same rows become one, by key, with precedence and a
deletion rule; the run reports what each copy gave and which rows count as deleted."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from ferry.migrate import migrate
from ferry.plan import Plan, plan_from_dict
from ferry.sources import open_source
from ferry.sources.merge import MergeSource
from ferry.verify.run import verify

NAS = """
CREATE TABLE content (video_id TEXT PRIMARY KEY, title TEXT, analysis TEXT, indexed_at TEXT);
INSERT INTO content VALUES
  ('aaaaaaaaaaa', 'Alpha', '{"c": 1}', '2026-01-01T10:00:00Z'),
  ('bbbbbbbbbbb', 'Beta (new title)', '{"c": 2}', '2026-01-02T10:00:00Z'),
  ('ddddddddddd', 'Deleted on the dashboard', '{"c": 4}', '2026-01-03T10:00:00Z'),
  ('eeeeeeeeeee', 'Processed after the sync', NULL, '2026-02-01 09:00:00');
"""
DASHBOARD = """
CREATE TABLE content (video_id TEXT PRIMARY KEY, title TEXT, analysis TEXT, indexed_at TEXT);
INSERT INTO content VALUES
  ('aaaaaaaaaaa', 'Alpha', '{"c": 1, "subcategories": ["x"]}', '2026-01-01T10:00:00Z'),
  ('bbbbbbbbbbb', 'Beta', NULL, '2026-01-02T10:00:00Z'),
  ('ccccccccccc', 'Only on the dashboard', '{"c": 3}', '2026-01-05T10:00:00Z');
"""


def _db(path: Path, script: str) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()


def _plan(tmp_path: Path, **merge: Any) -> Plan:
    _db(tmp_path / "nas.db", NAS)
    _db(tmp_path / "dashboard.db", DASHBOARD)
    source = {
        "name": "videos",
        "kind": "merge",
        "inputs": ["nas.content", "dashboard.content"],
        "key": ["video_id"],
        **merge,
    }
    plan = plan_from_dict(
        {
            "target": {"url": "sqlite:///out.db"},
            "sources": [
                {"name": "nas", "kind": "sqlite", "path": "nas.db"},
                {"name": "dashboard", "kind": "sqlite", "path": "dashboard.db"},
                source,
            ],
            "tables": [{"name": "content", "source": "videos", "key": ["video_id"]}],
        },
        tmp_path,
    )
    return plan


def _merged(plan: Plan) -> tuple[dict[str, dict[str, Any]], MergeSource]:
    reader = open_source(plan.source("videos"), plan.base_dir, plan.sources)
    assert isinstance(reader, MergeSource)
    try:
        batches = list(reader.batches(2))
        rows = [row for batch in batches if batch.table == "videos" for row in batch.rows]
    finally:
        reader.close()
    return {row["video_id"]: row for row in rows}, reader


def test_first_input_with_a_value_wins_each_column(tmp_path: Path) -> None:
    rows, _ = _merged(_plan(tmp_path))
    assert rows["bbbbbbbbbbb"]["title"] == "Beta (new title)"  # nas comes first
    assert rows["bbbbbbbbbbb"]["analysis"] == '{"c": 2}'  # dashboard holds NULL there


def test_prefer_gives_a_column_to_another_input(tmp_path: Path) -> None:
    rows, reader = _merged(
        _plan(tmp_path, prefer={"analysis": ["dashboard.content", "nas.content"]})
    )
    assert json.loads(rows["aaaaaaaaaaa"]["analysis"])["subcategories"] == ["x"]
    assert rows["bbbbbbbbbbb"]["analysis"] == '{"c": 2}'  # the dashboard has none: nas fills in
    dashboard = reader.summary.inputs[1]
    assert dashboard.won == 1  # the one cell where its different value was taken


def test_without_a_deletion_rule_every_key_is_kept(tmp_path: Path) -> None:
    rows, reader = _merged(_plan(tmp_path))
    assert sorted(rows) == [c * 11 for c in "abcde"]
    assert reader.summary.deleted == 0


def test_rows_missing_from_a_copy_and_older_than_its_newest_row_count_as_deleted(
    tmp_path: Path,
) -> None:
    rule = {"missing_from": "dashboard.content", "by": "indexed_at"}
    rows, reader = _merged(_plan(tmp_path, deletions=rule))
    assert "ddddddddddd" not in rows  # older than the dashboard's last sync: deleted there
    assert "eeeeeeeeeee" in rows  # processed on the NAS after the sync: new
    assert reader.summary.deleted == 1
    assert reader.summary.deleted_keys == ["video_id='ddddddddddd'"]
    assert "2026-01-05 10:00:00" in reader.summary.deletion_rule


def test_a_fixed_cutoff_decides_deletions(tmp_path: Path) -> None:
    rule = {"missing_from": "dashboard.content", "by": "indexed_at", "before": "2026-03-01"}
    rows, reader = _merged(_plan(tmp_path, deletions=rule))
    assert sorted(rows) == [c * 11 for c in "abc"]
    assert reader.summary.deleted == 2


def test_spooling_pauses_between_input_batches_so_a_run_can_be_cancelled(
    tmp_path: Path,
) -> None:
    plan = _plan(tmp_path)
    reader = open_source(plan.source("videos"), plan.base_dir, plan.sources)
    tables = [batch.table for batch in reader.batches(1)]
    reader.close()
    assert tables[:7] == ["videos\x00spooling"] * 7  # 4 + 3 input rows, one batch each
    assert tables[7:] == ["videos"] * 5


def test_summary_counts_what_each_input_holds(tmp_path: Path) -> None:
    _, reader = _merged(_plan(tmp_path))
    nas, dashboard = reader.summary.inputs
    assert (nas.rows, nas.only_here) == (4, 2)
    assert (dashboard.rows, dashboard.only_here) == (3, 1)
    assert reader.summary.in_all == 2
    assert reader.summary.rows == 5


def test_the_merge_can_be_advanced_from_any_thread(tmp_path: Path) -> None:
    # The engine reads sources from whichever worker thread is free, one call at a time.
    plan = _plan(tmp_path)
    reader = open_source(plan.source("videos"), plan.base_dir, plan.sources)
    batches = reader.batches(1)
    seen: list[str] = []
    for _ in range(12):
        worker = threading.Thread(target=lambda: seen.append(next(batches).table))
        worker.start()
        worker.join()
    reader.close()
    assert seen.count("videos") == 5  # the rest: pauses while the inputs were spooled


def test_keys_of_different_types_meet(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"port": 8080, "7": "seven"}))
    (tmp_path / ".env").write_text("port=80\nhost=example.org\n7=env\n")
    plan = plan_from_dict(
        {
            "sources": [
                {
                    "name": "json",
                    "kind": "json",
                    "path": "settings.json",
                    "shape": "kv",
                    "key_column": "key",
                },
                {"name": "env", "kind": "env", "path": ".env", "key_column": "key"},
                {"name": "settings", "kind": "merge", "inputs": ["json", "env"], "key": ["key"]},
            ],
            "tables": [{"name": "settings", "source": "settings", "key": ["key"]}],
        },
        tmp_path,
    )
    reader = open_source(plan.source("settings"), tmp_path, plan.sources)
    rows = {
        r["key"]: r["value"] for b in reader.batches(10) for r in b.rows if b.table == "settings"
    }
    reader.close()
    assert rows == {"port": 8080, "7": "seven", "host": "example.org"}


def test_a_repeated_key_within_one_input_uses_the_last_row(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    conn = sqlite3.connect(tmp_path / "dashboard.db")
    conn.executescript(
        "CREATE TABLE c2 AS SELECT * FROM content; DROP TABLE content;"
        "CREATE TABLE content AS SELECT * FROM c2; DROP TABLE c2;"
        "INSERT INTO content VALUES ('ccccccccccc', 'Later copy', NULL, '2026-01-06');"
    )
    conn.close()
    rows, reader = _merged(plan)
    assert rows["ccccccccccc"]["title"] == "Later copy"
    assert reader.summary.inputs[1].duplicates == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inputs": ["nas.content"]}, "at least two 'inputs'"),
        ({"key": []}, "needs 'key'"),
        ({"prefer": {"title": ["elsewhere"]}}, "prefer.title names elsewhere"),
        ({"deletions": {"missing_from": "x.content", "by": "t"}}, "is not one of the inputs"),
        ({"inputs": ["nas.content", "nope.content"]}, "no source is named 'nope'"),
    ],
)
def test_a_wrong_merge_source_is_refused_with_the_reason(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    from ferry.errors import PlanError

    with pytest.raises((PlanError, ValueError), match=message):
        _plan(tmp_path, **change)


def test_merge_sources_reading_each_other_are_refused(tmp_path: Path) -> None:
    from ferry.errors import PlanError

    with pytest.raises((PlanError, ValueError), match="in a circle"):
        plan_from_dict(
            {
                "sources": [
                    {"name": "a", "kind": "merge", "inputs": ["b", "x"], "key": ["k"]},
                    {"name": "b", "kind": "merge", "inputs": ["a", "x"], "key": ["k"]},
                    {"name": "x", "kind": "jsonl", "path": "x.jsonl"},
                ],
            },
            tmp_path,
        )


def test_an_input_table_the_source_lacks_is_named(tmp_path: Path) -> None:
    from ferry.errors import PlanError

    plan = _plan(tmp_path, inputs=["nas.content", "dashboard.videos"])
    reader = open_source(plan.source("videos"), tmp_path, plan.sources)
    with pytest.raises(PlanError, match=r"'dashboard\.videos' is not a table"):
        reader.describe()
    reader.close()


def test_a_key_column_an_input_lacks_is_named(tmp_path: Path) -> None:
    from ferry.errors import PlanError

    plan = _plan(tmp_path, key=["videoid"])
    reader = open_source(plan.source("videos"), tmp_path, plan.sources)
    with pytest.raises(PlanError, match=r"input 'nas\.content' has no column 'videoid'"):
        reader.describe()
    reader.close()


def test_a_cutoff_that_is_not_a_time_is_refused_before_any_row_is_merged(tmp_path: Path) -> None:
    from ferry.errors import PlanError

    rule = {"missing_from": "dashboard.content", "by": "indexed_at", "before": "last tuesday"}
    plan = _plan(tmp_path, deletions=rule)
    reader = open_source(plan.source("videos"), tmp_path, plan.sources)
    tables = []
    with pytest.raises(PlanError, match="'last tuesday' is neither 'newest' nor a time"):
        tables.extend(batch.table for batch in reader.batches(100))
    reader.close()
    assert "videos" not in tables


def test_migration_reports_the_merge_and_verifies(tmp_path: Path) -> None:
    rule = {"missing_from": "dashboard.content", "by": "indexed_at"}
    plan = _plan(tmp_path, deletions=rule, prefer={"analysis": ["dashboard.content"]})
    result = asyncio.run(migrate(plan))
    assert result.table("content").inserted == 4
    (merge,) = result.merges
    assert merge["deleted"] == 1 and merge["rows"] == 4
    assert any("treated as deletions" in w for w in result.warnings)
    report = json.loads(Path(result.report_path or "").with_suffix(".json").read_text())
    assert report["result"]["merges"][0]["deleted_keys"] == ["video_id='ddddddddddd'"]
    page = Path(result.report_path or "").read_text()
    assert "Merged sources" in page and "ddddddddddd" in page
    checked = asyncio.run(verify(plan))
    assert checked.verdict == "PASS"
    again = asyncio.run(migrate(plan))
    assert again.table("content").unchanged == 4


def test_rows_of_keeps_only_the_keys_that_input_holds(tmp_path: Path) -> None:
    rows, reader = _merged(_plan(tmp_path, rows_of="dashboard.content"))
    assert sorted(rows) == [c * 11 for c in "abc"]  # d and e are only on the NAS
    assert rows["bbbbbbbbbbb"]["title"] == "Beta (new title)"  # precedence is unchanged
    assert reader.summary.left_out == 2


def test_rows_of_must_name_an_input(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="rows_of 'nas' is not one of the merge's inputs"):
        _plan(tmp_path, rows_of="nas")
