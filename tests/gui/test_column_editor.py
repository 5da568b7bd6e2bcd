"""The column mapping editor: one table's columns, edited cell by cell into the plan file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyleOptionViewItem

from ferry import load_plan
from ferry.api import LOGICAL_TYPES
from ferry_gui.columnmap import DEFAULT, IGNORE, SOURCE, TARGET, TRANSFORM, TYPE
from ferry_gui.pages.columns import ColumnsDialog
from ferry_gui.wizard import FerryWizard


def open_editor(qtbot: Any, wizard: FerryWizard, tmp_path: Path, table: str) -> ColumnsDialog:
    """The demo opened, the Mapping tab shown, the editor of ``table`` open with its fields."""
    assert wizard.start_page.open_demo(tmp_path / "demo")
    page = wizard.preview_page
    page.show_mapping()
    assert wizard.plan is not None
    row = [t.name for t in wizard.plan.tables].index(table)
    dialog = page.open_columns(row)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded, timeout=30_000)
    return dialog


def rows(dialog: ColumnsDialog) -> list[list[str]]:
    model = dialog.model
    return [
        [model.data(model.index(r, c)) for c in (SOURCE, TARGET)] for r in range(model.rowCount())
    ]


def saved_table(tmp_path: Path, name: str) -> Any:
    return next(t for t in load_plan(tmp_path / "demo" / "ferry.toml").tables if t.name == name)


def test_the_editor_lists_the_plans_columns_then_the_sources_other_fields(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    assert rows(dialog) == [
        ["executions_id", "execution_id"],
        ["metadata", "step_metadata"],
        ["position", "(not carried)"],
        ["step_name", "step_name"],
        ["status", "status"],
        ["started_at", "started_at"],
        ["completed_at", "completed_at"],
        ["input_path", "input_path"],
        ["output_path", "output_path"],
    ]
    model = dialog.model
    assert model.data(model.index(1, TRANSFORM)) == "cast text"
    position = model.index(model.row_of("position"), IGNORE)
    assert model.data(position, Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_a_type_is_chosen_from_the_plans_logical_types_and_saved(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    model = dialog.model
    index = model.index(model.row_of("status"), TYPE)
    delegate = dialog.view.itemDelegateForColumn(TYPE)
    editor = delegate.createEditor(dialog.view, QStyleOptionViewItem(), index)
    assert isinstance(editor, QComboBox)
    choices = [editor.itemText(i) for i in range(editor.count())]
    assert choices == ["", *LOGICAL_TYPES]  # none chosen, or one of the plan's
    editor.setCurrentText("integer")
    delegate.setModelData(editor, model, index)
    assert saved_table(tmp_path, "execution_steps").types == {"status": "integer"}
    assert model.data(index) == "integer"
    page = wizard.preview_page
    assert "Mapping changed" in page.stale.text() and not page.stale.isHidden()
    assert wizard.preview_result is None


def test_a_renamed_target_column_is_saved_as_a_column_from_the_field(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    model = dialog.model
    assert model.setData(model.index(model.row_of("status"), TARGET), "state")
    columns = saved_table(tmp_path, "execution_steps").columns
    assert columns["state"].from_ == "status"
    assert model.data(model.index(model.row_of("status"), TARGET)) == "state"


def test_a_transform_is_saved_as_text_ops_and_a_cast(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    model = dialog.model
    assert model.setData(model.index(model.row_of("status"), TRANSFORM), "trim, Lower, cast text")
    status = saved_table(tmp_path, "execution_steps").columns["status"]
    assert (status.from_, status.ops, status.cast) == ("status", ["trim", "lower"], "text")
    assert model.data(model.index(model.row_of("status"), TRANSFORM)) == "trim, lower, cast text"


def test_a_default_is_saved_as_typed(qtbot: Any, wizard: FerryWizard, tmp_path: Path) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    model = dialog.model
    assert model.setData(model.index(model.row_of("status"), DEFAULT), "pending")
    assert model.setData(model.index(model.row_of("input_path"), DEFAULT), "0")
    columns = saved_table(tmp_path, "execution_steps").columns
    assert columns["status"].default == "pending"
    assert columns["input_path"].default == 0


def test_ticking_ignore_leaves_the_field_out_of_the_plan(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    model = dialog.model
    row = model.row_of("input_path")
    assert model.setData(
        model.index(row, IGNORE), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole
    )
    assert saved_table(tmp_path, "execution_steps").ignore == ["position", "input_path"]
    assert model.data(model.index(row, TARGET)) == "(not carried)"


def test_an_invalid_edit_is_shown_at_its_cell_and_not_saved(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    plan_path = tmp_path / "demo" / "ferry.toml"
    before = plan_path.read_text(encoding="utf-8")
    model = dialog.model
    index = model.index(model.row_of("status"), TRANSFORM)
    assert not model.setData(index, "trim, shout")
    message = model.data(index, Qt.ItemDataRole.ToolTipRole)
    assert "'trim', 'lower' or 'upper'" in message
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is not None
    assert model.data(index) == ""
    assert "Not changed: execution_steps: transform of status" in dialog.note.text()
    assert plan_path.read_text(encoding="utf-8") == before
    assert wizard.preview_page.stale.isHidden()


def test_the_source_rows_tab_shows_the_first_50_rows_of_the_source_table(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    assert dialog.tabs.tabText(1) == "&Source rows (50)"
    assert dialog.peek.headers[:3] == ["executions_id", "position", "step_name"]
    assert dialog.peek.rowCount() == 50
    assert dialog.peek.rows[0][:3] == ["rec-1000", 0, "probe"]


def test_the_two_date_time_types_say_which_is_which(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    dialog = open_editor(qtbot, wizard, tmp_path, "execution_steps")
    index = dialog.model.index(dialog.model.row_of("started_at"), TYPE)
    delegate = dialog.view.itemDelegateForColumn(TYPE)
    editor = delegate.createEditor(dialog.view, QStyleOptionViewItem(), index)
    assert isinstance(editor, QComboBox)
    tips = {
        editor.itemText(i): editor.itemData(i, Qt.ItemDataRole.ToolTipRole)
        for i in range(editor.count())
    }
    assert "timestamptz" in tips["timestamp"]
    assert "without a zone" in tips["datetime"]
