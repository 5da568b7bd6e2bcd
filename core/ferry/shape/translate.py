"""Translating the small SQL expressions of a schema (DEFAULTs, CHECKs, a partial index's
WHERE) between SQLite and PostgreSQL.

Only what means the same on both sides is translated: literals, the current date/time
keywords, column names, comparisons, AND/OR/NOT, IN, BETWEEN, IS NULL, LIKE and a few
functions both databases have. Anything else gives None: the caller lists it as not carried
instead of guessing.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<cast>::\s*"?[A-Za-z_]\w*"?(?:\s+(?:varying|precision|with|without|time|zone))*
        (?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?)
    | (?P<quoted>"(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\])
    | (?P<word>[A-Za-z_][\w$]*)
    | (?P<op><>|!=|<=|>=|\|\||[-+*/%=<>(),])
    )""",
    re.X,
)

_KEYWORDS = {
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "BETWEEN",
    "LIKE",
    "TRUE",
    "FALSE",
}
_NOW = {"CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"}
#: functions both databases have, with the same meaning
_FUNCTIONS = {"LENGTH", "LOWER", "UPPER", "ABS", "TRIM", "COALESCE", "ROUND"}
#: source function calls that mean a NOW keyword: (dialect, text) -> keyword
_NOW_CALLS = {
    "now()": "CURRENT_TIMESTAMP",
    "datetime('now')": "CURRENT_TIMESTAMP",
    "datetime('now', 'localtime')": "",
    "date('now')": "CURRENT_DATE",
    "time('now')": "CURRENT_TIME",
    "transaction_timestamp()": "CURRENT_TIMESTAMP",
    "localtimestamp": "",
}


def _tokens(text: str) -> list[tuple[str, str]] | None:
    """(kind, text) tokens of ``text``; None when part of it is not understood."""
    found: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return None
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


def _unwrap(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r"'(?:[^']|'')*'", "''", text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


#: SQLite's "now" as text with milliseconds or seconds (TypeORM's SQLite default for a date
#: column, n8n's ``createdAt``): PostgreSQL's CURRENT_TIMESTAMP is the same instant
_STRFTIME_NOW = re.compile(r"(?i:strftime)\s*\(\s*'%Y-%m-%d %H:%M:%[fS]'\s*,\s*'(?i:now)'\s*\)")


def translate_default(text: str, source: str, target: str) -> str | None:
    """A column DEFAULT of a ``source`` database written for a ``target`` one; None when it
    does not translate (or means nothing to carry, like ``NULL``)."""
    plain = _unwrap(text)
    if target == "postgresql" and _STRFTIME_NOW.fullmatch(plain):
        return "CURRENT_TIMESTAMP"
    called = _NOW_CALLS.get(" ".join(plain.lower().split()))
    if called is not None:
        return called or None
    tokens = _tokens(plain)
    if tokens is None:
        return None
    tokens = [t for t in tokens if t[0] != "cast"]  # PostgreSQL's ''::text
    texts = [t[1] for t in tokens if t[1] not in "()"]
    if len(texts) == 1:
        kind, value = next(t for t in tokens if t[1] not in "()")
        upper = value.upper()
        if kind == "string":
            return value
        if kind == "number":
            return value
        if upper in _NOW:
            return upper
        if upper in ("TRUE", "FALSE"):
            return upper if target == "postgresql" else ("1" if upper == "TRUE" else "0")
        return None
    # A signed number: -1, (-1), '-1'::integer
    if len(texts) == 2 and texts[0] in "+-" and re.fullmatch(r"[\d.eE+-]+", texts[1]):
        return texts[0] + texts[1]
    return None


#: PostgreSQL's own spelling of ``x IN ('a', 'b')`` in its catalog:
#: ``x = ANY (ARRAY['a'::text, 'b'::text])`` (the array's cast outside it, perhaps)
_ANY_ARRAY = re.compile(
    r"=\s*ANY\s*\(\s*(\()?\s*ARRAY\s*\[((?:[^\]']|'(?:[^']|'')*')*)\]\s*(?(1)\))"
    r"(?:\s*::\s*[\w ]+(?:\[\])?)?\s*\)",
    re.I,
)


def _in_lists(text: str) -> str:
    """PostgreSQL's ``= ANY (ARRAY[...])`` as ``IN (...)``."""
    return _ANY_ARRAY.sub(lambda m: f"IN ({m.group(2)})", text)


def translate_condition(text: str, columns: dict[str, str], source: str, target: str) -> str | None:
    """A CHECK or partial-index condition of a ``source`` table for a ``target`` table;
    ``columns`` maps the source's column names to the target's. None when it does not
    translate."""
    if source == "postgresql":
        text = _in_lists(text)
    tokens = _tokens(_unwrap(text))
    if not tokens:
        return None
    by_folded = {name.casefold(): new for name, new in columns.items()}
    out: list[str] = []
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1][1] if index + 1 < len(tokens) else ""
        if kind == "cast":
            continue
        if kind in ("string", "number", "op"):
            out.append(value)
            continue
        upper = value.upper()
        # ``IN (`` and ``NOT (`` are keywords before a parenthesis, not function calls.
        if kind == "word" and following == "(" and upper not in _KEYWORDS:
            if upper not in _FUNCTIONS:
                return None
            out.append(value.lower())
            continue
        if kind == "word" and upper in _KEYWORDS | _NOW:
            if upper in ("TRUE", "FALSE") and target != "postgresql":
                upper = "1" if upper == "TRUE" else "0"
            out.append(upper)
            continue
        name = value[1:-1].replace('""', '"') if kind == "quoted" else value
        column = columns.get(name) or by_folded.get(name.casefold())
        if column is None:
            return None
        out.append('"' + column.replace('"', '""') + '"')
    return _join(out)


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if (
            not text
            or text.endswith("(")
            or part in (")", ",")
            or (part == "(" and re.search(r"[a-z_]$", text))
        ):
            text += part
        else:
            text += " " + part
    return text
