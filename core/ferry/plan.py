"""The plan: one ``ferry.toml`` file describing a whole migration.

A plan names its sources, the target, how each target table is fed (source table, key,
column mappings and transforms, conflict rule), the verification assertions and where backups
go. It is validated on load with messages naming the key and the problem, and it never holds
a secret: a target URL with a password is refused.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
import tomllib
from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import PlanError
from .plansets import apply_answers
from .safety.inputlimits import MAX_PLAN_BYTES, mib, read_up_to
from .values.epochs import IntegerReading
from .values.logical import LogicalType
from .values.textbytes import InvalidText
from .values.textstyles import parse_style

PLAN_VERSION = 1
DEFAULT_TARGET_URL = "sqlite:///ferry.db"

SourceKind = Literal["json", "jsonl", "env", "text", "sqlite", "postgres", "merge"]
ConflictRule = Literal["insert", "update", "newer", "error"]
TextOp = Literal["trim", "lower", "upper"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)


class DeletionRule(_Model):
    """When a key one merge input lacks means "deleted there", not "new elsewhere".

    A row missing from ``missing_from`` whose ``by`` value is older than ``before`` (a fixed
    time, or ``newest``: the newest ``by`` value that input holds, i.e. its last sync) was
    deleted in that copy and is not migrated; a younger one is new and is kept.
    """

    missing_from: str = Field(min_length=1)
    by: str = Field(min_length=1)
    before: str = "newest"


class SourceSpec(_Model):
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

    @model_validator(mode="after")
    def _needs_location(self) -> SourceSpec:
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


class ColumnSpec(_Model):
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


class TableSpec(_Model):
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
    #: notes for the person reviewing the plan (what ``ferry init`` could not match)
    notes: list[str] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"from": v} if isinstance(v, str) else v) for k, v in value.items()}
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
        return self


#: a schema name ``pg_schema`` takes: plain, so the search path needs no quoting rules
PG_SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
#: schemas a plan's tables never go into (the catalog, Ferry's journal)
RESERVED_PG_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast", "ferry"})


class TargetSpec(_Model):
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

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        _check_no_password(url)
        scheme = url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("the target url starts with sqlite:/// or postgresql://")
        return url

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


class BackupSpec(_Model):
    """Where backups go and what happens to source files after a verified run."""

    dir: str = "ferry-backups"
    rename_migrated: bool = False


class ReportSpec(_Model):
    """Where run reports (HTML + JSON) are written."""

    dir: str = "ferry-reports"


class CutoverSpec(_Model):
    """What the cutover's quiet check looks at besides the sources (:mod:`ferry.safety.quiet`)."""

    #: the application's lock or pid file, relative to the plan: the sources are not quiet
    #: while it exists (a pid file: while its pid is a live process); missing means stopped
    app_lock: str | None = None


class AssertionSpec(_Model):
    """A named check run against the target after migrating: ``sql`` compared with ``expect``."""

    name: str = Field(min_length=1)
    sql: str = Field(min_length=1)
    op: Literal["==", "!=", ">=", "<=", ">", "<"] = "=="
    expect: int | float | str | bool


class OptionsSpec(_Model):
    """Tuning knobs with sensible defaults."""

    batch_size: int = Field(default=5000, ge=1, le=1_000_000)
    #: naive timestamps in sources are taken to be in this zone
    timezone: str = "UTC"
    #: let SQLite map plain columns of a SQLite source itself when loading an empty table
    #: (:mod:`ferry.native.load`; same result, several times faster); false: Python maps all
    native: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone_of(name)
        return name

    @property
    def zone(self) -> tzinfo:
        """The zone naive source timestamps are in."""
        return zone_of(self.timezone)


class QuestionSpec(_Model):
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


def _check_merge_cycles(sources: list[SourceSpec]) -> None:
    """A merge source may read another merge source, never itself through a chain."""
    inputs = {s.name: {e.split(".", 1)[0] for e in s.inputs} for s in sources}

    def visit(name: str, path: tuple[str, ...]) -> None:
        for child in inputs.get(name, ()):
            if child in path:
                chain = " -> ".join((*path, child))
                raise ValueError(f"merge sources read each other in a circle: {chain}")
            visit(child, (*path, child))

    for name in inputs:
        visit(name, (name,))


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


class Plan(_Model):
    """A whole migration; see docs/plan.md for a worked example."""

    version: int = PLAN_VERSION
    name: str = "migration"
    target: TargetSpec = Field(default_factory=TargetSpec)
    backup: BackupSpec = Field(default_factory=BackupSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    options: OptionsSpec = Field(default_factory=OptionsSpec)
    cutover: CutoverSpec = Field(default_factory=CutoverSpec)
    sources: list[SourceSpec] = Field(default_factory=list)
    tables: list[TableSpec] = Field(default_factory=list)
    assertions: list[AssertionSpec] = Field(default_factory=list)
    #: decisions the operator makes before the plan runs (``ferry init`` writes them)
    questions: list[QuestionSpec] = Field(default_factory=list)
    #: the folder relative paths are resolved against (the plan file's folder); not saved
    base_dir: Path = Field(default=Path("."), exclude=True)
    #: the plan file as a document (tomlkit) and its data when last loaded or saved
    #: (:mod:`ferry.plandoc`): saving changes only what differs; None for a plan built in code
    _document: Any = PrivateAttr(default=None)
    _saved: dict[str, Any] | None = PrivateAttr(default=None)
    _bom: bool = PrivateAttr(default=False)

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version != PLAN_VERSION:
            raise ValueError(f"this Ferry reads plan version {PLAN_VERSION}")
        return version

    @model_validator(mode="after")
    def _references(self) -> Plan:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique: {', '.join(dupes)}")
        for table in self.tables:
            root = table.source.split(".", 1)[0]
            if root not in names:
                hint = _did_you_mean(root, names)
                raise ValueError(
                    f"table {table.name!r} reads source {table.source!r}, "
                    f"but no source is named {root!r}{hint}"
                )
        for spec in self.sources:
            for entry in spec.inputs:
                root = entry.split(".", 1)[0]
                if root not in names:
                    hint = _did_you_mean(root, names)
                    raise ValueError(
                        f"merge source {spec.name!r} reads {entry!r}, "
                        f"but no source is named {root!r}{hint}"
                    )
        _check_merge_cycles(self.sources)
        ids = [q.id for q in self.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question ids must be unique: {', '.join(dupes)}")
        return self

    @property
    def document(self) -> Any:
        """The tomlkit document of the plan file this plan was loaded from (None if built in
        code); :func:`save_plan` keeps its comments and layout."""
        return self._document

    def source(self, name: str) -> SourceSpec:
        """The source spec called ``name``."""
        for spec in self.sources:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def resolve(self, path: str) -> Path:
        """A path from the plan, resolved against the plan's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else (self.base_dir / candidate)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain data, defaults left out, ready for TOML."""
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        data.setdefault("target", {})
        data["target"].setdefault("url", self.target.url)  # where data goes is always explicit
        order = [
            "version",
            "name",
            "target",
            "backup",
            "report",
            "options",
            "cutover",
            "questions",
            "sources",
            "tables",
            "assertions",
        ]
        data = {"version": PLAN_VERSION, **{k: data[k] for k in order if k in data}}
        for table in data.get("tables", []):
            # A column fed straight from one source column is written as `col = "src"`.
            for name, column in table.get("columns", {}).items():
                if set(column) == {"from"}:
                    table["columns"][name] = column["from"]
        for question in data.get("questions", []):
            question.setdefault("answer", "")  # where the answer goes is always visible
        cleaned: dict[str, Any] = _drop_none(data)
        return cleaned

    def to_toml(self) -> str:
        """The plan as TOML text (no secrets: validation refuses them)."""
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """SHA-256 of the plan's canonical TOML: which plan a run used, in the journal."""
        return hashlib.sha256(self.to_toml().encode()).hexdigest()


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


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


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _location(data: Any, loc: tuple[int | str, ...]) -> str:
    """``tables[1] ("settings").conflict`` from a pydantic error location."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            entry = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                label += f' ("{entry["name"]}")'
            parts.append(label)
            node = entry
        else:
            if item.startswith("function-") or item in ("constrained-str",):
                continue
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed where an unknown key was found (for 'did you mean')."""
    model: type[BaseModel] | None = Plan
    free_key = False
    for item in loc[:-1]:
        if free_key:  # a key of a mapping of specs (a column name under `columns`)
            free_key = False
            continue
        if model is None or isinstance(item, int):
            continue
        field = model.model_fields.get(item)
        if field is None:
            return []
        annotation = field.annotation
        free_key = repr(annotation).startswith("dict[")
        model = None
        for candidate in (
            TargetSpec,
            BackupSpec,
            ReportSpec,
            OptionsSpec,
            CutoverSpec,
            SourceSpec,
            TableSpec,
            AssertionSpec,
            ColumnSpec,
            QuestionSpec,
        ):
            if candidate.__name__ in repr(annotation):
                model = candidate
                break
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if n != "base_dir"]


def describe_validation_error(error: ValidationError, data: Any) -> list[str]:
    """One readable line per problem: where it is and what is wrong."""
    lines = []
    for problem in error.errors():
        loc = tuple(problem["loc"])
        where = _location(data, loc)
        kind = problem["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            lines.append(f"{where}: unknown key{_did_you_mean(key, _known_keys(loc))}")
        elif kind == "missing":
            lines.append(f"{where}: required key is missing")
        elif kind == "literal_error":
            expected = problem.get("ctx", {}).get("expected", "")
            lines.append(f"{where}: must be one of {expected} (got {problem['input']!r})")
        else:
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {message}")
    return lines


def plan_from_dict(data: dict[str, Any], base_dir: Path, origin: str = "plan") -> Plan:
    """Validate plain data as a plan; a bad plan raises PlanError listing every problem."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation_error(exc, data)
        raise PlanError(
            f"{origin} is not a valid plan: " + "; ".join(problems),
            hint="Fix the keys named above; docs/plan.md lists every key.",
            details="\n".join(problems),
        ) from None
    plan.base_dir = base_dir
    if plan.questions:
        apply_answers(plan, origin)
    return plan


def load_plan(path: str | Path) -> Plan:
    """Read and validate a ``ferry.toml``; relative paths in it are taken from its folder."""
    path = Path(path)
    try:
        raw = read_up_to(path, MAX_PLAN_BYTES)
    except FileNotFoundError:
        raise PlanError(
            f"plan file {path} does not exist",
            hint="Create one with `ferry init DIR -o ferry.toml`.",
        ) from None
    except OSError as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.strerror}") from None
    if raw is None:
        raise PlanError(
            f"plan file {path} is larger than {mib(MAX_PLAN_BYTES)}, Ferry's limit for a plan",
            hint="Check that this is the plan file (`ferry init DIR -o ferry.toml` writes one).",
        )
    try:
        text = raw.decode("utf-8-sig")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise PlanError(
            f"plan file {path} is not UTF-8 text (bad byte at offset {exc.start})",
            hint="Save the plan as UTF-8.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(
            f"plan file {path} is not valid TOML: {exc}",
            hint="Check quoting and brackets near the position given.",
        ) from None
    plan = plan_from_dict(data, path.resolve().parent, origin=str(path))
    from .plandoc import parse_document

    plan._document = parse_document(text)
    plan._saved = plan.to_dict()
    plan._bom = raw.startswith(b"\xef\xbb\xbf")
    logging.getLogger(__name__).info(
        "plan loaded: %s (%s), %d table(s), target %s",
        path.resolve(),
        plan.name,
        len(plan.tables),
        plan.target.url,
    )
    return plan


def save_plan(
    plan: Plan, path: str | Path, comments: Callable[[str, int], list[str]] | None = None
) -> None:
    """Write the plan as TOML (atomically: a crash never leaves half a plan).

    A plan loaded from a file changes only the keys that differ from what was loaded: every
    comment, blank line and key order stays (:mod:`ferry.plandoc`). A plan built in code is
    written fresh, with ``comments(header, n)`` under its n-th ``[[header]]`` (and
    ``comments("", 0)`` at the top)."""
    from .plandoc import apply_changes, fresh_document

    path = Path(path)
    data = plan.to_dict()
    if plan._document is None or plan._saved is None:
        document = fresh_document(plan.to_toml(), comments)
    else:
        document = plan._document
        apply_changes(document, plan._saved, data)
    text = document.as_string()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes((b"\xef\xbb\xbf" if plan._bom else b"") + text.encode("utf-8"))
    tmp.replace(path)
    plan._document, plan._saved = document, data
