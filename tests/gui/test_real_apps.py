"""What a walk of the wizard on real applications' data (an Anki collection, a Trac project,
a Jupyter user's folder) tripped on, each rebuilt here from the app's own shapes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from guikit import migrate_in_wizard, question_plan, reopen
from PySide6.QtCore import QRect, Qt

from ferry_gui.columnmap import TYPE
from ferry_gui.wizard import FerryWizard, PageId

WAIT = 120_000


def anki_like(folder: Path) -> Path:
    """A collection shaped as Anki's: ids are creation times in ms (two decks: ids 1 and
    1796657849799), and a plan moving it into ``ferry.db`` beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "collection.anki2")
    conn.executescript(
        """
        CREATE TABLE decks (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        INSERT INTO decks VALUES (1, 'Default'), (1796657849799, 'Français');
        CREATE TABLE notes (id INTEGER PRIMARY KEY, mid INTEGER NOT NULL, flds TEXT NOT NULL);
        INSERT INTO notes VALUES (1796657849808, 1796657849456, 'mot 0'),
                                 (1796657849821, 1796657849456, 'mot 1');
        """
    )
    conn.commit()
    conn.close()
    plan = folder / "ferry.toml"
    plan.write_text(
        'version = 1\nname = "anki"\n\n[target]\nurl = "sqlite:///ferry.db"\n\n'
        '[[sources]]\nname = "collection"\nkind = "sqlite"\npath = "collection.anki2"\n\n'
        '[[tables]]\nname = "decks"\nsource = "collection.decks"\nkey = ["id"]\n\n'
        '[[tables]]\nname = "notes"\nsource = "collection.notes"\nkey = ["id"]\n',
        encoding="utf-8",
    )
    return plan


def test_the_preview_bar_totals_the_rows_when_the_app_picks_its_ids(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # The bar's total was the rowid span (1.8e12 for 2 decks): past a C int, every event
    # raised OverflowError in the slot, and the bar said nothing true.
    plan = anki_like(tmp_path / "anki")
    assert wizard.start_page.open_plan(plan)
    page = wizard.preview_page
    totals: list[int] = []
    assert page.start_preview()
    wizard.runner.events.connect(lambda _events: totals.append(page.progress.maximum()))
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert wizard.preview_result is not None
    # the decks counted (their span is past what the file holds), the notes' span of 14 ids
    assert max(totals) == 2 + 14


def test_a_failed_check_s_column_fix_is_made_from_the_connect_page(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    # Anki declares notes.sfld INTEGER and stores text in it: the draft keeps it as stored
    # (types.sfld = "any"), which a PostgreSQL column cannot. The check said "Choose its
    # type", but Next stayed disabled and the column editor was on the Preview page only.
    plan = anki_like(tmp_path / "anki")
    text = plan.read_text(encoding="utf-8").replace("sqlite:///ferry.db", pg_url)
    plan.write_text(text + '\n[tables.types]\nflds = "any"\n', encoding="utf-8")
    assert wizard.start_page.open_plan(plan)
    wizard.backup_skipped = True
    wizard.next()
    wizard.next()
    assert wizard.currentId() == PageId.CONNECT
    page = wizard.connect_page
    qtbot.waitUntil(lambda: page.last_report is not None and not wizard.runner.busy, timeout=WAIT)
    assert not page.isComplete()
    assert page.items.rows[0][:2] == ["schema", "NO"]  # the problem first, not past 40 passes
    assert not page.columns_button.isHidden()
    assert page.columns_button.text() == "Edit colu&mns of notes…"
    page.columns_button.click()
    dialog = page.columns_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded, timeout=WAIT)
    fields = [dialog.model.data(dialog.model.index(r, 0)) for r in range(dialog.model.rowCount())]
    row = fields.index("flds")
    assert dialog.model.setData(dialog.model.index(row, TYPE), "text")
    dialog.close()
    qtbot.waitUntil(lambda: page.isComplete(), timeout=WAIT)
    assert 'flds = "text"' in plan.read_text(encoding="utf-8")
    assert page.columns_button.isHidden()


def test_the_rows_to_insert_show_each_value_as_stored(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # Anki's ids read "1,796,657,849,808" (a quantity), its ease factor 2.567 read "2.6"
    # (not what the run writes), and the \x1f between a note's fields was a blank box.
    plan = anki_like(tmp_path / "anki")
    with sqlite3.connect(tmp_path / "anki" / "collection.anki2") as conn:
        conn.execute("ALTER TABLE notes ADD COLUMN ease REAL")
        conn.execute("UPDATE notes SET ease = 2.567, flds = 'mot 0\x1fword 0'")
    conn.close()
    assert wizard.start_page.open_plan(plan)
    page = wizard.preview_page
    assert page.start_preview()
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    page.show_inserts("notes")
    grid = page.insert_rows
    first = [grid.data(grid.index(0, c)) for c in range(grid.columnCount())]
    assert first == ["1796657849808", "1796657849456", "mot 0␟word 0", "2.567"]


def _on_screen(view: Any, column: int) -> bool:
    """Whether ``column`` of ``view`` lies inside its viewport (not past the right edge)."""
    header = view.horizontalHeader()
    left = header.sectionViewportPosition(column)
    return left >= 0 and left + header.sectionSize(column) <= view.viewport().width()


def test_a_long_note_wraps_in_its_row_instead_of_ending_in_an_ellipsis(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # The draft's notes are what the reviewer must read (Anki's: "column 'sfld' (INTEGER)
    # holds values of several storage classes (60 text: …"), and each was cut at the edge.
    plan = anki_like(tmp_path / "anki")
    note = (
        "column 'flds' holds values of several storage classes (60 text: 'mot 0' at id "
        "1796657849808; 'mot 1' at id 1796657849821, …): kept as stored (types.flds = 'any': "
        "each value keeps its class, the column its declared type)"
    )
    text = plan.read_text(encoding="utf-8").replace(
        'source = "collection.notes"', f'source = "collection.notes"\nnotes = ["{note}"]'
    )
    plan.write_text(text, encoding="utf-8")
    assert wizard.start_page.open_plan(plan)
    page = wizard.start_page
    page.plan_tabs.setCurrentWidget(page.notes_view)
    view = page.notes_view
    qtbot.waitUntil(lambda: view.isVisible() and view.viewport().width() > 100)
    qtbot.wait(50)
    assert page.notes.rows[0][2] == note
    width = view.columnWidth(2)
    assert view.fontMetrics().horizontalAdvance(note) > width  # on one line it would be cut
    needed = view.fontMetrics().boundingRect(
        QRect(0, 0, max(width - 8, 1), 100_000), Qt.TextFlag.TextWordWrap, note
    )
    assert _on_screen(view, 2)
    assert view.wordWrap() and view.rowHeight(0) >= needed.height()


def test_a_source_s_problem_is_on_screen_beside_a_long_list_of_tables(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # Anki's 12 tables in one cell pushed the size, rows and problem columns off the page.
    folder = tmp_path / "anki"
    anki_like(folder)
    with sqlite3.connect(folder / "collection.anki2") as conn:
        for name in ("cards", "col", "config", "deck_config", "fields", "graves", "revlog"):
            conn.execute(f"CREATE TABLE {name}_with_a_long_name (id INTEGER PRIMARY KEY)")
    conn.close()
    (folder / "settings.json").write_text('{"broken": ', encoding="utf-8")
    assert wizard.start_page.create_from_folder(folder, tmp_path / "workspace")
    qtbot.waitUntil(lambda: wizard.plan is not None and not wizard.runner.busy, timeout=WAIT)
    page = wizard.start_page
    view = page.sources_view
    qtbot.wait(50)
    assert any(row[6] for row in page.sources.rows)
    assert _on_screen(view, 6)
    # opened again: its sources described by a worker, the rows set twice
    assert page.open_plan(tmp_path / "workspace" / "ferry.toml")
    qtbot.waitUntil(lambda: page.describing is not None and page.describing.done(), timeout=WAIT)
    qtbot.wait(50)
    header = view.horizontalHeader()
    # the problem column takes the width the others leave, up to the right edge
    assert header.sectionViewportPosition(6) + header.sectionSize(6) == view.viewport().width()


def test_a_plan_without_questions_opens_on_its_sources_after_one_with_questions(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # The Questions tab of the plan before was hidden while shown, and Qt showed its
    # neighbour instead: an empty "Notes (0)" (the demo's own Start screenshot).
    assert wizard.start_page.open_plan(question_plan(tmp_path))
    page = wizard.start_page
    assert page.plan_tabs.currentWidget() is page.questions
    assert page.open_plan(anki_like(tmp_path / "anki"))
    assert page.plan_tabs.currentWidget() is page.sources_view


def test_a_long_check_is_not_read_again_at_every_layout_of_the_page(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path
) -> None:
    # Anki into PostgreSQL: 93 findings, each row sized to its wrapped text at every layout
    # of the page (ResizeToContents), so every change above the table (a summary line, a
    # button shown) read all their cells again: the check's result took 117-122 ms of the
    # event loop's own CPU in one beat.
    from ferry_gui.models import RowsModel

    class Counted(RowsModel):
        reads = 0

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            Counted.reads += 1
            return super().data(index, role)

    plan = anki_like(tmp_path / "anki")
    assert wizard.start_page.open_plan(plan)
    wizard.backup_skipped = True
    wizard.next()
    wizard.next()
    page = wizard.connect_page
    qtbot.waitUntil(lambda: page.isComplete(), timeout=WAIT)
    findings = Counted(["check", "ok", "detail", "hint"])
    page.items_view.setModel(findings)
    findings.set_rows([[f"column type t.c{i}", "yes", "translated", ""] for i in range(200)])
    page.items_view.resizeRowsToContents()
    qtbot.wait(50)
    Counted.reads = 0
    for line in range(1, 6):  # the summary above the findings grows a line
        page.server.setText("<br>".join(["a line of the summary"] * line))
        qtbot.wait(10)
    # painting the visible rows reads ~2,700 cells' roles; sizing all 200 rows at each of the
    # 5 layouts read 41,060
    assert Counted.reads < 8_000


def test_a_rollback_on_the_run_history_says_what_it_proved_in_a_line(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, pg_url: str
) -> None:
    # Trac's 21 tables into PostgreSQL, rolled back: the status was a paragraph of
    # "attachment: absent (as backed up); auth_cookie: absent (as backed up); …", and the
    # migrate run's verdict read "rolled_back", in red, as if it had failed.
    plan = anki_like(tmp_path / "anki")
    plan.write_text(plan.read_text(encoding="utf-8").replace("sqlite:///ferry.db", pg_url))
    migrate_in_wizard(qtbot, wizard, plan)
    reopen(qtbot, wizard, plan, PageId.RUNS)
    page = wizard.runs_page
    qtbot.waitUntil(lambda: bool(page.records) and not wizard.runner.busy, timeout=WAIT)
    migrate = next(r for r in page.records if r.kind == "migrate")
    assert page.start_rollback(migrate)
    qtbot.waitUntil(lambda: wizard.rollback_result is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: not wizard.runner.busy, timeout=WAIT)
    assert "the target matches the backup (4 checked: 4 absent, as at backup time;" in (
        page.status.text()
    )
    assert "decks: absent (as backed up)" in page.status.toolTip()
    row = next(i for i, r in enumerate(page.model.rows) if r[0] == migrate.run_id)
    assert page.model.rows[row][4] == "rolled back"
    assert page.model.colour is not None and page.model.colour(row, 4) is None
