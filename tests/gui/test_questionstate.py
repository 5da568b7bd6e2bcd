"""The Qt-free state behind the Questions tab (ferry_gui.questionstate): no widgets here."""

from __future__ import annotations

from pathlib import Path

from guikit import question_plan

from ferry.plan import load_plan
from ferry.scan.questions import answer
from ferry_gui.questionstate import (
    blocked_reason,
    checklist_line,
    choice_lines,
    preselected,
    tab_title,
)


def test_an_open_question_blocks_with_its_id_and_the_default_is_only_preselected(
    tmp_path: Path,
) -> None:
    plan = load_plan(question_plan(tmp_path))
    (asked,) = plan.questions
    assert checklist_line(asked) == "☐ orders.conflict — open"
    assert preselected(asked) == "keep"
    assert tab_title(plan) == "&Questions (1)"
    assert blocked_reason(plan).startswith("1 open question(s) (orders.conflict): answer each")
    assert [(c.choice, c.sets) for c in choice_lines(asked)] == [
        ("keep", "tables.orders.conflict = 'insert'"),
        ("newer", "tables.orders.conflict = 'newer', tables.orders.newer_by = 'updated_at'"),
        ("update", "tables.orders.conflict = 'update'"),
    ]


def test_an_answered_question_is_ticked_and_blocks_nothing(tmp_path: Path) -> None:
    plan = load_plan(question_plan(tmp_path))
    answer(plan, "orders.conflict", "update")
    (asked,) = plan.questions
    assert checklist_line(asked) == "☑ orders.conflict — answered: update"
    assert preselected(asked) == "update"
    assert (blocked_reason(plan), tab_title(plan)) == ("", "&Questions (0)")
    assert blocked_reason(None) == ""


def test_the_demo_walks_draft_asks_whether_newer_target_rows_are_kept(tmp_path: Path) -> None:
    from ferry_gui.walk import draft_question_plan

    plan = load_plan(draft_question_plan(tmp_path / "questions"))
    assert [(q.id, q.answer) for q in plan.questions] == [("orders.conflict", "")]
    assert plan.questions[0].evidence[1] == (
        "by updated_at: 2 target rows newer than the source, 1 older, 0 the same"
    )
