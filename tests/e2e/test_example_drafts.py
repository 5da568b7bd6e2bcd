"""``ferry init`` on each of ``examples/``: the draft, with only its open questions answered,
gives the target the example's hand-written plan gives.

For each example its generator writes the legacy state twice (it is deterministic): the hand
plan (``ferry.toml``) migrates one copy; in the other, ``ferry init`` drafts a plan into the
same kind of target (the hand plan's target and schema), the draft's questions are answered
the way the hand plan decides them (``answers``: question id -> choice, no other edit), and
it migrates. The two targets must hold the same rows, table by table (Ferry's journal left
out). A column both plans stamp with ``now = true`` holds each run's own time: the draft must
stamp the same columns, and in each target every such value must be one time within its run;
only then is that one column's time set aside, every other column is compared as it is. An
example the draft does not reproduce yet is ``xfail(strict=True)`` with what is
still missing, so the figure in README.md stays honest.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from examplekit import EXAMPLES as EXAMPLE_FOLDERS
from examplekit import ferry, set_target, target_rows

import pgcluster
from ferry.plan import Plan, load_plan
from ferry.questions import answer_and_save, open_questions


@dataclass(frozen=True)
class Example:
    """One example: its generator's arguments and the answers the hand plan implies."""

    name: str
    args: tuple[str, ...] = ()
    answers: dict[str, str] = field(default_factory=dict)
    postgres: bool = False


EXAMPLES = [
    pytest.param(
        # the hand plan keeps a job the database holds with a later last_heartbeat
        Example(
            "presentation-jobs",
            ("--rows", "60"),
            # and rejects the job without a status
            answers={
                "presentation_jobs.conflict": "newer",
                "presentation_jobs.status.missing": "leave",
            },
        ),
        id="presentation-jobs",
    ),
    pytest.param(
        # records keyed by their own id field; titles/tv_episodes keyed by their UNIQUE;
        # the hand plan rejects the job without a type and the episode without a number
        Example(
            "boz-ripper",
            ("--rows", "60"),
            answers={
                "jobs.job_type.missing": "leave",
                "tv_episodes.episode_number.missing": "leave",
            },
        ),
        id="boz-ripper",
    ),
    pytest.param(
        Example(
            "py-captions",
            ("--rows", "40"),
            answers={
                # the hand plan stamps manual_queue's and settings' times with now = true
                "manual_queue.unfilled": "now",
                "settings.unfilled": "now",
                # its business rule: a service with a heartbeat file is alive
                "heartbeats.status": "alive",
                # the job without a title and the step without a status are rejected
                "executions.title.missing": "leave",
                "execution_steps.status.missing": "leave",
                # a null setting is "", a key only .env has is a string
                "settings.value.missing": "empty",
                "settings.value_type.missing": "string",
                # the names SettingsService reads
                "settings.value_type.names": "boolean=bool, integer=int, number=float, "
                "object=json, array=json, null=string",
            },
        ),
        id="py-captions",
    ),
    pytest.param(
        Example(
            "ytv2",
            (),
            answers={
                "content.prefer.title": "nas",
                "content.prefer.analysis": "dashboard",
                "content.deletions": "deleted_on_dashboard",
                "content.title.missing": "leave",  # the video without a title is rejected
            },
            postgres=True,
        ),
        id="ytv2",
        marks=pytest.mark.xfail(
            strict=True,
            reason="content_summaries stays empty: nothing drafts a table fed through a hook "
            "(summary_html.py beside the plan adds summary_html; init neither finds hook files "
            "nor offers one as a question) nor its key (video_id, variant, revision) whose "
            "variant/revision only the schema's DEFAULTs give; also not asked: language, "
            "analysis_json and topics_json are NULLable, so rows without a language or with "
            "an analysis that is not JSON get NULL where the hand plan's business rules give "
            "'en', {} and [] (the value questions cover NOT NULL columns only)",
        ),
    ),
]


def _write(example: Example, folder: Path) -> Path:
    """Run the example's generator into ``folder``; the hand plan it copied there."""
    script = EXAMPLE_FOLDERS / example.name / "generate.py"
    command = [sys.executable, str(script), str(folder), *example.args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return folder / "ferry.toml"


def _stamped(plan: Plan) -> dict[str, list[str]]:
    """Per table, the columns the plan stamps with the run's time (``now = true``)."""
    stamped = {t.name: sorted(n for n, c in t.columns.items() if c.now) for t in plan.tables}
    return {name: columns for name, columns in stamped.items() if columns}


def _migrate(folder: Path, plan_name: str) -> tuple[datetime, datetime]:
    """Migrate; when the run started and finished."""
    run = json.loads(ferry(folder, "migrate", plan_name, "--no-backup", "--json").stdout)
    return datetime.fromisoformat(run["started_at"]), datetime.fromisoformat(run["finished_at"])


def _set_aside_run_times(plan: Plan, run: tuple[datetime, datetime]) -> None:
    """Check each stamped column holds one time within the run, then blank it (a SQLite
    target: the only kind whose plans stamp times so far)."""
    stamped = _stamped(plan)
    if not stamped:
        return
    from ferry.targets.sqlite import sqlite_path

    assert plan.target.is_sqlite, "a PostgreSQL example stamping now: compare it here too"
    slack = timedelta(seconds=1)  # the file stores microseconds, the report rounds nothing
    with sqlite3.connect(sqlite_path(plan.target, plan.base_dir)) as db:
        for table, columns in stamped.items():
            for column in columns:
                values = {v for (v,) in db.execute(f'SELECT DISTINCT "{column}" FROM "{table}"')}
                assert len(values) == 1, f"{table}.{column}: {sorted(map(str, values))}"
                stamp = datetime.fromisoformat(str(values.pop())).replace(tzinfo=UTC)
                assert run[0] - slack <= stamp <= run[1] + slack, (table, column, stamp, run)
                db.execute(f"UPDATE \"{table}\" SET \"{column}\" = 'the run''s time'")


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> Iterator[tuple[str, str] | None]:
    """Two empty PostgreSQL databases (hand, draft) for an example whose target is one."""
    example: Example = request.node.callspec.params["example"]
    if not example.postgres:
        yield None
        return
    server: str = request.getfixturevalue("pg_server_url")
    names = [f"ferry_test_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    urls = [pgcluster.create_database(server, name) for name in names]
    try:
        yield urls[0], urls[1]
    finally:
        for name in names:
            pgcluster.drop_database(server, name)


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_draft_with_its_questions_answered_gives_the_hand_plans_target(
    tmp_path: Path, example: Example, databases: tuple[str, str] | None
) -> None:
    hand_plan = _write(example, tmp_path / "hand")
    draft_folder = tmp_path / "draft"
    _write(example, draft_folder)
    hand = load_plan(hand_plan)
    target = hand.target.url
    if databases is not None:
        set_target(hand_plan, databases[0])
        hand = load_plan(hand_plan)
        target = databases[1]
    init = ["init", "data", "--target", target, "-o", "draft.toml", "--force"]
    if hand.target.schema_sql:
        init += ["--schema", hand.target.schema_sql]
    ferry(draft_folder, *init)
    for question_id, choice in example.answers.items():
        answer_and_save(draft_folder / "draft.toml", question_id, choice)
    draft = load_plan(draft_folder / "draft.toml")
    assert not open_questions(draft)

    hand_run = _migrate(hand_plan.parent, hand_plan.name)
    draft_run = _migrate(draft_folder, "draft.toml")

    assert _stamped(draft) == _stamped(hand)
    _set_aside_run_times(hand, hand_run)
    _set_aside_run_times(draft, draft_run)
    expected = target_rows(hand)
    assert target_rows(draft) == expected
    assert all(expected.values())
