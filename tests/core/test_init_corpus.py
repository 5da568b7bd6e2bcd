"""The init corpus: realistic legacy folders, each with the app's schema and the plan a person
would write by hand (tests/corpus/<name>/: data/, schema.sql, plan.toml).

For every folder, ``ferry init`` drafts a plan; the draft's open questions are answered the way
the hand plan decides them (``answers.toml``: question id = choice; no other edit), it is run,
and the target it fills must hold exactly what the hand plan gives. A folder with a
``target.sql`` starts from a target that already holds rows (the schema and those rows, in both
targets; init then matches into the existing tables). A folder init does not get right yet has
an ``xfail.txt`` saying why. A new case is a new folder.
"""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from ferry.cli.command import cli
from ferry.plan import load_plan
from ferry.scan.questions import answer_and_save, open_questions
from ferry.shape.schema import is_ferry_table

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FOLDERS = [
    pytest.param(
        p.name,
        marks=pytest.mark.xfail(reason=(p / "xfail.txt").read_text().strip(), strict=True),
    )
    if (p / "xfail.txt").is_file()
    else p.name
    for p in sorted(CORPUS.iterdir())
    if (p / "plan.toml").is_file()
]


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
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            if not is_ferry_table(row[0])
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
    if (folder / "target.sql").is_file():
        for database in ("ferry.db", "expected.db"):
            with sqlite3.connect(folder / database) as conn:
                conn.executescript((folder / "schema.sql").read_text())
                conn.executescript((folder / "target.sql").read_text())
            conn.close()
        ferry("init", folder / "data", "-o", folder / "ferry.toml")
    else:
        ferry(
            "init", folder / "data", "--schema", folder / "schema.sql", "-o", folder / "ferry.toml"
        )
    answers = folder / "answers.toml"
    for question_id, choice in (
        tomllib.loads(answers.read_text()) if answers.is_file() else {}
    ).items():
        answer_and_save(folder / "ferry.toml", question_id, choice)
    assert not open_questions(load_plan(folder / "ferry.toml"))

    ferry("migrate", folder / "ferry.toml", "--no-backup", "-q")
    ferry("migrate", folder / "plan.toml", "--no-backup", "-q")

    drafted, expected = contents(folder / "ferry.db"), contents(folder / "expected.db")
    assert drafted == expected
    assert all(expected.values())  # every table of the schema is filled
