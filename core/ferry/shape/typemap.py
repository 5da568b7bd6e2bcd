"""How column types cross from one database to another, and what ``ferry init`` notes about them.

The mapping itself lives where each side is read or written (:func:`ferry.sources.sqlite.
sqlite_logical_type`, the PostgreSQL reader's table, :func:`ferry.shape.schema.sqlalchemy_type`);
this module names what changed on the way (``DATETIME → timestamptz``), decides what a
SQLite collation becomes, and finds the columns whose values call for another type than the
declared one (a BOOLEAN column holding 2, a TEXT column holding only JSON).
docs/database-moves.md ("Types") has the table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import types as sqltypes

from .carried import SchemaObject, Status
from .djangotypes import SQLITE_TARGET_TYPES, pg_target_type
from .identifiers import quote
from .jsoncolumns import declared_json
from .sqlitenames import sqlite_kept_name
from .typefindings import TypeFinding
from .uuidcolumns import uuid_column, uuid_declared

if TYPE_CHECKING:
    from ..plan import Plan
    from ..sources import SourceTable
    from ..sources.base import SourceReader
    from ..targets import Target
    from .schema import TableInfo

#: how a reflected target type is shown (PostgreSQL's long names by their usual short ones)
_SHORT = {
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP WITHOUT TIME ZONE": "timestamp",
    "DOUBLE PRECISION": "double precision",
}
#: PostgreSQL types a SQLite target holds as their text (their checks are not carried)
_PG_TEXT_LIKE = re.compile(r"^(text|character varying|varchar|character|char|bpchar)\b")
#: a ``tsvector``'s search stays behind (a Wagtail site moved back to SQLite found nothing)
_UNSEARCHABLE = (
    "its lexemes kept as text, which SQLite cannot search: an app that searches it needs an fts5 "
    "index of its own there, as its migrations or search backend make it in an empty SQLite file"
)

#: PostgreSQL types a PostgreSQL → PostgreSQL move creates as declared, by logical type: the
#: source's values fit them; the app's limits, sizes, search (``tsvector``: ts_rank) and
#: addresses (Django's ``GenericIPAddressField`` binds ``Inet``: ``text = inet`` fails) stay
_KEPT_PG = {
    "text": re.compile(r"^((character varying|character)\(\d+\)|uuid|tsvector|inet|cidr|macaddr)$"),
    "integer": re.compile(r"^(smallint|integer)$"),
    # an array (``text[]``, ``integer[]``): the app binds lists; as jsonb its INSERTs failed
    "json": re.compile(r"^[a-z][a-z0-9 _(),]*\[\]$"),
}


def kept_type(source_dialect: str, dialect: str, logical: str, declared: str) -> str:
    """The source's declared type when a created column keeps it as it is (between two
    PostgreSQL databases: a length limit, a 2- or 4-byte integer; between two SQLite files:
    a time's, a flag's, a float's or an integer's own name: :mod:`ferry.shape.sqlitenames`),
    else ""."""
    pattern = _KEPT_PG.get(logical)
    if source_dialect == dialect == "postgresql" and pattern and pattern.match(declared):
        return declared
    if source_dialect == dialect == "sqlite":
        return sqlite_kept_name(logical, declared)
    return ""


def planned_type(dialect: str, logical: str, wanted: str) -> str:
    """The plan's ``target_types`` entry of a created text column as the target declares
    it: ``uuid`` on PostgreSQL; on SQLite ``character(32)``, which gets UUIDs as 32 hex
    digits (:mod:`ferry.values.uuidtext`), as ORMs keep them there; ``inet``, ``interval``
    (on SQLite a ``bigint`` of microseconds): :mod:`ferry.shape.djangotypes`; else ""."""
    if dialect == "postgresql":
        return pg_target_type(wanted, logical)
    return SQLITE_TARGET_TYPES.get((wanted, logical), "")


class DeclaredType(sqltypes.UserDefinedType[Any]):
    """A column type written as the source declares it (``text[]``): its values go to the
    driver as they are (a list becomes an array)."""

    cache_ok = True

    def __init__(self, declared: str) -> None:
        self.declared = declared

    def get_col_spec(self, **_kw: Any) -> str:
        return self.declared


def kept_sql_type(declared: str, as_stored: bool = False) -> Any:
    """``character varying(32)``, ``character(2)``, ``uuid``, ``integer``, ``smallint``,
    ``text[]``, ``tsvector`` as types; ``as_stored``: any declared type, as it is."""
    if as_stored or declared.endswith("[]") or declared in _AS_DECLARED:
        return DeclaredType(declared)
    length = re.search(r"\((\d+)\)", declared)
    if declared.startswith("character varying") and length:
        return sqltypes.VARCHAR(int(length.group(1)))
    if declared.startswith("character") and length:
        return sqltypes.CHAR(int(length.group(1)))
    if declared == "uuid":
        return sqltypes.Uuid(as_uuid=False)
    return sqltypes.SmallInteger() if declared == "smallint" else sqltypes.Integer()


_AS_DECLARED = frozenset({"tsvector", "inet", "cidr", "macaddr", "interval"})
_PRECISION = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")
#: PostgreSQL's largest numeric precision
_MAX_PRECISION = 1000


def decimal_type(declared: str) -> Any:
    """``NUMERIC``/``DECIMAL`` with the precision and scale ``declared`` gives (when a
    database can hold them; none: any number of digits)."""
    kind = sqltypes.DECIMAL if declared.strip().upper().startswith("DEC") else sqltypes.NUMERIC
    match = _PRECISION.search(declared)
    if match:
        precision, scale = int(match.group(1)), int(match.group(2) or 0)
        if 1 <= precision <= _MAX_PRECISION and scale <= precision:
            return kind(precision, scale)
    return kind()


def _shown(sql_type: str, dialect: str) -> str:
    """A target type as the mapping table writes it: lower case on PostgreSQL, as declared
    on SQLite (none: ``(no declared type)``, an ``any`` column's from a STRICT ``ANY``)."""
    upper = " ".join(sql_type.split()).upper()
    if dialect == "postgresql":
        return _SHORT.get(upper, upper.lower()).replace(", ", ",")
    return upper.replace(", ", ",") if upper not in ("", "NULL") else "(no declared type)"


def _same(declared: str, created: str) -> bool:
    def norm(text: str) -> str:
        text = re.sub(r"\s+", "", text).upper()
        return text.replace("CHARACTERVARYING", "VARCHAR").replace("CHARACTER(", "CHAR(")

    return norm(declared) == norm(created)


def column_translations(
    table: str,
    source: SourceTable,
    created: TableInfo,
    fields: dict[str, str],
    source_dialect: str,
    dialect: str,
) -> list[SchemaObject]:
    """``old → new`` for each column of a table Ferry created whose type differs from the
    source column's declared type. ``fields`` maps target columns to their source fields."""
    found: list[SchemaObject] = []
    for column, info in created.columns.items():
        field = fields.get(column, column)
        declared = source.declared.get(field, "")
        if not declared or field not in source.columns:
            continue
        new = _shown(info.sql_type, dialect)
        # SQLite keeps booleans as 0/1 integers: a PostgreSQL boolean is a translation.
        zero_one = source_dialect == "sqlite" and dialect == "postgresql" and info.type == "boolean"
        same = _same(declared, new) or _same(_shown(declared, source_dialect), new)
        if same and not zero_one:
            continue
        old = f"{declared} 0/1" if zero_one else declared
        detail = f"{old} → {new}"
        status: Status = "translated"
        if source.shape is not None and field in source.shape.enums:
            detail += f" (an enum: its values kept by CHECK ({source.shape.enums[field]}))"
        elif source_dialect == "postgresql" and dialect == "sqlite" and declared == "tsvector":
            status, detail = "not carried", f"{detail} ({_UNSEARCHABLE})"
        elif (
            source_dialect == "postgresql"
            and info.type == "text"
            and dialect == "sqlite"
            and not _PG_TEXT_LIKE.match(declared.lower())
        ):
            detail += f" (kept as its text; SQLite does not check it as {declared})"
        found.append(SchemaObject("column type", f"{table}.{column}", status, detail))
    return found


def created_objects(
    plan: Plan,
    created: dict[str, TableInfo],
    tables: dict[str, TableInfo],
    source_tables: dict[str, SourceTable],
    ddl: dict[str, str],
) -> list[SchemaObject]:
    """A ``table`` entry for each table Ferry created (with its DDL), then the column types
    that changed on the way from the source's declared ones."""
    kinds = {s.name: s.kind for s in plan.sources}
    objects: list[SchemaObject] = []
    translated: list[SchemaObject] = []
    for name in created:
        spec = next(t for t in plan.tables if t.name == name)
        objects.append(
            SchemaObject("table", name, "carried", f"from {spec.source}", ddl.get(name, ""))
        )
        source = source_tables.get(spec.source)
        kind = kinds.get(spec.source.split(".", 1)[0], "")
        if source is None or name not in tables or kind not in ("sqlite", "postgres"):
            continue
        fields = {c: col.from_ for c, col in spec.columns.items() if col.from_}
        dialect = "postgresql" if kind == "postgres" else "sqlite"
        translated += column_translations(
            name, source, tables[name], fields, dialect, tables[name].dialect
        )
    return objects + translated


async def settle_collations(target: Target, tables: list[TableInfo]) -> list[SchemaObject]:
    """Decide what each column's source collation becomes before the tables are created.

    SQLite's ``NOCASE`` stays ``NOCASE`` on a SQLite target; on PostgreSQL it becomes
    ``citext`` when the target database has that extension, else it is not carried (the
    column compares case-sensitively) and named. Other collations (``RTRIM``, an
    application's own) are not carried."""
    found: list[SchemaObject] = []
    has_citext: bool | None = None
    for table in tables:
        for column in table.columns.values():
            collation = column.collation.upper()
            if not collation:
                continue
            name = f"{table.name}.{column.name}"
            carried = target.capabilities.sqlite_collations
            if carried and collation in ("NOCASE", "RTRIM", "BINARY"):
                found.append(SchemaObject("collation", name, "carried", f"COLLATE {collation}"))
                continue
            if target.capabilities.citext and collation == "NOCASE":
                if has_citext is None:
                    has_citext = await target.has_extension("citext")
                if has_citext and column.type == "text":
                    column.collation = "citext"
                    found.append(
                        SchemaObject("collation", name, "translated", "COLLATE NOCASE → citext")
                    )
                    continue
                reason = (
                    "COLLATE NOCASE: the column compares case-sensitively in PostgreSQL; run "
                    "CREATE EXTENSION citext in the target database first to get a citext column"
                )
            else:
                reason = f"COLLATE {collation}: the target has no such collation"
            column.collation = ""
            found.append(SchemaObject("collation", name, "not carried", reason))
    return found


# -- what `ferry init` notes ---------------------------------------------------------------


def find_type_choices(
    reader: SourceReader, table: SourceTable, *, django: bool = False
) -> list[TypeFinding]:
    """BOOLEAN columns holding more than 0/1 (they stay integer or text, not boolean), TEXT
    columns holding only JSON objects or arrays (a ``json`` choice the note offers), DATETIME
    columns whose values all lack an offset (``datetime``: they stay without a zone), and UUID
    columns (``django``: a Django database, whose empty ``char(32)`` is a ``UUIDField`` too)."""
    found: list[TypeFinding] = []
    origin = table.origin
    for column, type_ in table.columns.items():
        declared = table.declared.get(column, "")
        if type_ == "boolean" and "BOOL" in declared.upper():
            finding = _not_boolean(reader, table, column, declared)
        elif type_ == "timestamp" and declared:
            finding = _wall_times(reader, table, column, declared)
        elif type_ == "text" and uuid_declared(declared):
            finding = uuid_column(reader, table, column, declared, django=django)
        elif type_ == "text":
            finding = declared_json(table, column) or _only_json(reader, origin, table.name, column)
        else:
            finding = None
        if finding is not None:
            found.append(finding)
    return found


def _not_boolean(
    reader: SourceReader, table: SourceTable, column: str, declared: str
) -> TypeFinding | None:
    c, t = quote(column), quote(table.origin)
    # 't'/'f' and 'true'/'false' are booleans too (Rails before 6 wrote 't'/'f' in SQLite)
    words = "'t', 'f', 'true', 'false'"
    where = f"{c} IS NOT NULL AND {c} NOT IN (0, 1) AND lower({c}) NOT IN ({words})"
    row = reader.query_one(
        f"SELECT count(*), sum(typeof({c}) = 'integer') FROM {t} WHERE {where}", (), table.origin
    )
    others = int(row[0] or 0) if row else 0
    if not others:
        return None
    integers = int(row[1] or 0)
    keys = list(table.key) or ["rowid"]
    firsts = reader.query_all(
        f"SELECT {', '.join(quote(k) for k in keys)}, {c} FROM {t} WHERE {where} LIMIT 3",
        (),
        table.origin,
    )
    shown = "; ".join(
        ", ".join(f"{k}={v!r}" for k, v in zip(keys, r, strict=False)) + f": {r[-1]!r}"
        for r in firsts
    )
    chosen = "integer" if integers == others else "text"
    return TypeFinding(
        table.name,
        column,
        chosen,
        f"column {column!r} is declared {declared} but {others} values are not 0/1 "
        f'(first: {shown}): kept as {chosen}, not boolean (types.{column} = "{chosen}")',
    )


def declared_wall_times(table: SourceTable) -> list[TypeFinding]:
    """The note of each ``datetime`` column of a PostgreSQL source: its declared type says
    its values have no zone, and the draft keeps them so."""
    return [
        TypeFinding(
            table.name,
            column,
            "datetime",
            f"column {column!r} is declared {table.declared.get(column) or 'timestamp'}: "
            f'a date and time without a zone, kept so (types.{column} = "datetime"; '
            '"timestamp" would make it an instant, timestamptz)',
            zone=True,
        )
        for column, type_ in table.columns.items()
        if type_ == "datetime"
    ]


def _wall_times(
    reader: SourceReader, table: SourceTable, column: str, declared: str
) -> TypeFinding | None:
    """A SQLite date-time column whose values are all text without an offset (an ORM's
    naive ``DateTime()``): ``datetime``, so PostgreSQL gets ``timestamp without time zone``."""
    c = quote(column)
    zoned = f"({c} GLOB '*[0-9]:[0-9][0-9]*[Zz]' OR {c} GLOB '*[0-9]:[0-9][0-9]*[+-][0-9][0-9]*')"
    row = reader.query_one(
        f"SELECT count({c}), sum(typeof({c}) = 'text' AND NOT {zoned}) FROM {quote(table.origin)}",
        (),
        table.origin,
    )
    total, naive = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    if not total:  # nothing to judge by here (see settle_empty_zones)
        return TypeFinding(
            table.name,
            column,
            None,
            f"column {column!r} ({declared}) holds no values to tell whether the app writes a "
            f'zone: drafted as "timestamp" (an instant, PostgreSQL timestamptz); if it writes '
            f"dates and times without one (SQLAlchemy's DateTime() does), set "
            f'types.{column} = "datetime"',
            zone=True,
            values="empty",
        )
    if naive != total:
        return TypeFinding(table.name, column, None, "", zone=True, values="zoned")
    return TypeFinding(
        table.name,
        column,
        "datetime",
        f"column {column!r} ({declared}) holds dates and times without a zone ({total:,} "
        f'values, none with an offset): types.{column} = "datetime" keeps them so '
        '(PostgreSQL timestamp without time zone; "timestamp" would make them instants)',
        zone=True,
        values="naive",
    )


def settle_empty_zones(found: list[TypeFinding]) -> list[TypeFinding]:
    """One database's date-time columns, settled together: where every column with values
    holds them without a zone, its empty ones are drafted so too (an app writes its times
    one way); where none has values, or some have offsets, an empty column's note asks.
    The notes-less "zoned" markers go."""
    naive = [f for f in found if f.values == "naive"]
    zoned = any(f.values == "zoned" for f in found)
    settled: list[TypeFinding] = []
    for finding in found:
        if finding.values == "zoned":
            continue
        if finding.zone and finding.values == "empty" and naive and not zoned:
            shown = ", ".join(f"{f.table}.{f.column}" for f in naive[:3])
            more = f" and {len(naive) - 3} more" if len(naive) > 3 else ""
            finding = TypeFinding(
                finding.table,
                finding.column,
                "datetime",
                f"column {finding.column!r} holds no values yet; drafted without a zone "
                f'(types.{finding.column} = "datetime") like every date-time column of this '
                f"database that holds values ({shown}{more}: none with an offset)",
                zone=True,
                values="empty",
            )
        settled.append(finding)
    return settled


def _only_json(reader: SourceReader, origin: str, table: str, column: str) -> TypeFinding | None:
    c = quote(column)
    row = reader.query_one(
        f"SELECT count({c}), sum(typeof({c}) = 'text' AND json_valid({c}) "
        f"AND json_type(CASE WHEN json_valid({c}) THEN {c} END) IN ('object', 'array')) "
        f"FROM {quote(origin)}",
        (),
        origin,
    )
    total, documents = (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)
    if not total or documents != total:
        return None
    return TypeFinding(
        table,
        column,
        None,
        f"column {column!r} holds only JSON objects or arrays ({total} values): add "
        f'types.{column} = "json" and columns.{column} = {{from = "{column}", parse_json = '
        "true} to store the documents as jsonb (PostgreSQL) or JSON (without parse_json each "
        "text is stored as one JSON string); it stays text because jsonb does not keep the "
        "text exactly (key order, spaces, duplicate keys)",
    )
