"""ferry init on several copies of one table that drifted apart (seeds 003/004): one merge
source, and open questions with the evidence for what only the operator can decide."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import Plan, load_plan
from ferry.scan.folder import scan_folder
from ferry.scan.questions import answer, answer_and_save
from ferry.sources import open_source

ROOT = Path(__file__).resolve().parents[2]
COPIES = ROOT / "tests" / "corpus" / "diverged_copies"


def drafted(tmp_path: Path) -> Path:
    """The laptop and server copies of `videos` (tests/corpus/diverged_copies), drafted."""
    folder = tmp_path / "app"
    shutil.copytree(COPIES, folder)
    result = CliRunner().invoke(
        cli,
        [
            "init",
            str(folder / "data"),
            "--schema",
            str(folder / "schema.sql"),
            "-o",
            str(folder / "ferry.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    return folder / "ferry.toml"


def test_two_copies_of_a_table_are_drafted_as_one_merge_source(tmp_path: Path) -> None:
    plan = load_plan(drafted(tmp_path))

    assert [(s.name, s.kind) for s in plan.sources] == [
        ("laptop", "sqlite"),
        ("server", "sqlite"),
        ("videos", "merge"),
    ]
    merge = plan.sources[2]
    assert (merge.inputs, merge.key, merge.prefer, merge.deletions) == (
        ["laptop.videos", "server.videos"],
        ["video_id"],
        {},
        None,
    )
    assert [(t.name, t.source) for t in plan.tables] == [("videos", "videos")]
    assert plan.tables[0].notes[0] == (
        "2 copies of one table (laptop.videos, server.videos: 6 keys, 5 keys) merged by "
        "video_id: 4 keys in every copy, 2 only in laptop.videos, 1 only in server.videos; a "
        "NULL in one copy takes the other's value; where values differ, the questions "
        "videos.prefer.<column> name the winning copy; rows in one copy only are all kept "
        "unless question videos.deletions says they were deleted"
    )


def test_the_questions_carry_the_counts_that_make_them_answerable(tmp_path: Path) -> None:
    plan = load_plan(drafted(tmp_path))

    asked = {q.id: (q.choices, q.default, q.evidence) for q in plan.questions}
    assert asked == {
        "videos.prefer.title": (
            ["laptop", "server"],
            "laptop",
            [
                "1 of the 4 keys in every copy differ in 'title' (first: v3)",
                "by updated_at, the newer row of those is in laptop.videos: 1, server.videos: 0",
            ],
        ),
        "videos.prefer.category": (
            ["laptop", "server"],
            "server",
            [
                "1 of the 4 keys in every copy differ in 'category' (first: v2)",
                "by updated_at, the newer row of those is in laptop.videos: 0, server.videos: 1",
            ],
        ),
        "videos.prefer.updated_at": (
            ["laptop", "server"],
            "laptop",
            [
                "2 of the 4 keys in every copy differ in 'updated_at' (first: v2, v3)",
                "by updated_at, the newer row of those is in laptop.videos: 1, server.videos: 1",
            ],
        ),
        "videos.deletions": (
            ["keep", "deleted_on_laptop", "deleted_on_server"],
            "keep",
            [
                "2 rows only in laptop.videos, 1 rows only in server.videos",
                "newest updated_at: laptop.videos 2025-02-01 09:00:00, "
                "server.videos 2025-01-07 10:00:00",
                "deleted_on_laptop: a row laptop.videos lacks whose updated_at is older than "
                "the newest updated_at it holds (its last sync) was deleted there; a younger "
                "one is new",
                "deleted_on_server: a row server.videos lacks whose updated_at is older than "
                "the newest updated_at it holds (its last sync) was deleted there; a younger "
                "one is new",
            ],
        ),
    }
    assert all(q.is_open for q in plan.questions)


def test_run_with_the_defaults_deletes_nothing_and_keeps_the_newer_edits(
    tmp_path: Path,
) -> None:
    path = drafted(tmp_path)
    for asked in load_plan(path).questions:
        answer_and_save(path, asked.id, asked.default)

    result = CliRunner().invoke(cli, ["migrate", str(path), "--no-backup", "-q"])

    assert result.exit_code == 0, result.output
    with sqlite3.connect(path.parent / "ferry.db") as conn:
        rows = conn.execute("SELECT * FROM videos ORDER BY video_id").fetchall()
    conn.close()
    assert rows == [
        ("v1", "Intro", "science", "2025-01-01T10:00:00Z"),
        ("v2", "Piano", "music/piano", "2025-01-02T10:00:00Z"),
        ("v3", "Oceans", "nature", "2025-01-05T10:00:00Z"),
        ("v4", "Jazz", "music", "2025-01-04T10:00:00Z"),
        ("v5", "Old clip", "misc", "2025-01-02T12:00:00Z"),
        ("v6", "New talk", "talks", "2025-02-01T09:00:00Z"),
        ("v7", "Server only", "news", "2025-01-07T10:00:00Z"),
    ]


def test_an_answer_sets_one_entry_of_prefer_and_keeps_the_others(tmp_path: Path) -> None:
    path = drafted(tmp_path)
    answer_and_save(path, "videos.prefer.category", "server")
    answer_and_save(path, "videos.prefer.title", "server")
    answer_and_save(path, "videos.deletions", "deleted_on_server")

    merge = load_plan(path).sources[2]

    assert merge.prefer == {
        "category": ["server.videos", "laptop.videos"],
        "title": ["server.videos", "laptop.videos"],
    }
    assert merge.deletions is not None
    assert (merge.deletions.missing_from, merge.deletions.by, merge.deletions.before) == (
        "server.videos",
        "updated_at",
        "newest",
    )


def merged_rows(plan: Plan, source: str) -> list[tuple[object, ...]]:
    spec = next(s for s in plan.sources if s.name == source)
    reader = open_source(spec, plan.base_dir, plan.sources)
    try:
        rows = [r for b in reader.batches(1000) if b.table == source for r in b.rows]
    finally:
        reader.close()
    return sorted((tuple(sorted(r.items())) for r in rows), key=repr)


def test_ytv2_answered_as_its_hand_plan_merges_the_same_rows(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ytv2" / "generate.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    hand = load_plan(tmp_path / "ferry.toml")
    draft = scan_folder(tmp_path / "data", plan_dir=tmp_path).plan
    draft.base_dir = tmp_path / "data"
    for question_id, choice in {
        "content.prefer.title": "nas",
        "content.prefer.analysis": "dashboard",
        "content.deletions": "deleted_on_dashboard",
    }.items():
        answer(draft, question_id, choice)

    assert sorted(q.id for q in draft.questions) == [
        "content.deletions",
        "content.prefer.analysis",
        "content.prefer.title",
    ]
    ours, theirs = merged_rows(draft, "content"), merged_rows(hand, "videos")
    assert len(ours) == 220
    assert ours == theirs


def test_two_unrelated_files_with_the_same_columns_are_not_copies(tmp_path: Path) -> None:
    (tmp_path / "keep.json").write_text('[{"id": 1, "v": "precious"}]', encoding="utf-8")
    (tmp_path / "drop.json").write_text('[{"id": 1, "v": "x"}]', encoding="utf-8")

    plan = scan_folder(tmp_path).plan

    assert [(s.name, s.kind) for s in plan.sources] == [("drop", "json"), ("keep", "json")]
    assert (plan.questions, [t.name for t in plan.tables]) == ([], ["drop", "keep"])
