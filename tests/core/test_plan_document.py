"""Plans are documents: saving keeps every comment, blank line and key order (ferry.plandoc),
and the draft ``ferry init`` writes is commented (ferry.scan.draftdoc)."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.demo import demo_source
from ferry.plan import load_plan, save_plan

ROOT = Path(__file__).resolve().parents[2]
PLANS = [*sorted(ROOT.glob("examples/*/ferry.toml")), demo_source() / "ferry.toml"]


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.mark.parametrize("plan_file", PLANS, ids=lambda p: p.parent.name)
def test_an_untouched_plan_is_saved_byte_identical(plan_file: Path, tmp_path: Path) -> None:
    saved = tmp_path / "ferry.toml"
    save_plan(load_plan(plan_file), saved)
    assert saved.read_bytes() == plan_file.read_bytes()


def test_setting_the_target_url_changes_that_line_only_and_keeps_its_comment(
    tmp_path: Path,
) -> None:
    shutil.copytree(demo_source(), tmp_path / "demo")
    path = tmp_path / "demo" / "ferry.toml"
    before = path.read_text(encoding="utf-8")
    plan = load_plan(path)
    plan.target.url = "sqlite:///elsewhere.db"
    save_plan(plan, path)
    after = path.read_text(encoding="utf-8")
    assert changed_lines(before, after) == [
        '-url = "sqlite:///app.db"    # the embedded default: a file beside this plan',
        '+url = "sqlite:///elsewhere.db"    # the embedded default: a file beside this plan',
    ]
    assert sum("#" in line for line in after.splitlines()) == 10
    assert load_plan(path).target.url == "sqlite:///elsewhere.db"


def test_a_changed_conflict_rule_keeps_the_comment_at_the_end_of_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ferry.toml"
    shutil.copy(ROOT / "examples" / "presentation-jobs" / "ferry.toml", path)
    plan = load_plan(path)
    plan.tables[0].conflict = "insert"
    plan.tables[0].newer_by = None
    save_plan(plan, path)
    assert changed_lines(
        (ROOT / "examples" / "presentation-jobs" / "ferry.toml").read_text(encoding="utf-8"),
        path.read_text(encoding="utf-8"),
    ) == [
        '-conflict = "newer"        # a job the database holds with a later heartbeat is not '
        "overwritten",
        '-newer_by = "last_heartbeat"',
        '+conflict = "insert"        # a job the database holds with a later heartbeat is not '
        "overwritten",
    ]


PLAN = """\
# my migration
name = "jobs"   # the app's name

[target]
url = "sqlite:///app.db"

# the queue
[[sources]]
name = "jobs"
kind = "json"
path = "jobs.json"

[[sources]]
name = "old"
kind = "json"
path = "old.json"

# jobs first
[[tables]]
name = "jobs"
source = "jobs"
key = ["id"]

# then the old ones
[[tables]]
name = "old"
source = "old"
"""


def test_removing_a_table_and_adding_one_keeps_the_comments_of_the_others(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ferry.toml"
    path.write_text(PLAN, encoding="utf-8")
    plan = load_plan(path)
    plan.tables.append(plan.tables[1].model_copy(update={"name": "archive"}))
    del plan.tables[1]
    save_plan(plan, path)
    assert path.read_text(encoding="utf-8") == PLAN.replace(
        '# then the old ones\n[[tables]]\nname = "old"\n',
        '[[tables]]\nname = "archive"\n',
    )
    assert [t.name for t in load_plan(path).tables] == ["jobs", "archive"]


def test_removing_the_first_table_takes_its_comment_and_keeps_the_next_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ferry.toml"
    path.write_text(PLAN, encoding="utf-8")
    plan = load_plan(path)
    del plan.tables[0]
    save_plan(plan, path)
    assert path.read_text(encoding="utf-8") == PLAN.replace(
        '# jobs first\n[[tables]]\nname = "jobs"\nsource = "jobs"\nkey = ["id"]\n\n', ""
    )


def test_a_plan_with_a_bom_and_crlf_lines_stays_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "ferry.toml"
    raw = b"\xef\xbb\xbf" + PLAN.replace("\n", "\r\n").encode()
    path.write_bytes(raw)
    save_plan(load_plan(path), path)
    assert path.read_bytes() == raw


def test_init_writes_a_commented_draft_and_keeps_the_notes_as_data(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "jobs.json").write_text(
        json.dumps([{"id": 1, "size": 10}, {"id": 2, "size": "big"}]), encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["init", str(folder), "-o", str(tmp_path / "ferry.toml")])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "ferry.toml").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(f"# Draft plan written by `ferry init` from {folder} on ")
    assert lines[1] == (
        "# Scanned: 1 sources (0 files skipped), 1 target tables into sqlite:///ferry.db."
    )
    table = lines.index("[[tables]]")
    assert lines[table + 1 : table + 3] == [
        "# jobs: a table Ferry creates, fed by jobs (2 rows)",
        "# key id; conflict update: keys the target already holds are overwritten by the source",
    ]
    assert lines[table + 3].startswith("# note: column 'size' holds mixed values, so it is text")
    plan = load_plan(tmp_path / "ferry.toml")
    assert plan.tables[0].notes[0].startswith("column 'size' holds mixed values, so it is text")


def test_a_file_init_cannot_read_is_headed_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "jobs.json").write_text('[{"id": 1}]', encoding="utf-8")
    (folder / "cut.json").write_text('[{"id": 1}, {"id": 2', encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(folder), "-o", str(tmp_path / "ferry.toml")])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "ferry.toml").read_text(encoding="utf-8").splitlines()

    [cut] = [line for line in lines if "cut.json" in line]
    assert cut.startswith("#   not read cut.json (")
    assert "the JSON ends too early" in cut
