"""What a JupyterHub folder showed on its way from ``jupyterhub.sqlite`` to PostgreSQL: the
backups ``jupyterhub upgrade-db`` leaves beside the database, the cookie secret file, and the
rows the hub writes at its first start on the new database under ids the source uses for
other rows."""

from __future__ import annotations

import shutil
import sqlite3
import tomllib
from pathlib import Path

from draftkit import draft, ferry
from pgkit import pg_exec, pg_rows

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
    _, plan = _init(tmp_path, folder)
    assert [t["name"] for t in plan["tables"]] == ["users"]
    (question,) = plan["questions"]
    assert question["id"] == "jupyterhub_cookie_secret.secret"
    assert question["default"] == "leave"
    assert question["evidence"] == [
        "the file jupyterhub_cookie_secret is named as a secret, and only its owner may read "
        "it (mode 0600)"
    ]


# the hub's first start on PostgreSQL: its admin user from the configuration is user 1, with
# the admin role; in the SQLite file user 1 is another user, and no admin
PG_FIRST_START = (
    "CREATE TABLE users (id SERIAL PRIMARY KEY, name VARCHAR(255) UNIQUE, admin BOOLEAN, "
    "created TIMESTAMP, cookie_id VARCHAR(255) NOT NULL UNIQUE, state TEXT)",
    "CREATE TABLE roles (id SERIAL PRIMARY KEY, name VARCHAR(255) UNIQUE)",
    "CREATE TABLE user_role_map (user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, "
    "role_id INTEGER REFERENCES roles (id) ON DELETE CASCADE, PRIMARY KEY (user_id, role_id))",
    "INSERT INTO roles (name) VALUES ('user'), ('admin')",
    "INSERT INTO users (name, admin, cookie_id) VALUES ('zoe', true, 'c9')",
    "INSERT INTO user_role_map VALUES (1, 2)",
)
HUB_ROLES = (
    "CREATE TABLE roles (id INTEGER NOT NULL, name VARCHAR(255), "
    "CONSTRAINT pk_roles PRIMARY KEY (id), CONSTRAINT uq_roles_name UNIQUE (name));"
    "INSERT INTO roles VALUES (1, 'user'), (2, 'admin');"
    "CREATE TABLE user_role_map (user_id INTEGER NOT NULL, role_id INTEGER NOT NULL, "
    "PRIMARY KEY (user_id, role_id), FOREIGN KEY (user_id) REFERENCES users (id) "
    "ON DELETE CASCADE, FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE);"
    "UPDATE users SET admin = 0; INSERT INTO users VALUES (2, 'bob', 0, NULL, 'c2', NULL);"
    "INSERT INTO user_role_map VALUES (1, 1), (2, 1);"
)


def _first_started(tmp_path: Path, pg_url: str) -> Path:
    pg_exec(pg_url, *PG_FIRST_START)
    plan = draft(tmp_path, HUB_SCHEMA + HUB_ROLES, pg_url, file="jupyterhub.sqlite")
    return plan


def test_rows_the_app_wrote_under_the_sources_keys_are_asked_about(
    tmp_path: Path, pg_url: str
) -> None:
    # merged by id, user 1 became ada and kept zoe's admin role: ada, no admin in the source,
    # was one on PostgreSQL (and verify passed)
    plan = tomllib.loads(_first_started(tmp_path, pg_url).read_text(encoding="utf-8"))
    (question,) = plan["questions"]
    assert question["id"] == "users.conflict"
    assert question["default"] == "keep"
    assert question["evidence"] == [
        "1 of the source's keys (id) name other rows in the target's users: "
        "1: name 'zoe' in the target, 'ada' in the source",
        "the target's rows referencing them: user_role_map.user_id: 1 row (overwritten by "
        "key, they would belong to the source's rows)",
    ]


def test_answered_replace_the_apps_own_rows_go_with_what_references_them(
    tmp_path: Path, pg_url: str
) -> None:
    plan = _first_started(tmp_path, pg_url)
    text = plan.read_text(encoding="utf-8")
    at = text.index('answer = ""', text.index('id = "users.conflict"'))
    plan.write_text(text[:at] + 'answer = "replace"' + text[at + len('answer = ""') :])
    result = ferry("migrate", plan)
    assert result.exit_code == 0, result.output
    admins = pg_rows(
        pg_url,
        "SELECT u.name FROM users u JOIN user_role_map m ON m.user_id = u.id "
        "JOIN roles r ON r.id = m.role_id WHERE r.name = 'admin'",
    )
    assert admins == []
    assert ferry("verify", plan).exit_code == 0
