"""Names of the tables and columns Ferry creates on a PostgreSQL target.

PostgreSQL folds an unquoted identifier to lower case: an app's ``SELECT TrackId FROM Track``
looks for ``track.trackid``. So with ``identifiers = "lower"`` (the default) a column Ferry
creates from a source field ``TrackId`` is called ``trackid``, unless another field of the
same table folds to the same name (``Name`` and ``name``): those keep their spelling, quoted,
and ``ferry init`` says so in the table's notes. A name SQL must quote anyway (``User Name``)
keeps its spelling. ``identifiers = "keep"`` keeps every name as
the source spells it. Names longer than PostgreSQL's 63 bytes are shortened deterministically
(a prefix and a short hash of the whole name), with a note.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable

#: PostgreSQL's longest identifier, in bytes (longer ones are truncated by the server)
PG_MAX_BYTES = 63
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def folded_names(names: Iterable[str], fold: bool) -> dict[str, str]:
    """Each name -> the name of the column Ferry creates for it: lower case when ``fold`` and
    no other name folds alike, shortened when longer than PostgreSQL takes."""
    names = list(names)
    counts = Counter(name.lower() for name in names)
    result = {}
    for name in names:
        folds = fold and is_plain(name) and counts[name.lower()] == 1
        result[name] = shortened(name.lower() if folds else name)
    return result


def is_plain(name: str) -> bool:
    """True for a name SQL may write unquoted (``TrackId``; not ``User Name``): only such a
    name is folded, as only it can appear unquoted in an app's SQL."""
    return _PLAIN.fullmatch(name) is not None


def shortened(name: str) -> str:
    """``name`` when it fits in 63 bytes, else its first bytes, ``_`` and 8 hex digits of its
    SHA-256 (the same name always gives the same result)."""
    raw = name.encode("utf-8")
    if len(raw) <= PG_MAX_BYTES:
        return name
    digest = hashlib.sha256(raw).hexdigest()[:8]
    head = raw[: PG_MAX_BYTES - 9].decode("utf-8", errors="ignore")
    return f"{head}_{digest}"


def target_column(name: str, columns: Collection[str]) -> str | None:
    """The column of an existing table that a source field ``name`` feeds when no column is
    spelled like it: the one Ferry created for it (folded, shortened), if any."""
    folded = name.lower() if is_plain(name) else name
    for candidate in dict.fromkeys((shortened(folded), shortened(name))):
        if candidate != name and candidate in columns:
            return candidate
    return None


def name_notes(drafted: str, created: str, columns: list[str], fold: bool) -> list[str]:
    """``ferry init``'s notes on the names a PostgreSQL target gets: the table's name
    (``drafted``) shortened to ``created``, shortened columns, and columns kept as spelled
    because they differ only in case."""
    notes = []
    if created != drafted:
        notes.append(
            f"the name {drafted!r} is longer than PostgreSQL's {PG_MAX_BYTES} bytes: the table "
            f"is called {created}"
        )
    for name, made in folded_names(columns, fold).items():
        if made not in (name, name.lower()):
            notes.append(
                f"column {name!r} is longer than PostgreSQL's {PG_MAX_BYTES} bytes: it is "
                f"created as {made}"
            )
    if fold:
        for group in case_collisions([c for c in columns if is_plain(c)]):
            notes.append(
                f"columns {', '.join(group)} differ only in case: they keep their spelling "
                "(quoted in SQL); the other columns are lower case"
            )
    return notes


def case_collisions(names: Iterable[str]) -> list[list[str]]:
    """The groups of names that differ only in case (kept as they are when folding)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.lower(), []).append(name)
    return [group for group in groups.values() if len(group) > 1]
