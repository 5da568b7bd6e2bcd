"""``ferry init``: a JSON settings file holding a key that encrypts or signs the app's data.

n8n's ``~/.n8n/config`` is ``{"encryptionKey": "…"}``: the key its credentials are stored
encrypted with, in the database beside it. Drafted as any key/value file, the key went into a
table of the same database, without a word, so anyone who reads the database (a dump, a
backup) could decrypt the credentials; the app itself never reads it there. Whether the key
belongs in the target is the operator's to say, so the table is asked about (``T.secret``):
``leave`` (the default: the table is not drafted; keep the file, or the app's variable, for
the app on the target) or ``carry`` (the drafted entry, as it was).

A one-value file named as a secret is asked about the same way: JupyterHub's
``jupyterhub_cookie_secret`` (64 hex digits, mode 0600), the key that signs its login cookies,
was drafted as a table ``jupyterhub_cookie_secret`` of the hub's database: whoever read the
database could sign a cookie for any user.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..plan import QuestionSpec

if TYPE_CHECKING:
    from ..planspecs import TableSpec
    from .found import FoundSource

#: a settings key naming a key that encrypts or signs: encryptionKey, SECRET_KEY, signing_key
_SECRET_KEY = re.compile(r"(?i)^(encryption|secret|signing|private|master)[_-]?key$")
_MAX_BYTES = 64 * 1024  # a settings file is small; a bigger JSON document is data
#: a file named as a secret: jupyterhub_cookie_secret, secret_key.txt, .secret_key, master.key
_SECRET_FILE = re.compile(
    r"(?i)(^|[_.-])(secrets?|(cookie|encryption|secret|signing|private|master)[_-]?key)([_.-]|$)"
)


def ask_about_secret_keys(
    tables: list[TableSpec], found: list[FoundSource], folder: Path
) -> tuple[list[TableSpec], list[QuestionSpec]]:
    """``tables`` without those fed by a JSON settings file (its path relative to the scanned
    ``folder``) naming such a key, or by a one-value file named as a secret, and a question
    for each: leave it out (default) or carry it."""
    secret: dict[str, list[str]] = {}
    evidence: dict[str, str] = {}
    for item in found:
        if item.problem or item.spec.path is None:
            continue
        path = folder / item.spec.path
        if item.spec.kind == "json":
            names = _secret_names(path)
            for t in item.tables:
                evidence[t.name] = f"{t.name}'s settings name {', '.join(names)}"
        elif item.spec.kind == "text" and "*" not in item.spec.path:
            names = [f"the one value of file {path.name}"] if _SECRET_FILE.search(path.name) else []
            for t in item.tables:
                evidence[t.name] = _file_evidence(path)
        else:
            continue
        if names:
            secret.update({t.name: names for t in item.tables})
    kept: list[TableSpec] = []
    questions: list[QuestionSpec] = []
    for spec in tables:
        held = secret.get(spec.source)
        if not held:
            kept.append(spec)
            continue
        names = held
        entry = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        questions.append(
            QuestionSpec(
                id=f"{spec.name}.secret",
                ask=(
                    f"{spec.source} holds {', '.join(names)}, a key that encrypts or signs the "
                    f"app's data: leave it out of the target (leave: keep the file, or the app's "
                    f"setting, for the app there) or carry it into table {spec.name} (carry: "
                    "whoever reads the database then reads the key)?"
                ),
                evidence=[evidence[spec.source]],
                choices=["leave", "carry"],
                default="leave",
                sets={"leave": {}, "carry": {f"tables.{spec.name}": entry}},
            )
        )
    return kept, questions


def _file_evidence(path: Path) -> str:
    """A one-value file's name, and its mode when only its owner may read it."""
    said = f"the file {path.name} is named as a secret"
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return said
    return said + (
        f", and only its owner may read it (mode {mode:04o})" if not mode & 0o077 else ""
    )


def _secret_names(path: Path) -> list[str]:
    try:
        if path.stat().st_size > _MAX_BYTES:
            return []
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    if not isinstance(document, dict):
        return []
    return [k for k, v in document.items() if _SECRET_KEY.match(k) and isinstance(v, str) and v]


__all__ = ["ask_about_secret_keys"]
