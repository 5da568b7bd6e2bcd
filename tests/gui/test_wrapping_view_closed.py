"""A wrapping table's model outlives its view: the Start page's models are the wizard's, and
a model reset after the page's view was deleted (the wizard closed) ran the view's column
fit on a deleted C++ object (``RuntimeError: Internal C++ object (QTableView) already
deleted``: a teardown error of tests/gui/test_polish.py in CI). The real widgets, offscreen."""

from __future__ import annotations

import shiboken6

from ferry_gui.models import RowsModel
from ferry_gui.pages.base import wrapping_table_view


def test_a_model_reset_after_the_view_is_gone_does_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = RowsModel(["name", "note"])
    view = wrapping_table_view(model, stretch=1)
    model.set_rows([["a", "a long note " * 20]])
    shiboken6.delete(view)

    model.set_rows([["b", "another note"]])  # raised in the slot before

    assert model.rowCount() == 1
