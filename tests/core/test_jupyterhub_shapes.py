"""What a JupyterHub folder showed on its way from ``jupyterhub.sqlite`` to PostgreSQL: the
backups ``jupyterhub upgrade-db`` leaves beside the database, and the cookie secret file."""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from pathlib import Path

from draftkit import ferry

# JupyterHub's users table as its orm makes it in SQLite, cut down
HUB_SCHEMA = (
    "CREATE TABLE users (id INTEGER NOT NULL, name VARCHAR(255), admin BOOLEAN, "
    "created DATETIME, cookie_id VARCHAR(255) NOT NULL, state TEXT, "
    "CONSTRAINT pk_users PRIMARY KEY (id), CONSTRAINT uq_users_name UNIQUE (name));"
    "INSERT INTO users VALUES (1, 'ada', 1, '2026-08-23 12:00:00.000000', 'c1', '{}');"
)


def _hub(tmp_path: Path) -> Path:
    folder = tmp_path / "srv" / "jupyterhub"
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "jupyterhub.sqlite") as conn:
        conn.executescript(HUB_SCHEMA)
    conn.close()
    return folder


def _init(tmp_path: Path, folder: Path) -> tuple[str, dict]:
    plan = tmp_path / "plan.toml"
    result = ferry("init", folder, "--target", f"sqlite:///{tmp_path / 'out.db'}", "-o", plan)
    assert result.exit_code == 0, result.output
    text = plan.read_text(encoding="utf-8")
    return text, tomllib.loads(text)


def test_a_backup_upgrade_db_left_beside_the_database_is_not_drafted(tmp_path: Path) -> None:
    # drafted as a second source, its tables went into the target again
    # (jupyterhub_sqlite_users) with the API tokens the upgrade had dropped
    folder = _hub(tmp_path)
    shutil.copy(folder / "jupyterhub.sqlite", folder / "jupyterhub.sqlite.2026-12-07-232032")
    text, plan = _init(tmp_path, folder)
    assert [s["path"] for s in plan["sources"]] == ["srv/jupyterhub/jupyterhub.sqlite"]
    assert [t["name"] for t in plan["tables"]] == ["users"]
    assert (
        "skipped jupyterhub.sqlite.2026-12-07-232032: a backup copy of the SQLite file "
        "jupyterhub.sqlite"
    ) in text


def test_the_cookie_secret_file_is_asked_about_not_drafted(tmp_path: Path) -> None:
    # drafted as a table of the hub's database: whoever read the database could sign a
    # login cookie for any user
    folder = _hub(tmp_path)
    secret = folder / "jupyterhub_cookie_secret"
    secret.write_text("9f" * 32 + "\n")
    secret.chmod(0o600)
    text, plan = _init(tmp_path, folder)
    assert [t["name"] for t in plan["tables"]] == ["users"]
    (question,) = plan["questions"]
    assert question["id"] == "jupyterhub_cookie_secret.secret"
    assert question["default"] == "leave"
    assert question["evidence"] == [
        "the file jupyterhub_cookie_secret is named as a secret, and only its owner may read "
        "it (mode 0600)"
    ]
