"""A folder where nothing could be read, and a plan with no tables, fail clearly: ``init``
writes no plan, and ``check`` exits as ``preview`` and ``migrate`` do."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from ferry.cli.command import cli


def ferry(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line(output: str) -> str:
    return " ".join(output.split())


def test_init_where_no_file_could_be_read_names_them_and_writes_no_plan(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "broken.json").write_text('[{"id": 1},\n{"id": 2,,}]\n', encoding="utf-8")
    (state / "app.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)

    result = ferry("init", state, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 4, result.output
    text = one_line(result.output)
    assert f"error: nothing in {state} could be read: " in text
    assert f"{state / 'broken.json'}: not valid JSON at line 2" in text
    assert f"{state / 'app.db'}" in text
    assert (
        "hint: Fix or replace the files named (each says what is wrong), then run ferry init "
        "again. No plan was written." in text
    )
    assert not (tmp_path / "ferry.toml").exists()


def test_init_of_an_empty_folder_says_it_holds_no_files(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()

    result = ferry("init", state, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 4, result.output
    assert f"error: {state} holds no files" in one_line(result.output)
    assert not (tmp_path / "ferry.toml").exists()


def test_init_keeps_a_plan_when_some_sources_could_be_read(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "broken.json").write_text("[{", encoding="utf-8")
    (state / "good.json").write_text('[{"id": 1}]', encoding="utf-8")

    result = ferry("init", state, "-o", tmp_path / "ferry.toml")

    assert result.exit_code == 0, result.output
    assert "(1 sources, 1 tables)" in one_line(result.output)


def test_check_of_a_plan_without_tables_exits_3_like_preview_and_migrate(tmp_path: Path) -> None:
    plan = tmp_path / "ferry.toml"
    plan.write_text('[target]\nurl = "sqlite:///app.db"\n', encoding="utf-8")

    checked, previewed, migrated = (
        ferry("check", plan),
        ferry("preview", plan),
        ferry("migrate", plan, "--no-backup"),
    )

    assert (checked.exit_code, previewed.exit_code, migrated.exit_code) == (3, 3, 3)
    assert one_line(checked.output) == (
        "error: the plan has no [[tables]]: there is nothing to check "
        "hint: Add tables, or draft a plan with `ferry init DIR`."
    )
    assert not (tmp_path / "app.db").exists()
