"""A source table's shape (:mod:`ferry.shape.source`) made into the target table Ferry creates.

:func:`target_shape` translates it for the target (column and table names as the plan maps
them, expressions by :mod:`ferry.shape.translate`) and lists what cannot come across.
Defaults, NOT NULL, identity, UNIQUE and CHECK go into the ``CREATE TABLE``; indexes are
built after the rows are loaded (:func:`after_load_ddl`), and so are foreign keys on
PostgreSQL (inside the run's transaction: no load order to respect, and a failure still
leaves the target untouched). SQLite cannot add a foreign key to a table, so there they are
part of the ``CREATE TABLE`` and checked at commit (``PRAGMA defer_foreign_keys``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from ..capabilities import TargetCapabilities
from .conflicts import not_carried as conflict_not_carried
from .identifiers import quote
from .source import ForeignKeyShape, IndexShape, TableShape
from .translate import translate_condition, translate_default


@dataclass(frozen=True)
class TargetForeignKey:
    """A foreign key between two tables of the plan, in target names."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = ""
    on_update: str = ""
    deferrable: bool = False
    initially_deferred: bool = False
    #: the source's name for it ("": the database names it)
    name: str = ""


@dataclass(frozen=True)
class TargetIndex:
    """An index in target names: ``parts`` are SQL (``"name" DESC``)."""

    name: str
    parts: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    #: the index method when not btree (``gin``): PostgreSQL to PostgreSQL only
    using: str = ""


@dataclass
class TargetShape:
    """What a created table carries besides its columns' types and primary key."""

    defaults: dict[str, str] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)
    identity: str | None = None
    autoincrement: bool = False
    foreign_keys: list[TargetForeignKey] = field(default_factory=list)
    uniques: list[tuple[str, ...]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    indexes: list[TargetIndex] = field(default_factory=list)
    #: column -> (expression, stored): columns the target computes (``GENERATED ALWAYS AS``);
    #: a run never writes them
    generated: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: constraint names in target terms: ``("pk",)``, ``("unique", *columns)``,
    #: ``("check", condition)`` -> name (foreign keys carry theirs)
    names: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: statements to run once the rows are in, after the indexes (a full-text index rebuilt
    #: from this table: :mod:`ferry.shape.virtualtables`)
    after_load: list[str] = field(default_factory=list)
    #: SQLite conflict clauses kept on a SQLite target, in target terms (``("unique",
    #: *columns)`` -> ``REPLACE``: :mod:`ferry.shape.conflicts`)
    conflicts: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: what the source declares that this table does not carry, one line each
    not_carried: list[str] = field(default_factory=list)


#: what a SQLite target's table goes without when its source was declared with an option
_OPTION_NOT_CARRIED = {
    "STRICT": (
        "STRICT: created with Ferry's column types, which STRICT does not take (BIGINT, "
        "DATETIME, JSON…), so a value of another type is stored, not refused"
    ),
    "WITHOUT ROWID": "WITHOUT ROWID: created as a rowid table (the same rows and key)",
}


def target_shape(
    shape: TableShape,
    columns: dict[str, str],
    tables: dict[str, tuple[str, dict[str, str]]],
    target: str,
    types: Mapping[str, str] | None = None,
    as_declared: Collection[str] = (),
) -> TargetShape:
    """``shape`` for the target table: ``columns`` maps the source's column names to the
    target's (columns the plan leaves out are absent), ``tables`` maps a source table's name
    to its target table and that table's column map; ``target`` is the target's dialect,
    ``types`` the target columns' logical types (a DEFAULT must suit its column) and
    ``as_declared`` the target columns created with the source's own type (an index keeps
    its method and operator classes on them)."""
    out = TargetShape()
    source = shape.dialect
    # Within one kind of database an expression the translator does not know still means
    # the same, as long as the names it uses are unchanged (and no sequence of the source
    # is named).
    same = source == target and all(k == v for k, v in columns.items())

    def as_is(text: str) -> str | None:
        return text if same and "nextval(" not in text.lower() else None

    def mapped(names: tuple[str, ...]) -> tuple[str, ...] | None:
        found = tuple(columns.get(name, "") for name in names)
        return found if all(found) else None

    for name, text in shape.defaults.items():
        if name not in columns:
            continue
        translated = translate_default(text, source, target) or as_is(text)
        if translated is not None and target == "postgresql":
            translated = suited(translated, (types or {}).get(columns[name], "text"))
        if translated is None:
            if text.strip().upper() != "NULL":
                out.not_carried.append(f"DEFAULT {' '.join(text.split())} of column {name}")
        else:
            out.defaults[columns[name]] = translated
    out.not_null = {columns[name] for name in shape.not_null if name in columns}
    if ("pk",) in shape.names:
        out.names[("pk",)] = shape.names[("pk",)]
    if shape.identity is not None and shape.identity in columns:
        if target == "sqlite" and not shape.identity_alone:
            out.not_carried.append(
                f"the numbering of column {shape.identity} (an identity within a composite "
                "primary key; SQLite numbers only an INTEGER PRIMARY KEY of its own): a row "
                "inserted without it is refused"
            )
        else:
            out.identity = columns[shape.identity]
            out.autoincrement = shape.autoincrement
    if target == "sqlite":
        for option in shape.options:
            out.not_carried.append(_OPTION_NOT_CARRIED.get(option, option))
    if shape.partitioned is not None:
        partition_key, parts = shape.partitioned
        out.not_carried.append(
            f"PARTITION BY {partition_key} ({parts} partitions): created as one table "
            "holding every partition's rows"
        )
    for unique in shape.uniques:
        names = mapped(unique)
        if names is None:
            out.not_carried.append(f"UNIQUE ({', '.join(unique)})")
        else:
            out.uniques.append(names)
            if ("unique", *unique) in shape.names:
                out.names[("unique", *names)] = shape.names[("unique", *unique)]
    for key, action in shape.conflicts.items():
        kept = (key[0], *(mapped(key[1:]) or ())) if len(key) > 1 else key
        if len(kept) != len(key):
            continue  # a column the plan leaves out: its constraint is named as not carried
        if target == "sqlite":
            out.conflicts[kept] = action
        else:
            out.not_carried.append(conflict_not_carried(key, action))
    booleans = (
        {name for name, new in columns.items() if (types or {}).get(new) == "boolean"}
        if target == "postgresql" and source != target
        else set()
    )
    jsons = (
        {name for name, new in columns.items() if (types or {}).get(new) == "json"}
        if target == "postgresql" and source != target
        else set()
    )
    for constraint, text in shape.checks:
        if _truth_check(text, booleans):
            continue  # SQLite's ``flag IN (0, 1)``: a PostgreSQL boolean holds nothing else
        if _json_check(text, jsons):
            continue  # SQLite's ``json_valid(attrs)``: a jsonb column holds nothing else
        check = translate_condition(text, columns, source, target) or as_is(text)
        if check is not None and _compares_a_boolean_with_a_number(text, booleans):
            check = None  # ``flag = 1`` is an error on a PostgreSQL boolean
        if check is None:
            label = f"CHECK {constraint} ({text})" if constraint else f"CHECK ({text})"
            out.not_carried.append(label)
        else:
            out.checks.append(check)
            if constraint:
                out.names[("check", check)] = constraint
    for name, (expression, stored) in shape.generated.items():
        if name not in columns:
            continue
        computed = translate_condition(expression, columns, source, target) or as_is(expression)
        if computed is None:
            kind = "STORED" if stored else "VIRTUAL"
            out.not_carried.append(
                f"GENERATED ALWAYS AS ({expression}) {kind} of column {name}: created as a "
                "plain column holding the source's values (rows written later get none)"
            )
        else:
            # PostgreSQL computes only STORED columns; the values are the same.
            out.generated[columns[name]] = (computed, stored or target == "postgresql")
            out.defaults.pop(columns[name], None)
    for fk in shape.foreign_keys:
        carried = _foreign_key(fk, mapped, tables, shape.names.get(("fk", *fk.columns), ""))
        if carried is None:
            out.not_carried.append(
                f"FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES "
                f"{fk.ref_table} ({', '.join(fk.ref_columns)}): the referenced table or a "
                "column is not in the plan"
            )
        else:
            out.foreign_keys.append(carried)
    for index in shape.indexes:
        if index.constraint and target == "postgresql":
            names = mapped(tuple(part.text for part in index.parts))
            if names is not None:
                out.uniques.append(names)
                out.names[("unique", *names)] = index.name
                continue
        made = _index(index, columns, source, target, as_is, as_declared)
        if made is None:
            out.not_carried.append(f"index {index.name}: {_index_text(index)}")
            continue
        out.indexes.append(made)
        if index.using and not made.using:  # made all the same: it still finds equal values
            where = "SQLite has none" if target == "sqlite" else "a column's type changed"
            out.not_carried.append(
                f"index {index.name}: USING {index.using} ({where}): created as a plain index "
                "on the same columns, which does not serve the searches it did (containment, "
                "full text, ranges)"
            )
    return out


def _truth_check(text: str, booleans: set[str]) -> bool:
    """True for SQLite's check that a boolean column holds 0 or 1 (SQLAlchemy's
    ``Boolean(create_constraint=True)``), which a PostgreSQL boolean column holds by its type."""
    found = re.fullmatch(
        r'\(*\s*"?(\w+)"?\s+IN\s*\(\s*([01])\s*,\s*([01])\s*\)\s*\)*', text.strip(), re.I
    )
    return bool(found and found.group(1) in booleans and found.group(2) != found.group(3))


def _json_check(text: str, jsons: set[str]) -> bool:
    """True for SQLite's check that a JSON column holds JSON (Django's ``JSONField``:
    ``JSON_VALID("attrs") OR "attrs" IS NULL``), which a ``jsonb`` column holds by its type."""
    flat = re.sub(r'[\s()"`\[\]]', "", text).casefold()
    return any(
        flat in (f"json_valid{c}", f"json_valid{c}or{c}isnull", f"{c}isnullorjson_valid{c}")
        for c in (name.casefold() for name in jsons)
    )


def _compares_a_boolean_with_a_number(text: str, booleans: set[str]) -> bool:
    """True when a check names a boolean column and holds a number (SQLite's booleans are
    0 and 1; PostgreSQL refuses to compare its booleans with numbers)."""
    words = set(re.findall(r"\w+", re.sub(r"'(?:[^']|'')*'", "''", text)))
    return bool(words & booleans) and bool(re.search(r"(?<![\w.])\d", text))


_NUMBER = re.compile(r"'?[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?'?")
_ISO_DATE = re.compile(r"'\d{4}-\d{2}-\d{2}[^']*'")
_TRUTH = {
    "1": "TRUE",
    "0": "FALSE",
    "TRUE": "TRUE",
    "FALSE": "FALSE",
    "'T'": "TRUE",
    "'F'": "FALSE",
}


def suited(default: str, logical: str) -> str | None:
    """A translated DEFAULT as PostgreSQL takes it for a column of type ``logical`` (SQLite
    takes any default in any column; PostgreSQL refuses ``DEFAULT 0`` on a boolean or a
    timestamp), or None when it does not suit the column."""
    upper = default.upper().strip("'") if default.strip("'") in ("0", "1") else default.upper()
    now = upper in ("CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME")
    if logical == "boolean":
        return _TRUTH.get(upper)
    if logical in ("integer", "float", "decimal"):
        return default if _NUMBER.fullmatch(default) else None
    if logical in ("date", "timestamp", "datetime"):
        return default if now or _ISO_DATE.fullmatch(default) else None
    if logical == "bytes":
        return default if default.startswith("'") else None
    return default


def _foreign_key(
    fk: ForeignKeyShape,
    mapped: Callable[[tuple[str, ...]], tuple[str, ...] | None],
    tables: dict[str, tuple[str, dict[str, str]]],
    name: str,
) -> TargetForeignKey | None:
    names = mapped(fk.columns)
    ref = tables.get(fk.ref_table) or tables.get(fk.ref_table.casefold())
    if names is None or ref is None:
        return None
    ref_table, ref_columns = ref
    refs = tuple(ref_columns.get(c, "") for c in fk.ref_columns)
    if not all(refs):
        return None
    return TargetForeignKey(
        names,
        ref_table,
        refs,
        fk.on_delete,
        fk.on_update,
        fk.deferrable,
        fk.initially_deferred,
        name,
    )


def _index(
    index: IndexShape,
    columns: dict[str, str],
    source: str,
    target: str,
    as_is: Callable[[str], str | None],
    as_declared: Collection[str] = (),
) -> TargetIndex | None:
    # Between two PostgreSQL databases an index keeps its method (a GIN over a tsvector: as
    # a btree, a long document's row was too large for it) and its operator classes, when
    # its columns keep their types (a GiST opclass of inet would not take text).
    both = source == target == "postgresql" and all(
        p.expression or columns.get(p.text) in as_declared for p in index.parts
    )
    parts = []
    for part in index.parts:
        if not part.text:
            return None
        if part.expression:
            text = translate_condition(part.text, columns, source, target) or as_is(part.text)
            text = f"({text})" if text and target == "postgresql" else text
        else:
            text = quote(columns[part.text]) if part.text in columns else None
        if text is None:
            return None
        text = f"{text} {part.opclass}" if both and part.opclass else text
        parts.append(f"{text} DESC" if part.desc else text)
    where = None
    if index.where is not None:
        where = translate_condition(index.where, columns, source, target) or as_is(index.where)
        if where is None:
            return None
    return TargetIndex(index.name, tuple(parts), index.unique, where, index.using if both else "")


def _index_text(index: IndexShape) -> str:
    parts = ", ".join((p.text or "<expression>") + (" DESC" if p.desc else "") for p in index.parts)
    text = f"{'UNIQUE ' if index.unique else ''}({parts})"
    return f"{text} WHERE {index.where}" if index.where else text


def foreign_key_sql(fk: TargetForeignKey) -> str:
    """``FOREIGN KEY (...) REFERENCES t (...) [ON DELETE ...] [DEFERRABLE ...]``."""
    sql = f"CONSTRAINT {quote(fk.name)} " if fk.name else ""
    sql += (
        f"FOREIGN KEY ({', '.join(quote(c) for c in fk.columns)}) REFERENCES "
        f"{quote(fk.ref_table)} ({', '.join(quote(c) for c in fk.ref_columns)})"
    )
    if fk.on_delete:
        sql += f" ON DELETE {fk.on_delete}"
    if fk.on_update:
        sql += f" ON UPDATE {fk.on_update}"
    if fk.deferrable:
        sql += " DEFERRABLE INITIALLY " + ("DEFERRED" if fk.initially_deferred else "IMMEDIATE")
    return sql


def add_foreign_key_sql(table: str, fk: TargetForeignKey) -> str:
    """``ALTER TABLE table ADD FOREIGN KEY …``: ``fk`` added to a created table."""
    return f"ALTER TABLE {quote(table)} ADD {foreign_key_sql(fk)}"


def index_sql(table: str, index: TargetIndex) -> str:
    """``CREATE [UNIQUE] INDEX`` for ``index`` of ``table``."""
    sql = (
        f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {quote(index.name)} "
        f"ON {quote(table)} {f'USING {index.using} ' if index.using else ''}"
        f"({', '.join(index.parts)})"
    )
    return f"{sql} WHERE {index.where}" if index.where else sql


def after_load_ddl(
    table: str, shape: TargetShape, capabilities: TargetCapabilities, indexes: bool = True
) -> list[str]:
    """What a created table gets once its rows are in: its indexes (unless ``indexes`` is
    False: a load apart built them already), and where the target takes them (PostgreSQL)
    its foreign keys and the identity moved past the highest id loaded; then its
    ``after_load`` statements."""
    statements = [index_sql(table, index) for index in shape.indexes] if indexes else []
    if capabilities.alters_foreign_keys:
        for fk in shape.foreign_keys:
            statements.append(add_foreign_key_sql(table, fk))
    if capabilities.sequences_lag_ids and shape.identity is not None:
        column = quote(shape.identity)
        # The next id an insert without one gets is past every migrated id.
        statements.append(
            f"SELECT setval(pg_get_serial_sequence('{_literal(quote(table))}', "
            f"'{_literal(shape.identity)}'), coalesce(max({column}), 0) + 1, false) "
            f"FROM {quote(table)}"
        )
    return statements + shape.after_load


def _literal(text: str) -> str:
    return text.replace("'", "''")


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + _literal(text) + "'"
