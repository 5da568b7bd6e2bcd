"""What a walk of the wizard on real applications' data (an Anki collection, a Trac project,
a Jupyter user's folder) tripped on, each rebuilt here from the app's own shapes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ferry_gui.wizard import FerryWizard

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
