"""The plan: one ``ferry.toml`` file describing a whole migration.

A plan names its sources, the target, how each target table is fed (source table, key,
column mappings and transforms, conflict rule), the verification assertions and where backups
go. It is validated on load with messages naming the key and the problem, and it never holds
a secret: a target URL with a password is refused. Its parts are the models of
:mod:`ferry.planspecs` (re-exported here); :mod:`ferry.planmessages` words what is wrong.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from .errors import PlanError
from .planmessages import describe_problems, did_you_mean
from .plansets import apply_answers
from .planspecs import (
    DEFAULT_TARGET_URL,
    PG_SCHEMA_NAME,
    PLAN_VERSION,
    RESERVED_PG_SCHEMAS,
    AssertionSpec,
    BackupSpec,
    ColumnSpec,
    ConflictRule,
    CutoverSpec,
    DeletionRule,
    IndexSpec,
    OptionsSpec,
    PlanModel,
    QuestionSpec,
    ReportSpec,
    SourceKind,
    SourceSpec,
    TableSpec,
    TargetSpec,
    TextOp,
    zone_of,
)
from .safety.inputlimits import MAX_PLAN_BYTES, mib, read_up_to

__all__ = [
    "DEFAULT_TARGET_URL",
    "PG_SCHEMA_NAME",
    "PLAN_VERSION",
    "RESERVED_PG_SCHEMAS",
    "AssertionSpec",
    "BackupSpec",
    "ColumnSpec",
    "ConflictRule",
    "CutoverSpec",
    "DeletionRule",
    "IndexSpec",
    "OptionsSpec",
    "Plan",
    "QuestionSpec",
    "ReportSpec",
    "SourceKind",
    "SourceSpec",
    "TableSpec",
    "TargetSpec",
    "TextOp",
    "describe_validation_error",
    "load_plan",
    "plan_from_dict",
    "save_plan",
    "zone_of",
]


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


class Plan(PlanModel):
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
                hint = did_you_mean(root, names)
                raise ValueError(
                    f"table {table.name!r} reads source {table.source!r}, "
                    f"but no source is named {root!r}{hint}"
                )
        for spec in self.sources:
            for entry in spec.inputs:
                root = entry.split(".", 1)[0]
                if root not in names:
                    hint = did_you_mean(root, names)
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


def describe_validation_error(error: ValidationError, data: Any) -> list[str]:
    """One readable line per problem of ``data`` as a plan: where it is and what is wrong."""
    return describe_problems(error, data, Plan)


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
