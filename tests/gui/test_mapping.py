"""The Preview page's Mapping tab: edits go into the plan file, invalid ones are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QStyleOptionViewItem

from ferry import load_plan
from ferry_gui.models import MAPPING_COLUMNS
from ferry_gui.wizard import FerryWizard

CONFLICT = [attribute for _, attribute in MAPPING_COLUMNS].index("conflict")


def _row(wizard: FerryWizard, name: str) -> int:
    model = wizard.preview_page.mapping
    return next(r for r in range(model.rowCount()) if model.text(r, 1) == name)


def test_the_mapping_tab_comes_first_and_lists_every_table(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    assert page.tabs.tabText(0) == "&Mapping"
    assert wizard.plan is not None
    names = [page.mapping.text(r, 1) for r in range(page.mapping.rowCount())]
    assert names == [t.name for t in wizard.plan.tables]
    steps = _row(wizard, "execution_steps")
    assert page.mapping.text(steps, 0) == "executions.steps"
    assert page.mapping.text(steps, 2) == "execution_id, step_name"


def test_a_changed_conflict_rule_is_saved_to_the_plan_file(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    index = page.mapping.index(_row(wizard, "executions"), CONFLICT)
    # through the combo-box delegate, as a user would
    delegate = page.mapping_view.itemDelegateForColumn(CONFLICT)
    editor = delegate.createEditor(page.mapping_view, QStyleOptionViewItem(), index)
    assert isinstance(editor, QComboBox)
    assert [editor.itemText(i) for i in range(editor.count())] == [
        "insert",
        "update",
        "newer",
        "error",
    ]
    editor.setCurrentText("insert")
    delegate.setModelData(editor, page.mapping, index)
    plan_path = tmp_path / "demo" / "ferry.toml"
    saved = {t.name: t for t in load_plan(plan_path).tables}
    assert saved["executions"].conflict == "insert"
    assert page.mapping.data(index) == "insert"
    assert "Mapping changed" in page.stale.text() and not page.stale.isHidden()
    assert page.again.isEnabled()
    assert wizard.preview_result is None and not page.isComplete()


def test_a_key_is_edited_as_a_comma_separated_list(wizard: FerryWizard, tmp_path: Path) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    index = page.mapping.index(_row(wizard, "execution_steps"), 2)
    assert not page.mapping.setData(index, "execution_id,step_name")  # the same: no change
    assert page.mapping.setData(index, " step_name ,execution_id, ")
    saved = {t.name: t for t in load_plan(tmp_path / "demo" / "ferry.toml").tables}
    assert saved["execution_steps"].key == ["step_name", "execution_id"]
    assert page.mapping.data(index) == "step_name, execution_id"


def test_an_invalid_edit_is_refused_with_the_message_and_the_file_unchanged(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    plan_path = tmp_path / "demo" / "ferry.toml"
    before = plan_path.read_text(encoding="utf-8")
    row = _row(wizard, "executions")
    index = page.mapping.index(row, CONFLICT)
    assert not page.mapping.setData(index, "newer")  # no newer_by
    assert "newer_by" in page.mapping_note.text()
    assert page.mapping.data(index) == "update"
    assert wizard.plan is not None and wizard.plan.tables[row].conflict == "update"
    source = page.mapping.index(row, 0)
    assert not page.mapping.setData(source, "nowhere")  # no such source
    assert "no source is named 'nowhere'" in page.mapping_note.text()
    assert wizard.plan.tables[row].source == "executions"
    assert plan_path.read_text(encoding="utf-8") == before
    assert page.stale.isHidden()


def test_a_table_without_a_plan_key_shows_that_the_primary_key_is_used(qapp: Any) -> None:
    from PySide6.QtCore import Qt

    from ferry.plan import plan_from_dict
    from ferry_gui.models import MAPPING_COLUMNS, MappingModel

    plan = plan_from_dict(
        {
            "sources": [{"name": "s", "kind": "json", "path": "s.json"}],
            "tables": [{"name": "t", "source": "s"}],
        },
        Path("."),
    )
    model = MappingModel()
    model.set_plan(plan)
    column = [attribute for _, attribute in MAPPING_COLUMNS].index("key")
    index = model.index(0, column)
    assert model.data(index, Qt.ItemDataRole.DisplayRole) == "(primary key)"
    assert model.data(index, Qt.ItemDataRole.EditRole) == ""


def test_unticking_a_table_takes_it_out_of_the_plan_file(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    index = page.mapping.index(_row(wizard, "progress"), 1)
    assert page.mapping.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert page.mapping.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    saved = [t.name for t in load_plan(tmp_path / "demo" / "ferry.toml").tables]
    assert saved == ["settings", "settings", "executions", "execution_steps", "heartbeats"]
    assert page.mapping.rowCount() == 6  # still listed, unticked
    assert page.mapping.data(index, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert "Excluded table progress" in page.mapping_note.text()
    assert wizard.preview_result is None and not page.stale.isHidden()


def test_ticking_an_excluded_table_puts_its_spec_back_in_its_place(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    assert wizard.start_page.open_demo(tmp_path / "demo")
    plan_path = tmp_path / "demo" / "ferry.toml"
    page = wizard.preview_page
    page.show_mapping()
    index = page.mapping.index(_row(wizard, "execution_steps"), 1)
    assert page.mapping.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert [t.name for t in load_plan(plan_path).tables].count("execution_steps") == 0
    assert page.mapping.setData(index, Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    saved = load_plan(plan_path).tables
    assert [t.name for t in saved][3] == "execution_steps"
    assert saved[3].key == ["execution_id", "step_name"]
    assert saved[3].ignore == ["position"]


def test_an_excluded_table_is_remembered_when_its_plan_is_opened_again(
    wizard: FerryWizard, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    index = page.mapping.index(_row(wizard, "heartbeats"), 1)
    assert page.mapping.setData(index, Qt.CheckState.Unchecked, Qt.ItemDataRole.CheckStateRole)
    assert wizard.start_page.open_plan(tmp_path / "demo" / "ferry.toml")
    page.show_mapping()
    row = _row(wizard, "heartbeats")
    assert page.mapping.data(page.mapping.index(row, 1), Qt.ItemDataRole.CheckStateRole) == (
        Qt.CheckState.Unchecked
    )
    assert page.mapping.text(row, 0) == "heartbeats"
    assert page.open_columns(row) is None  # excluded: no column editor
