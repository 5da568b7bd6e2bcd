"""``ferry init``: a JSON settings file holding a key that encrypts or signs the app's data.

n8n's ``~/.n8n/config`` is ``{"encryptionKey": "…"}``: the key its credentials are stored
encrypted with, in the database beside it. Drafted as any key/value file, the key went into a
table of the same database, without a word, so anyone who reads the database (a dump, a
backup) could decrypt the credentials; the app itself never reads it there. Whether the key
belongs in the target is the operator's to say, so the table is asked about (``T.secret``):
``leave`` (the default: the table is not drafted; keep the file, or the app's variable, for
the app on the target) or ``carry`` (the drafted entry, as it was).
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


def ask_about_secret_keys(
    tables: list[TableSpec], found: list[FoundSource], folder: Path
) -> tuple[list[TableSpec], list[QuestionSpec]]:
    """``tables`` without those fed by a JSON settings file (its path relative to the scanned
    ``folder``) naming such a key, and a question for each: leave it out (default) or carry it."""
    secret: dict[str, list[str]] = {}
    for item in found:
        if item.problem or item.spec.kind != "json" or item.spec.path is None:
            continue
        names = _secret_names(folder / item.spec.path)
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
                evidence=[f"{spec.source}'s settings name {', '.join(names)}"],
                choices=["leave", "carry"],
                default="leave",
                sets={"leave": {}, "carry": {f"tables.{spec.name}": entry}},
            )
        )
    return kept, questions


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
