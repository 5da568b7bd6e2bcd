"""``ferry init`` on a whole app folder, as a Trac project's environment is: a SQLite database
beside its config, its log and the attachments it stores by hash. Found drafting such a
folder: the draft named only the first ten of its 38 skipped files, by bare name (hash names,
no folder), and drafted an attachment holding one line as a table ``t_71ddebcf…``."""

from __future__ import annotations

import hashlib
import sqlite3
import tomllib
from pathlib import Path

from draftkit import ferry


def _env(tmp_path: Path, *, hashed: bool) -> Path:
    """A Trac-like folder: db/trac.db, conf/trac.ini, log/trac.log and twelve attachments,
    stored by hash (Trac 1.x: ``ticket/<sha1[:3]>/<sha1>/<sha1>.txt``) or by name (0.12:
    ``ticket/<id>/<name>``)."""
    folder = tmp_path / "env"
    for sub in ("db", "conf", "log"):
        (folder / sub).mkdir(parents=True)
    with sqlite3.connect(folder / "db" / "trac.db") as conn:
        conn.executescript(
            "CREATE TABLE ticket (id INTEGER PRIMARY KEY, summary TEXT);"
            "INSERT INTO ticket VALUES (1, 'first');"
        )
    conn.close()
    (folder / "conf" / "trac.ini").write_text("# -*- coding: utf-8 -*-\n[trac]\nbase_url =\n")
    (folder / "log" / "trac.log").write_text("started\n")
    for n in range(12):
        ticket, name = hashlib.sha1(str(n).encode()).hexdigest(), f"log-{n}"
        if hashed:
            place = folder / "files" / "attachments" / "ticket" / ticket[:3] / ticket
            name = hashlib.sha1(name.encode()).hexdigest()
        else:
            place = folder / "files" / "attachments" / "ticket" / str(n)
        place.mkdir(parents=True)
        (place / f"{name}.txt").write_text(f"line one of {n}\nline two\n")
    return folder


def _draft(tmp_path: Path, folder: Path) -> Path:
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", f"sqlite:///{tmp_path / 'out.db'}", "-o", plan)
    assert result.exit_code == 0, result.output
    return plan


def test_the_draft_accounts_for_every_skipped_file_by_its_path(tmp_path: Path) -> None:
    plan = _draft(tmp_path, _env(tmp_path, hashed=False))
    skipped = [line for line in plan.read_text().splitlines() if line.startswith("#   skipped")]
    first = min(
        p.relative_to(tmp_path / "env").as_posix()
        for p in (tmp_path / "env" / "files").rglob("*.txt")
    )
    assert skipped == [
        "#   skipped conf/trac.ini: not a kind of file Ferry reads",
        f"#   skipped 12 files under files/ (first {first}): a text file with more than one value",
        "#   skipped log/trac.log: not a kind of file Ferry reads",
    ]


def test_a_one_line_file_named_by_a_hash_is_not_drafted_as_a_table(tmp_path: Path) -> None:
    folder = _env(tmp_path, hashed=True)
    stored = next((folder / "files").rglob("*.txt"))
    stored.write_text("a one-line attachment\n")
    plan = _draft(tmp_path, folder)
    tables = [t["name"] for t in tomllib.loads(plan.read_text())["tables"]]
    assert tables == ["ticket"]


def test_files_under_a_folder_named_by_an_id_are_not_drafted_as_tables(tmp_path: Path) -> None:
    # An MLflow server's folder: its database and the runs' artifacts, a folder per run id
    folder = tmp_path / "srv"
    artifacts = folder / "mlruns" / "1" / "2f22aeb897f8413bb72ca5624b9c8b13" / "artifacts"
    artifacts.mkdir(parents=True)
    with sqlite3.connect(folder / "mlflow.db") as conn:
        conn.execute("CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY)")
    conn.close()
    (artifacts / "notes.txt").write_text("one line\n")
    (artifacts / "config.json").write_text('{"a": 1}')
    plan = _draft(tmp_path, folder)
    tables = [t["name"] for t in tomllib.loads(plan.read_text())["tables"]]
    assert tables == ["runs"]
