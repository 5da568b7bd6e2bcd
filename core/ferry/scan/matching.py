"""How ``ferry init`` matches what it found to a schema that already exists.

A source table is matched to an existing table by **column overlap** first (a source whose
fields fill at least 90% of a table's columns is that table, whatever its file is called), then
by **name** (the same name up to case and punctuation, or a close spelling). A nested list
(``albums.tracks``) is matched among the tables with a foreign key to its parent's table, by
column overlap, and its parent link feeds that foreign key. Fields meet columns by name up to
case, ``_``/camelCase (``createdAt`` = ``created_at``) and the short list of :data:`SYNONYMS`.

Every match carries its evidence as a sentence for the table's ``notes``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..shape.schema import ColumnInfo, ForeignKey, TableInfo, is_ferry_table

#: Words in field names that mean the same as a column's word (kept small on purpose:
#: each is a common abbreviation in app state; docs/init.md "How init matches" lists them).
SYNONYMS: dict[str, str] = {
    "ts": "timestamp",
    "time": "timestamp",
    "desc": "description",
    "qty": "quantity",
    "amt": "amount",
    "msg": "message",
    "num": "number",
    "no": "number",
    "cnt": "count",
    "pos": "position",
    "details": "metadata",
}
#: fields never matched by one word of a longer column name (keys, a kv map's value)
_NOT_QUALIFIED = frozenset({"id", "key", "value", "position", "type", "name"})
#: last words that change what a column holds (an ``analysis`` object is not ``analysis_json``
#: text without parsing, a ``user`` is not a ``user_id``)
_NOT_QUALIFYING = frozenset({"json", "id"})

#: share of a table's columns a source must fill to be that table by its columns alone
COLUMN_MATCH = 0.9
#: difflib ratio above which two normalised names count as the same name
NAME_MATCH = 0.8


def words(name: str) -> list[str]:
    """The lower-case words of a name: ``createdAt`` and ``created_at`` -> created, at."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^0-9A-Za-z]+", spaced.lower()) if w]


def canonical(name: str) -> str:
    """The name with every word spelled the standard way (``item_qty`` -> ``item_quantity``)."""
    return "_".join(SYNONYMS.get(w, w) for w in words(name))


def _squashed(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass
class FieldMatch:
    """A source field that feeds a column, and how the two names were found to agree."""

    column: str
    how: str  # "same name", "case/underscores", "synonym", "qualified name", "key", "foreign key"


def match_fields(fields: Iterable[str], columns: Iterable[str]) -> dict[str, FieldMatch]:
    """Each source field -> the column it feeds (each column fed once, best evidence first)."""
    columns = list(columns)
    fields = list(fields)
    result: dict[str, FieldMatch] = {}
    used: set[str] = set()
    tests = (
        ("same name", lambda f, c: f == c),
        ("case/underscores", lambda f, c: _squashed(f) == _squashed(c)),
        ("synonym", lambda f, c: canonical(f) == canonical(c)),
    )
    for how, same in tests:
        for name in fields:
            if name in result:
                continue
            for column in columns:
                if column not in used and same(name, column):
                    result[name] = FieldMatch(column, how)
                    used.add(column)
                    break
    # Last, a field that is the first or last word(s) of exactly one free column, the rest
    # qualifying it (``error`` -> ``error_message``, ``details`` -> ``step_metadata``).
    for name in fields:
        wanted = canonical(name)
        if name in result or wanted in _NOT_QUALIFIED:
            continue
        qualified = [
            c
            for c in columns
            if c not in used
            and canonical(c) != wanted
            and (canonical(c).startswith(f"{wanted}_") or canonical(c).endswith(f"_{wanted}"))
            and canonical(c).split("_")[-1] not in _NOT_QUALIFYING
        ]
        if len(qualified) == 1:
            result[name] = FieldMatch(qualified[0], "qualified name")
            used.add(qualified[0])
    return result


def name_similarity(source: str, table: str) -> float:
    """1.0 for the same name up to case/punctuation/synonyms, else difflib's ratio."""
    a, b = _squashed(canonical(source)), _squashed(canonical(table))
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def _counted(info: TableInfo, fed: set[str], link: Iterable[str] = ()) -> list[ColumnInfo]:
    """The columns a source is measured against: all but those the database generates and
    no field fills (an autoincrement id), and those the parent link fills."""
    skip = set(link)
    return [
        c
        for c in info.columns.values()
        if c.name not in skip
        and not (c.name in info.primary_key and c.has_default and c.name not in fed)
    ]


@dataclass
class TableMatch:
    """An existing table chosen for a source table, with the evidence."""

    table: str
    #: source field -> column (parent link fields included for a child table)
    fields: dict[str, FieldMatch]
    matched: int
    of: int
    by: str  # "name", "columns", "name and columns", "foreign key"
    evidence: str
    #: the child's parent link columns -> the foreign key columns they feed
    link: dict[str, str] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Share of the table's counted columns the source fills."""
        return self.matched / self.of if self.of else 0.0


def _measure(
    fields: list[str],
    info: TableInfo,
    link: Mapping[str, str] = {},
    key: Sequence[str] = (),
    types: Mapping[str, str] = {},
) -> TableMatch:
    rest = [f for f in fields if f not in link]
    free = [c for c in info.columns if c not in link.values()]
    matches = match_fields(rest, free)
    if len(key) == 1 and key[0] in matches and types.get(key[0]) == "text":
        named = info.columns[matches[key[0]].column]
        if named.name in info.primary_key and named.has_default and named.type == "integer":
            del matches[key[0]]  # a text key (a map's paths) is not the generated number
    # A one-field source key no column is named after (a keyed map's ``id``, a list's
    # ``value``) feeds the one-column primary key nothing else fills and the database does
    # not generate.
    fed = {m.column for m in matches.values()}
    if len(key) == 1 and key[0] in rest and key[0] not in matches and len(info.primary_key) == 1:
        primary = info.columns[info.primary_key[0]]
        if primary.name not in fed and not primary.has_default:
            matches[key[0]] = FieldMatch(primary.name, "key")
        elif primary.has_default and primary.name not in fed:
            # the database numbers the rows: the key is the table's one-column UNIQUE
            # (a map keyed by path into a table with ``id`` generated and ``path UNIQUE``)
            natural = [u[0] for u in info.unique if len(u) == 1 and u[0] not in fed]
            natural = [c for c in natural if c not in link.values()]
            if len(natural) == 1:
                matches[key[0]] = FieldMatch(natural[0], "key")
    counted = _counted(info, {m.column for m in matches.values()}, link.values())
    matched = sum(1 for c in counted if any(m.column == c.name for m in matches.values()))
    for source_field, column in link.items():
        matches[source_field] = FieldMatch(column, "foreign key")
    return TableMatch(info.name, matches, matched, len(counted), "", "", dict(link))


def choose_table(
    source: str,
    fields: Iterable[str],
    existing: Mapping[str, TableInfo],
    key: Sequence[str] = (),
) -> TableMatch | None:
    """The existing table a top-level source table is, or None.

    Columns decide first: the table whose columns the fields cover best, when that is at least
    :data:`COLUMN_MATCH`. Otherwise a table of the same (or a close) name, however few of its
    columns match (the evidence says how few). ``key`` is the source's key: a one-field key
    may feed the table's primary key under another name. ``source`` is the source table's
    name (``orders_export``, ``state.jobs``).
    """
    short = source.rsplit(".", 1)[-1]
    candidates = [info for name, info in existing.items() if not is_ferry_table(name)]
    types = fields if isinstance(fields, Mapping) else {}
    names = list(fields)
    measured = [(_measure(names, info, key=key, types=types), info) for info in candidates]
    by_columns = [
        (m, max(name_similarity(short, m.table), name_similarity(source, m.table)))
        for m, _ in measured
        if m.of and m.coverage >= COLUMN_MATCH and _named_enough(m, names)
    ]
    if by_columns:
        best, similar = max(by_columns, key=lambda pair: (pair[0].coverage, pair[1]))
        best.by = "name and columns" if similar >= NAME_MATCH else "columns"
        differs = "" if similar >= NAME_MATCH else f" (the name {short} differs)"
        best.evidence = (
            f"matched to {best.table} by {best.by}: {best.matched} of {best.of} columns{differs}"
        )
        return best
    named = [
        (max(name_similarity(short, m.table), name_similarity(source, m.table)), m)
        for m, _ in measured
    ]
    named = [(s, m) for s, m in named if s >= NAME_MATCH]
    if not named:
        return _by_fields(names, measured)
    similar, best = max(named, key=lambda pair: (pair[0], pair[1].coverage))
    best.by = "name"
    best.evidence = f"matched to {best.table} by name: {best.matched} of {best.of} columns match"
    return best


def _by_name(match: TableMatch) -> list[str]:
    """The source fields that found their column by its name (not as the key alone)."""
    return [f for f, m in match.fields.items() if m.how not in ("key", "foreign key")]


def _named_enough(match: TableMatch, fields: list[str]) -> bool:
    """Half the source's fields at least find a column by name: a small table's columns are
    no evidence alone (Home Assistant's ``.storage/auth`` ``users``, key ``id``, "filled"
    the recorder's ``states_meta``, its ``entity_id`` unique; ``refresh_tokens``, fifteen
    fields, its ``migration_changes`` by ``version``)."""
    own = [f for f in fields if f != "position"]
    return bool(own) and 2 * len(_by_name(match)) >= len(own)


def _by_fields(
    fields: list[str], measured: list[tuple[TableMatch, TableInfo]]
) -> TableMatch | None:
    """The one table every field of the source (two at least, ``position`` aside) is a
    column of, when neither columns nor name decided: a map of per-item options whose table
    adds columns the app fills itself (timestamps, a priority)."""
    own = [f for f in fields if f != "position"]
    if len(own) < 2:
        return None
    whole = [m for m, _ in measured if all(f in m.fields for f in own)]
    whole = [m for m in whole if len(_by_name(m)) >= 2]
    if len(whole) != 1:
        return None
    best = whole[0]
    best.by = "fields"
    best.evidence = (
        f"matched to {best.table} by fields: all {len(own)} of the source's fields are its "
        f"columns ({best.matched} of {best.of} columns)"
    )
    return best


def choose_child_table(
    source: str,
    fields: Iterable[str],
    link: tuple[tuple[str, ...], tuple[str, ...]],
    parent_table: str,
    parent_feeds: Mapping[str, str],
    existing: Mapping[str, TableInfo],
) -> TableMatch | None:
    """The existing table a nested list (``albums.tracks``) is: among the tables with a foreign
    key to ``parent_table``, the one whose columns the list's fields cover best (at least half),
    one named like the list (or a database's table) before any other; on a tie, the one more
    of the list's fields go into, then the one of the closer name.

    ``link`` is the child's parent link (its columns, the parent's key fields it copies);
    ``parent_feeds`` maps the parent's source fields to the parent table's columns, so the
    link column whose parent field feeds the key the foreign key references feeds that FK.
    """
    fields = list(fields)
    link_columns, parent_fields = link
    short = source.rsplit(".", 1)[-1]
    best: TableMatch | None = None
    best_rank: tuple[bool, float, float, float] = (False, 0.0, 0.0, 0.0)
    for info in existing.values():
        for fk in info.foreign_keys:
            feeds = _link_feeds(fk, parent_table, link_columns, parent_fields, parent_feeds)
            if feeds is None:
                continue
            measured = _measure(fields, info, feeds)
            if not measured.of or measured.coverage < 0.5:
                continue
            # A table of the source's own name first: two children of one parent can have the
            # same columns (Home Assistant's statistics and statistics_short_term). Ties on
            # coverage then go to the table that places more of the source's own fields, then
            # to the closer name: MLflow's params, metrics and latest_metrics each fill every
            # column of tags (key, value; run_uuid -> runs), and all three went into tags.
            similar = name_similarity(short, info.name)
            placed = len(measured.fields) / len(fields) if fields else 0.0
            rank = (similar >= NAME_MATCH, measured.coverage, placed, similar)
            if best is None or rank > best_rank:
                best, best_rank = measured, rank
                fk_text = f"{', '.join(fk.columns)} -> {fk.ref_table}({', '.join(fk.ref_columns)})"
                best.by = "foreign key"
                best.evidence = (
                    f"matched to {info.name} through its foreign key {fk_text}: "
                    f"{best.matched} of {best.of} other columns (source {source})"
                )
    return best


def _link_feeds(
    fk: ForeignKey,
    parent_table: str,
    link_columns: tuple[str, ...],
    parent_fields: tuple[str, ...],
    parent_feeds: Mapping[str, str],
) -> dict[str, str] | None:
    """Link column -> FK column when ``fk`` references what the parent link carries."""
    if fk.ref_table != parent_table or len(fk.columns) != len(link_columns):
        return None
    feeds: dict[str, str] = {}
    for link_column, parent_field in zip(link_columns, parent_fields, strict=True):
        referenced = parent_feeds.get(parent_field)
        if referenced not in fk.ref_columns:
            return None
        feeds[link_column] = fk.columns[fk.ref_columns.index(referenced)]
    return feeds


#: source type -> target types it goes into without a disagreement worth a note
_FITS: dict[str, set[str]] = {
    "integer": {"integer", "float", "decimal", "boolean", "timestamp", "datetime", "date"},
    "float": {"float", "decimal", "timestamp", "datetime"},
    "decimal": {"decimal", "float"},
    "boolean": {"boolean", "integer"},
    "text": {"timestamp", "datetime", "date", "json", "bytes"},
    "timestamp": {"timestamp", "datetime", "date"},
    "datetime": {"datetime", "timestamp", "date"},
    "date": {"date", "timestamp", "datetime"},
    "json": {"json"},
    "bytes": {"bytes"},
}


def type_disagreement(field_name: str, source_type: str, column: ColumnInfo) -> str | None:
    """A note when a field's values are of a kind the column does not hold, else None."""
    if source_type == column.type or column.type in ("text", "json"):
        return None
    if column.type in _FITS.get(source_type, set()):
        return None
    return (
        f"type disagreement: field {field_name!r} holds {source_type}, column {column.name!r} "
        f"is {column.type} ({column.sql_type or column.type}): values that do not convert are "
        "rejected by key"
    )


def literal_default(sql: str | None) -> str | int | float | None:
    """A column DEFAULT that is a plain literal (``'en'``, ``0``, ``-1.5``) as a value; None
    for anything else (``CURRENT_TIMESTAMP``, ``now()``, a ``'x'::text`` cast is read too)."""
    if sql is None:
        return None
    text = re.sub(r"::[\w ]+$", "", sql.strip()).strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    return None
