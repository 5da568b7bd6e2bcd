"""The parts of a plan: its sources, target, tables and columns, options, cutover, questions.

The pydantic models :class:`ferry.plan.Plan` is made of, each validated on its own with a
message naming the problem (the plan checks what crosses them: names one part gives another).
Long because every key of ``ferry.toml`` is declared here once, with its rule beside it;
splitting the models further would scatter one file format over several modules.
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .values.epochs import IntegerReading
from .values.logical import LogicalType
from .values.textbytes import InvalidText
from .values.textstyles import parse_style

PLAN_VERSION = 1
DEFAULT_TARGET_URL = "sqlite:///ferry.db"

SourceKind = Literal["json", "jsonl", "env", "text", "sqlite", "postgres", "merge"]
ConflictRule = Literal["insert", "update", "newer", "error"]
TextOp = Literal["trim", "lower", "upper"]
#: a created column's type where its logical type's own would not serve the app (TableSpec)
TargetType = Literal["uuid", "inet", "interval", "integer", "smallint"]
#: a decimal column's ``target_types`` entry: ``numeric(10,2)``
_NUMERIC = re.compile(r"^numeric\(\s*\d{1,4}\s*,\s*\d{1,4}\s*\)$")
#: a text column's length limit (PostgreSQL's largest: 10485760): ``varchar(100)``
_VARCHAR = re.compile(r"^varchar\((\d{1,8})\)$")


class PlanModel(BaseModel):
    """A part of a plan: unknown keys are refused, aliases and names both accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class DeletionRule(PlanModel):
    """When a key one merge input lacks means "deleted there", not "new elsewhere".

    A row missing from ``missing_from`` whose ``by`` value is older than ``before`` (a fixed
    time, or ``newest``: the newest ``by`` value that input holds, i.e. its last sync) was
    deleted in that copy and is not migrated; a younger one is new and is kept.
    """

    missing_from: str = Field(min_length=1)
    by: str = Field(min_length=1)
    before: str = "newest"


class SourceSpec(PlanModel):
    """One legacy store to read."""

    name: str = Field(min_length=1)
    kind: SourceKind
    #: file, folder or glob (``heartbeat_*.txt``), relative to the plan's folder
    path: str | None = None
    #: a database source's URL (PostgreSQL); the password comes from the environment/keyring
    url: str | None = None
    #: JSON layout: an array of records, an object keyed by id, or a flat key/value map
    shape: Literal["auto", "records", "keyed", "kv"] = "auto"
    #: dotted path of the collection inside a larger JSON document (``jobs``, ``state.discs``)
    root: str | None = None
    #: column that receives the object key (shape ``keyed``) or the setting's name (``kv``)
    key_column: str | None = None
    #: nested objects inside records: kept as one JSON value, or flattened to ``a_b`` columns
    nested_objects: Literal["json", "flatten"] = "json"
    #: lists of objects inside records: child tables with a foreign key, or kept as JSON
    nested_lists: Literal["tables", "json"] = "tables"
    #: database sources: the tables to read (all when empty)
    tables: list[str] = Field(default_factory=list)
    #: text sources: a regular expression with a ``key`` group, applied to each file name
    key_pattern: str | None = None
    encoding: str = "utf-8"
    #: merge sources: the source tables merged by ``key``, highest precedence first
    inputs: list[str] = Field(default_factory=list)
    #: merge sources: the columns that identify one row across the inputs
    key: list[str] = Field(default_factory=list)
    #: merge sources: text ops applied to the key before matching (``lower``: a .env file's
    #: ``WHISPER_MODEL`` meets settings.json's ``whisper_model``); merged keys come out so
    key_ops: list[TextOp] = Field(default_factory=list)
    #: merge sources: column -> inputs that win that column first (the rest follow ``inputs``)
    prefer: dict[str, list[str]] = Field(default_factory=dict)
    #: merge sources: which missing rows were deleted in one copy rather than added in another
    deletions: DeletionRule | None = None
    #: merge sources: keep only the keys this input holds (a list joined with a keyed map)
    rows_of: str | None = None
    #: JSON records: keep only those whose top-level fields hold these values (``{ model =
    #: "chinook.album" }``, a Django fixture); the rest are skipped, and these fields are no
    #: columns
    select: dict[str, str | int | bool] = Field(default_factory=dict)
    #: JSON sources: the file has comments and trailing commas (JSONC, VS Code's settings.json,
    #: or JSON5): read as the JSON it means, the comments not carried
    comments: bool = False
    #: JSON records: the field holding an object whose fields become the row's columns, beside
    #: the record's other top-level fields (``fields`` in a Django fixture)
    unwrap: str | None = None
    #: JSON Lines written by an embedded store as a log: ``nedb``, NeDB's datafile (the last
    #: line of each ``_id`` is the document, ``$$deleted`` removes it, ``$$date`` is a time)
    format: Literal["nedb"] | None = None

    @model_validator(mode="after")
    def _needs_location(self) -> SourceSpec:
        if self.select or self.unwrap is not None:
            self._check_picking()
        if self.format is not None and (self.kind != "jsonl" or self.select or self.unwrap):
            raise ValueError(
                f"format = {self.format!r} is for jsonl sources without 'select' or 'unwrap' "
                "(a NeDB datafile: one document per line)"
            )
        if self.comments and self.kind != "json":
            raise ValueError("'comments' is for json sources (JSON with comments)")
        if self.kind == "merge":
            self._check_merge()
        elif self.inputs or self.key or self.key_ops or self.prefer or self.deletions:
            raise ValueError(
                "'inputs', 'key', 'key_ops', 'prefer' and 'deletions' are for merge sources"
            )
        elif self.rows_of:
            raise ValueError("'rows_of' is for merge sources")
        elif self.kind == "postgres":
            if not self.url:
                raise ValueError("a postgres source needs 'url'")
            _check_no_password(self.url)
        elif not self.path:
            raise ValueError(f"a {self.kind} source needs 'path'")
        return self

    def _check_picking(self) -> None:
        if self.kind not in ("json", "jsonl"):
            raise ValueError("'select' and 'unwrap' are for json and jsonl sources")
        if self.shape in ("keyed", "kv"):
            raise ValueError(
                f"'select' and 'unwrap' read an array of records, not shape {self.shape!r}"
            )
        if self.unwrap is not None and (not self.unwrap or self.unwrap in self.select):
            raise ValueError(
                "'unwrap' names the field holding the record's object of fields (not empty, "
                "not one of the 'select' fields)"
            )

    def _check_merge(self) -> None:
        if len(self.inputs) < 2:
            raise ValueError("a merge source needs at least two 'inputs' (source tables)")
        if len(set(self.inputs)) != len(self.inputs):
            raise ValueError("a merge source lists each input once")
        if not self.key:
            raise ValueError("a merge source needs 'key': the columns that identify a row")
        if self.rows_of is not None and self.rows_of not in self.inputs:
            raise ValueError(f"rows_of {self.rows_of!r} is not one of the merge's inputs")
        for column, order in self.prefer.items():
            unknown = [name for name in order if name not in self.inputs]
            if unknown or not order:
                raise ValueError(
                    f"prefer.{column} names {', '.join(unknown) or 'no input'}; "
                    f"it lists inputs of this source ({', '.join(self.inputs)})"
                )
        if self.deletions and self.deletions.missing_from not in self.inputs:
            raise ValueError(
                f"deletions.missing_from {self.deletions.missing_from!r} is not one of the "
                f"inputs ({', '.join(self.inputs)})"
            )


class ColumnSpec(PlanModel):
    """How one target column gets its value. Steps run in the documented order:
    from/const/now -> parse_json -> json_path -> default -> text ops -> lookup -> is_not_null
    -> cast."""

    from_: str | None = Field(default=None, alias="from")
    const: Any = None
    now: bool = False
    parse_json: bool = False
    json_path: str | None = None
    default: Any = None
    ops: list[TextOp] = Field(default_factory=list)
    #: value -> replacement (``{ boolean = "bool" }``); values it does not name pass unchanged
    lookup: dict[str, Any] = Field(default_factory=dict)
    is_not_null: bool = False
    cast: LogicalType | None = None
    #: how a number in a date/time column reads: epoch_s, epoch_ms, epoch (seconds, ms from
    #: 10^10 on), year, null or number (kept as it is); unset: such a row is rejected
    integers: IntegerReading | None = None
    #: what a value that fails parse_json or cast does: reject its row, or warn and use fallback
    on_error: Literal["reject", "warn"] = "reject"
    fallback: Any = None
    #: text that is not valid UTF-8 (a SQLite source): reject the row, replace the bytes with
    #: U+FFFD, or keep the bytes; None: the table's ``invalid_text``
    invalid_text: InvalidText | None = None

    @property
    def has_const(self) -> bool:
        """True when the plan gave ``const`` (a constant value for every row)."""
        return "const" in self.model_fields_set and self.const is not None

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSpec:
        origins = [self.from_ is not None, self.has_const, self.now]
        if sum(origins) > 1:
            raise ValueError("give only one of 'from', 'const' and 'now'")
        if self.json_path is not None and not self.json_path.startswith("$"):
            raise ValueError("json_path starts with '$', e.g. '$.categories[0]'")
        return self


class IndexSpec(PlanModel):
    """An index of a table Ferry creates from a file (``{ columns = ["email"], unique =
    true }``): named ``<table>_<columns>_key`` (unique) or ``_idx``, built once the rows are in."""

    columns: list[str] = Field(min_length=1)
    unique: bool = False


class TableSpec(PlanModel):
    """One target table and how it is fed."""

    name: str = Field(min_length=1)
    #: the source table: ``settings``, ``executions.steps``, ``nas.content``
    source: str = Field(min_length=1)
    #: columns that identify a row (default: the target's primary key)
    key: list[str] = Field(default_factory=list)
    #: a key that exists in both: insert missing only / update changed / keep newer / stop
    conflict: ConflictRule = "update"
    #: the column compared by conflict rule ``newer``
    newer_by: str | None = None
    #: a rejected row (failed cast, violated constraint): skip it and go on, or stop the run
    on_reject: Literal["skip", "stop"] = "skip"
    #: text that is not valid UTF-8 (a SQLite source): reject the row (None means reject too),
    #: replace invalid bytes with U+FFFD, or keep the bytes (a SQLite target, a bytea column)
    invalid_text: InvalidText | None = None
    #: target column -> source column name, or a full column spec
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    #: also carry source columns not named in ``columns`` whose names fit the target
    map_all: bool = True
    #: logical types for columns of a table Ferry creates (``ferry init`` fills these in)
    types: dict[str, LogicalType] = Field(default_factory=dict)
    #: a created column's type in a PostgreSQL target where its logical type's own would not
    #: serve the app: ``uuid`` for a text column of UUIDs (the app binds UUIDs); on PostgreSQL
    #: ``inet`` for a text column of IP addresses, ``interval`` for an integer column of
    #: microseconds (Django's GenericIPAddressField, DurationField), ``numeric(P,S)`` for a
    #: decimal column (a Django DecimalField's digits); its values stay the logical type's
    #: (``ferry init`` drafts it, with the evidence, or asks)
    target_types: dict[str, str] = Field(default_factory=dict)
    #: target column -> how a SQLite target spells its values: a timestamp written in the
    #: style (``2024-03-01T09:00:00Z``), ``1/0`` or ``true/false``, ``compact`` or ``spaced``
    #: JSON (default: the style the column's rows already show, else Ferry's own)
    styles: dict[str, str] = Field(default_factory=dict)
    #: source fields deliberately not migrated (no warning about them)
    ignore: list[str] = Field(default_factory=list)
    #: skip (not reject) rows where any of these target columns is NULL after transforms
    skip_when_null: list[str] = Field(default_factory=list)
    #: delete target rows whose key is not in the source: off unless the plan says so
    delete_missing: bool = False
    #: how rows meet the table: ``merge`` by key; ``append`` (a table without a key: rows are
    #: added, once: a re-run is refused); ``replace`` (the table's rows are replaced by the
    #: source's, shown so in the preview)
    mode: Literal["merge", "append", "replace"] = "merge"
    #: ``file.py:function`` (relative to the plan) or ``module:function``, called per row
    hook: str | None = None
    #: the key column of a table Ferry creates from a file that the database numbers
    #: (PostgreSQL identity, SQLite rowid): a row the app inserts later without one gets the
    #: next number past the highest migrated (a database source's own identity is carried)
    identity: str | None = None
    #: foreign keys of a table Ferry creates from a file: column -> ``table.column`` it
    #: references (a database source's own foreign keys are carried)
    references: dict[str, str] = Field(default_factory=dict)
    #: indexes of a table Ferry creates from a file (a database source's own are carried);
    #: ``ferry init`` drafts those a NeDB datafile declares
    indexes: list[IndexSpec] = Field(default_factory=list)
    #: notes for the person reviewing the plan (what ``ferry init`` could not match)
    notes: list[str] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"from": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("target_types")
    @classmethod
    def _known_target_types(cls, value: dict[str, str]) -> dict[str, str]:
        for column, type_ in value.items():
            length = _VARCHAR.match(type_)
            varchar = length is not None and 1 <= int(length.group(1)) <= 10485760
            if type_ not in get_args(TargetType) and not _NUMERIC.match(type_) and not varchar:
                raise ValueError(
                    f"target_types.{column} = {type_!r}: a target type is uuid, inet, interval, "
                    "integer, smallint, varchar(N) (1 to 10485760 characters) or numeric(P,S) "
                    "(numeric(10,2): P digits, S of them after the point)"
                )
        return value

    @field_validator("styles")
    @classmethod
    def _known_styles(cls, value: dict[str, str]) -> dict[str, str]:
        for column, text in value.items():
            try:
                parse_style(text)
            except ValueError as exc:
                raise ValueError(f"styles.{column}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _newer_needs_column(self) -> TableSpec:
        if self.conflict == "newer" and not self.newer_by:
            raise ValueError("conflict rule 'newer' needs 'newer_by' (the column to compare)")
        if self.mode != "merge" and self.delete_missing:
            raise ValueError(f"mode {self.mode!r} matches no keys: leave out delete_missing")
        if self.identity is not None and self.key and self.key != [self.identity]:
            raise ValueError(
                f"identity {self.identity!r} must be the table's one key column (key = "
                f"[{self.identity!r}])"
            )
        if self.identity is not None and self.types.get(self.identity, "integer") != "integer":
            raise ValueError(f"identity {self.identity!r} must be an integer column")
        for column, target in self.references.items():
            table, dot, referenced = target.rpartition(".")
            if not dot or not table or not referenced:
                raise ValueError(
                    f"references.{column} = {target!r}: write the table and column it "
                    'references, "users.id"'
                )
        return self


#: a schema name ``pg_schema`` takes: plain, so the search path needs no quoting rules
PG_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
#: schemas a plan's tables never go into (the catalog, Ferry's journal)
RESERVED_PG_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast", "ferry"})


class TargetSpec(PlanModel):
    """The database Ferry writes to."""

    #: ``sqlite:///app.db`` (relative to the plan) or ``postgresql://user@host:5432/db``
    url: str = DEFAULT_TARGET_URL
    #: a ``schema.sql`` applied where the target lacks tables
    schema_sql: str | None = Field(default=None, alias="schema")
    #: PostgreSQL: the schema the plan's tables go into (created when missing); the
    #: connection's search path is this schema alone. Ferry's journal stays in ``ferry``.
    pg_schema: str | None = None
    #: environment variable holding the password (PostgreSQL)
    password_env: str | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = (
        None
    )
    sslrootcert: str | None = None
    connect_timeout: int = Field(default=10, ge=1, le=600)
    #: seconds a PostgreSQL statement may go without any progress (no byte moved, the server
    #: not working on it) before the run stops with an error; a long COPY that moves is not cut
    stall_timeout: int = Field(default=120, ge=1, le=86_400)
    #: PostgreSQL: names of the columns Ferry creates, folded to lower case where no two fold
    #: alike (an app's unquoted SQL finds them), or kept as the source spells them (quoted)
    identifiers: Literal["lower", "keep"] = "lower"
    #: PostgreSQL: how the long values Ferry writes are compressed: ``lz4`` where the server
    #: offers it (about twice as fast to write as ``pglz``, a little larger), ``server``: the
    #: server's ``default_toast_compression`` (:mod:`ferry.targets.pgcompression`)
    compression: Literal["lz4", "server"] = "lz4"
    #: PostgreSQL: sequences no column owns that the app numbers rows with itself (Synapse's
    #: ``events_stream_seq``), each with the columns it numbers (``TABLE.COLUMN``, several
    #: separated by spaces): moved past the highest value loaded there
    #: (:mod:`ferry.load.freesequences`)
    sequences: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        _check_no_password(url)
        scheme = url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("the target url starts with sqlite:/// or postgresql://")
        return url

    @field_validator("sequences")
    @classmethod
    def _valid_sequences(cls, sequences: dict[str, str]) -> dict[str, str]:
        for name, columns in sequences.items():
            named = columns.split()
            if not named or any(
                c.count(".") != 1 or c.startswith(".") or c.endswith(".") for c in named
            ):
                raise ValueError(
                    f"sequences.{name} = {columns!r}: name the columns it numbers as "
                    "TABLE.COLUMN (several separated by spaces)"
                )
        return sequences

    @field_validator("pg_schema")
    @classmethod
    def _valid_pg_schema(cls, name: str | None) -> str | None:
        if name is not None and not PG_SCHEMA_NAME.fullmatch(name):
            raise ValueError(
                f"pg_schema {name!r} is not a plain schema name (letters, digits, _ and $, "
                "starting with a letter or _, at most 63 characters)"
            )
        if name is not None and (name.lower() in RESERVED_PG_SCHEMAS or name.startswith("pg_")):
            raise ValueError(f"pg_schema {name!r} is PostgreSQL's or Ferry's own: pick another")
        return name

    @model_validator(mode="after")
    def _pg_schema_on_postgres(self) -> TargetSpec:
        if self.pg_schema is not None and self.is_sqlite:
            raise ValueError("pg_schema is for a PostgreSQL target; a SQLite target has none")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite target."""
        return self.url.startswith("sqlite")


class BackupSpec(PlanModel):
    """Where backups go and what happens to source files after a verified run."""

    dir: str = "ferry-backups"
    rename_migrated: bool = False


class ReportSpec(PlanModel):
    """Where run reports (HTML + JSON) are written."""

    dir: str = "ferry-reports"


class CutoverSpec(PlanModel):
    """What the cutover's quiet check looks at besides the sources (:mod:`ferry.safety.quiet`)."""

    #: the application's lock or pid file, relative to the plan: the sources are not quiet
    #: while it exists (a pid file: while its pid is a live process); missing means stopped
    app_lock: str | None = None


class AssertionSpec(PlanModel):
    """A named check run against the target after migrating: ``sql`` compared with ``expect``."""

    name: str = Field(min_length=1)
    sql: str = Field(min_length=1)
    op: Literal["==", "!=", ">=", "<=", ">", "<"] = "=="
    expect: int | float | str | bool


class OptionsSpec(PlanModel):
    """Tuning knobs with sensible defaults."""

    batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    #: naive timestamps in sources are taken to be in this zone
    timezone: str = "UTC"
    #: let SQLite map plain columns of a SQLite source itself when loading an empty table
    #: (:mod:`ferry.native.load`; same result, several times faster); false: Python maps all
    native: bool = True
    #: load each table the run creates (PostgreSQL) on a connection of its own, in parallel,
    #: swapped into place at the run's commit (the ``parallel`` decision,
    #: :mod:`ferry.native.apart`); off by default: no gain was measured yet (a busy 2-core
    #: machine, docs/benchmarks.md), so every table loads in the run's one transaction
    load_apart: bool = False
    #: keep each loaded row's print so the next run maps only changed rows (``delta``,
    #: :mod:`ferry.load.delta`). Unset: on for a JSON file laid out one record per line (its
    #: lines are printed at C speed, a few percent of a first run); elsewhere on from a
    #: table's second run (printing every row of a SQLite source costs a first run more, and a
    #: one-off migration needs none; a plan run again gets deltas from its third run, and
    #: ``ferry sync``'s cycles keep them always)
    row_prints: bool | None = None
    #: record every row a first load puts into an empty table (its key and fingerprint) so
    #: ``ferry undo`` can undo that load on a target whose rows carry no version (SQLite);
    #: off by default: it costs the first run more than 10% (:mod:`ferry.load.changeset`)
    undo_first_loads: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone_of(name)
        return name

    @property
    def zone(self) -> tzinfo:
        """The zone naive source timestamps are in."""
        return zone_of(self.timezone)


class QuestionSpec(PlanModel):
    """A decision only the operator can make (:mod:`ferry.scan.questions`): preview and migrate
    wait until ``answer`` names one of the ``choices``; that choice's ``sets`` then apply."""

    id: str = Field(min_length=1)
    #: the question, in words
    ask: str = Field(min_length=1)
    #: what makes it answerable: counts, first keys, newest timestamps
    evidence: list[str] = Field(default_factory=list)
    choices: list[str] = Field(min_length=1)
    #: the safe choice: it deletes and overwrites nothing
    default: str
    #: empty until answered; then one of ``choices`` (or the operator's own value, when the
    #: question takes one: ``value_sets``)
    answer: str = ""
    #: choice -> plan settings it sets (``"tables.orders.conflict" = "newer"``), applied over
    #: the plan's own keys when the plan is loaded
    sets: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: a question whose answer may be a value only the operator knows (the one value a column
    #: takes): the settings an answer that is no choice sets, ``"{answer}"`` standing for it
    #: (``"{answer:map}"``: a ``NAME=VALUE, …`` answer as a map) (:mod:`ferry.scan.questions`)
    value_sets: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_choices(self) -> QuestionSpec:
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("each choice is listed once")
        if len(self.choices) < 2 and not self.value_sets:
            raise ValueError("a question offers at least two choices (or takes a value)")
        for label, value in (("default", self.default), ("answer", self.answer)):
            if value and value not in self.choices and not (label == "answer" and self.value_sets):
                raise ValueError(
                    f"{label} {value!r} is not one of the choices ({', '.join(self.choices)})"
                )
        unknown = [c for c in self.sets if c not in self.choices]
        if unknown:
            raise ValueError(f"sets names {', '.join(unknown)}, which is not a choice")
        return self

    @property
    def is_open(self) -> bool:
        """True while the question waits for its answer."""
        return not self.answer


def zone_of(name: str) -> tzinfo:
    """The time zone called ``name`` (an IANA name such as ``Europe/Berlin``, or ``UTC``)."""
    if name.strip().upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin', or 'UTC'"
        ) from exc


def _check_no_password(url: str) -> None:
    # Imported here: SQLAlchemy takes a quarter of a second to load, and `ferry --help`,
    # `ferry --version` and plan files without a database URL do not need it.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from .safety.passwords import refuse_password

    refuse_password(url)  # first: the messages below echo the URL
    try:
        make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r}") from exc
