"""The init corpus: realistic legacy folders, each with the app's schema and the plan a person
would write by hand (tests/corpus/<name>/: data/, schema.sql, plan.toml).

For every folder, ``ferry init`` drafts a plan that is run as drafted (no edit) and the target
it fills must hold exactly what the hand plan gives. A new case is a new folder.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from ferry.cli import cli

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FOLDERS = sorted(p.name for p in CORPUS.iterdir() if (p / "plan.toml").is_file())


def ferry(*args: str | Path) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every app table's rows, sorted (Ferry's own journal tables left out)."""
    with sqlite3.connect(database) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'ferry_%' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        found = {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
        }
    conn.close()
    return found


@pytest.mark.parametrize("name", FOLDERS)
def test_the_draft_of_init_run_as_drafted_gives_what_the_hand_plan_gives(
    tmp_path: Path, name: str
) -> None:
    folder = tmp_path / name
    shutil.copytree(CORPUS / name, folder)
    ferry("init", folder / "data", "--schema", folder / "schema.sql", "-o", folder / "ferry.toml")

    ferry("migrate", folder / "ferry.toml", "--no-backup", "-q")
    ferry("migrate", folder / "plan.toml", "--no-backup", "-q")

    drafted, expected = contents(folder / "ferry.db"), contents(folder / "expected.db")
    assert drafted == expected
    assert all(expected.values())  # every table of the schema is filled
