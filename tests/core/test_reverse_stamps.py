"""A reverse plan compares rows by a column only when it stamps every change of the row
(found moving a Wagtail site back: ``wagtailcore_page`` was compared by
``last_published_at`` and ``auth_user`` by ``last_login``, so a page's tree counts changed by
a child added in the new store, or a password changed there, stayed as they were in the old
file: the old site's page tree was broken (treebeard: wrong ``numchild``))."""

from __future__ import annotations

import tomllib
from pathlib import Path

from draftkit import draft, ferry

SITE = """
CREATE TABLE "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
  "password" varchar(128) NOT NULL, "last_login" datetime NULL, "username" varchar(150) NOT NULL);
INSERT INTO auth_user VALUES (1, 'old-hash', '2026-12-07 07:30:00', 'admin');
CREATE TABLE "note" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "body" text NOT NULL,
  "updated_at" datetime NOT NULL);
INSERT INTO note VALUES (1, 'hello', '2026-12-07 07:30:00');
"""


def _reversed(tmp_path: Path) -> dict[str, dict[str, object]]:
    plan = draft(tmp_path, SITE, f"sqlite:///{tmp_path / 'new.db'}")
    assert ferry("migrate", "--no-backup", plan).exit_code == 0
    back = tmp_path / "back.toml"
    result = ferry("reverse", plan, "-o", back)
    assert result.exit_code == 0, result.output
    return {t["name"]: t for t in tomllib.loads(back.read_text())["tables"]}


def test_a_last_login_is_no_modification_time(tmp_path: Path) -> None:
    user = _reversed(tmp_path)["auth_user"]
    assert (user["conflict"], user.get("newer_by")) == ("update", None)


def test_an_updated_at_still_decides(tmp_path: Path) -> None:
    note = _reversed(tmp_path)["note"]
    assert (note["conflict"], note.get("newer_by")) == ("newer", "updated_at")
