"""`ferry init --target` into tables that already hold rows and have no modification time:
each is named in the draft (an app's own first-start rows, Home Assistant's recorder)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan


def test_init_names_the_rows_a_target_table_already_holds(tmp_path: Path) -> None:
    source = tmp_path / "app" / "app.db"
    source.parent.mkdir()
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE event_types (id INTEGER PRIMARY KEY, kind TEXT UNIQUE)")
    conn.executemany(
        "INSERT INTO event_types VALUES (?, ?)", [(1, "call"), (2, "start"), (3, "stop")]
    )
    conn.commit()
    conn.close()
    target = sqlite3.connect(tmp_path / "new.db")
    target.execute("CREATE TABLE event_types (id INTEGER PRIMARY KEY, kind TEXT UNIQUE)")
    # key 1 is the same row on both sides (another row under it is asked about instead:
    # test_jupyterhub_shapes)
    target.executemany("INSERT INTO event_types VALUES (?, ?)", [(1, "call"), (7, "boot")])
    target.commit()
    target.close()
    plan = tmp_path / "ferry.toml"

    result = CliRunner().invoke(
        cli, ["init", str(source.parent), "--target", "sqlite:///new.db", "-o", str(plan)]
    )

    assert result.exit_code == 0, result.output
    (table,) = load_plan(plan).tables
    assert table.notes[-1] == (
        "the target already holds 2 rows, 1 of them under the source's 3 keys (conflict update "
        "overwrites them) and 1 under other keys (kept; where they hold a unique value the "
        "source has too, the source's row is rejected): if the app wrote them itself into a "
        "new database (its first start), empty the table before the run"
    )
