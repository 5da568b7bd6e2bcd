"""Audit facts a run report carries itself: who ran it where, and the source files it read.

Who/where is the OS user, the host name and the database role the target is reached as
(from the target URL, else ``PGUSER``, else the OS user as libpq does) — never a password.
Source files come with their size and SHA-256: from the backup's manifest when the run made
one (the hashes of the copies Ferry kept), else hashed when the report is written.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from ..plan import Plan


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return ""


def database_role(url: str, os_user: str) -> str:
    """The role a target URL connects as; SQLite has none (empty)."""
    parts = urlsplit(url)
    if not parts.scheme.lower().startswith("postgres"):
        return ""
    if parts.username:
        return unquote(parts.username)
    return os.environ.get("PGUSER") or os_user


def who_where(plan: Plan) -> dict[str, str]:
    """``{"os_user", "host", "db_role"}`` for the report (no password, ever)."""
    user = _os_user()
    return {
        "os_user": user,
        "host": socket.gethostname(),
        "db_role": database_role(plan.target.url, user),
    }


def source_file_facts(
    plan: Plan, backup: Mapping[str, Any] | None, unhashed: str | None = None
) -> list[dict[str, Any]]:
    """Per source file: ``source``, ``path``, ``size``, ``sha256`` and ``hashed_from``
    (``backup`` when read from the backup's manifest, ``file`` when hashed now, else
    ``unhashed``, why no file is hashed: ``none``, the report of a failed run, which must not
    spend a read of every source file — a 2 GB file refused at its first line — on naming
    bytes it did not load; ``delta``, a run that read only what changed, which hashing every
    file would cost more than the run itself)."""
    from ..backup.files import file_sha256
    from ..backup.layout import MANIFEST_NAME, source_files

    if backup and backup.get("path"):
        try:
            text = (Path(str(backup["path"])) / MANIFEST_NAME).read_text(encoding="utf-8")
            items = json.loads(text).get("items", [])
        except (OSError, ValueError, AttributeError):
            items = []
        facts = [
            {
                "source": str(item.get("source", "")),
                "path": str(item.get("original", "")),
                "size": item.get("size"),
                "sha256": str(item.get("sha256", "")),
                "hashed_from": "backup",
            }
            for item in items
            if isinstance(item, dict) and item.get("role") == "source"
        ]
        if facts:
            return facts
    from ..errors import FerryError

    try:
        files = source_files(plan)
    except (FerryError, OSError):
        return []  # a source that cannot be opened: the run's own messages said so
    facts = []
    for source in files:
        try:
            if unhashed is None:
                size, digest = file_sha256(source.path)
            else:
                size, digest = source.path.stat().st_size, ""
        except OSError:
            continue  # gone or unreadable now: the run's own messages said so
        facts.append(
            {
                "source": source.source,
                "path": str(source.path),
                "size": size,
                "sha256": digest,
                "hashed_from": unhashed or "file",
            }
        )
    return facts
