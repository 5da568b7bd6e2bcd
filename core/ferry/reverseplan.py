"""The reverse plan: after the switch, the new store back into the old SQLite file.

A plan that moved an app's SQLite file into a new store (PostgreSQL or another SQLite file) is
turned around: its target becomes the source (same URL, never a password), the old file the
target, and each forward table goes back by the same key with its columns mapped back by name
(:mod:`ferry.reversetables`). Running it (``ferry migrate REVERSE.toml``, again after each
change) keeps the old store current, so going back to the old app version loses nothing the
new one wrote. ``ferry cutover`` writes it; ``ferry reverse PLAN -o FILE`` too.

Rows the new app added are inserted; rows it changed are written back — by rule ``newer`` where
the table has a column the app stamps (``updated_at``, ``modified``, ``version``: a copy in the
old file that is newer stays), else by rule ``update`` (the old app is stopped after the switch,
so the new store holds the latest). Deletions go back only where the forward plan propagates
them. A table that cannot go back exactly is left out and asked about in ``[[questions]]``.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import tomli_w

from .errors import PlanError
from .plan import Plan, QuestionSpec, SourceSpec, TableSpec, plan_from_dict
from .plandoc import fresh_document
from .reversetables import NEW_STORE, ReversedTable, reverse_table
from .sources import SourceTable, open_source


@dataclass
class ReversePlan:
    """The reverse plan of a forward plan: its TOML text (a commented document for review),
    the plan itself, and the notes (what does not go back exactly, what to decide)."""

    text: str
    plan: Plan
    notes: list[str] = field(default_factory=list)
    #: the old SQLite source of the forward plan the reverse plan writes into
    old: str = ""

    def write(self, path: str | Path) -> None:
        """Write the document (atomically: a crash never leaves half a plan)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.text, encoding="utf-8")
        tmp.replace(path)


def reverse_plan(
    plan: Plan, *, old: str | None = None, out_dir: str | Path | None = None
) -> ReversePlan:
    """The reverse plan of ``plan``, which reads a SQLite file: the new store (the plan's
    target) back into the old file ``old`` (a source's name; needed only when the plan reads
    several). Tables fed from the plan's other sources (a JSON file, another SQLite file) do
    not go back and are named in its notes. Paths in it are relative to ``out_dir`` (where it
    will be saved; default: the plan's folder). Raises PlanError for a plan that reads no
    SQLite file."""
    _refuse_without_sqlite(plan)
    spec = _old_source(plan, old)
    base = Path(out_dir).resolve() if out_dir is not None else plan.base_dir.resolve()
    old_tables = _describe(plan, spec)
    notes: list[str] = []
    feeders = Counter(t.name for t in plan.tables)
    reversed_: list[ReversedTable] = []
    seen: set[str] = set()
    for table in plan.tables:
        source, merged = _read_from(plan, table, spec, old_tables)
        if source is None:
            notes.append(_not_from_old(plan, table, spec))
            continue
        if source.origin in seen:
            notes.append(
                f"table {table.name}: {source.origin} already goes back from another table; "
                "only the first one is reversed"
            )
            continue
        seen.add(source.origin)
        reversed_.append(reverse_table(plan, table, source, merged, feeders[table.name]))
    if not reversed_:
        raise PlanError(
            f"no table of the plan reads the old file {spec.name} ({spec.path})",
            hint="Name the SQLite source to go back into with --old NAME.",
        )
    notes.extend(_general_notes(plan))
    questions = []
    for item in reversed_:
        if not item.exact:
            questions.append(_question(item))
            notes.append(
                f"table {item.name}: not reversed exactly ({'; '.join(item.problems)}): "
                f"question reverse.{item.name} asks whether it goes back"
            )
    data = {
        "version": plan.version,
        "name": f"{plan.name}-reverse",
        "target": {"url": _sqlite_url(plan.resolve(spec.path or ""), base)},
        "sources": [_new_store(plan, base, [t.forward.name for t in reversed_])],
        "tables": [t.entry for t in reversed_ if t.exact],
        "questions": [q.model_dump(mode="json", exclude_defaults=True) for q in questions],
    }
    built = plan_from_dict(data, base, origin="the reverse plan")
    exact = [t for t in reversed_ if t.exact]
    header = _header(plan, spec, reversed_, notes)

    def comments(section: str, index: int) -> list[str]:
        if section == "":
            return header
        if section == "tables" and index < len(exact):
            return exact[index].comments
        if section == "questions" and index < len(questions):
            return _question_comments(questions[index])
        return []

    written = built.to_dict()
    for entry in written.get("tables", []):  # the rule is the point: always written out
        entry.setdefault("conflict", "update")
    text = fresh_document(tomli_w.dumps(written), comments).as_string()
    return ReversePlan(text=text, plan=built, notes=notes, old=spec.name)


def _refuse_without_sqlite(plan: Plan) -> None:
    """A reverse plan needs an old SQLite file to write into; the plan's other sources (a JSON
    settings file beside the app's database) are named in a note, not refused."""
    if any(s.kind == "sqlite" for s in plan.sources):
        return
    other = next((s for s in plan.sources if s.kind != "merge"), None)
    if other is None:
        raise PlanError("the plan reads no SQLite file: there is nothing to go back into")
    raise PlanError(
        f"a reverse plan writes back into SQLite files, and source {other.name!r} is a "
        f"{other.kind} source",
        hint="`ferry reverse` takes plans that read a SQLite file; for the others, keep the "
        "backup `ferry migrate` took to go back.",
    )


def _not_from_old(plan: Plan, table: TableSpec, old: SourceSpec) -> str:
    """The note for a forward table the old file does not feed."""
    root = table.source.split(".", 1)[0]
    kind = next((s.kind for s in plan.sources if s.name == root), "")
    if kind == "sqlite":
        return (
            f"table {table.name}: fed from {root}, not from {old.name}: "
            f"`ferry reverse --old {root}` writes its reverse plan"
        )
    return (
        f"table {table.name}: fed from {root}, a {kind} source, which a reverse plan cannot "
        f"write back into: it does not go back ({root} stays as it was at the switch; the "
        "backup the cutover took holds that copy)"
    )


def _old_source(plan: Plan, old: str | None) -> SourceSpec:
    files = [s for s in plan.sources if s.kind == "sqlite"]
    if old is not None:
        found = next((s for s in files if s.name == old), None)
        if found is None:
            raise PlanError(
                f"the plan has no SQLite source {old!r}",
                hint=f"Its SQLite sources: {', '.join(s.name for s in files)}.",
            )
        return found
    if len(files) > 1:
        raise PlanError(
            f"the plan reads {len(files)} SQLite files: say which one to go back into",
            hint=f"Name one with --old: {', '.join(s.name for s in files)}.",
        )
    return files[0]


def _describe(plan: Plan, spec: SourceSpec) -> dict[str, SourceTable]:
    """The old file's tables (their columns and keys), read from the file itself."""
    reader = open_source(spec, plan.base_dir, plan.sources)
    try:
        return {t.name: t for t in reader.describe()}
    finally:
        reader.close()


def _read_from(
    plan: Plan, table: TableSpec, old: SourceSpec, tables: dict[str, SourceTable]
) -> tuple[SourceTable | None, SourceSpec | None]:
    """The old file's table ``table`` reads (directly or as an input of a merge source)."""
    if table.source in tables:
        return tables[table.source], None
    root = table.source.split(".", 1)[0]
    merged = next((s for s in plan.sources if s.name == root and s.kind == "merge"), None)
    if merged is None:
        return None, None
    for entry in merged.inputs:
        if entry in tables:
            return tables[entry], merged
    return None, None


def _sqlite_url(path: Path, base: Path) -> str:
    path = path.resolve()
    try:
        relative = os.path.relpath(path, base)
    except ValueError:  # another drive (Windows)
        return f"sqlite:///{path}"
    if relative.startswith(".."):
        return f"sqlite:///{path}"  # an absolute path gives sqlite:////abs/file.db
    return f"sqlite:///{Path(relative).as_posix()}"


def _new_store(plan: Plan, base: Path, tables: list[str]) -> dict[str, Any]:
    """The reverse plan's one source: the forward plan's target (never a password)."""
    target = plan.target
    if target.is_sqlite:
        raw = target.url.split(":///", 1)[1]
        path = plan.resolve(raw)
        relative = _sqlite_url(path, base).split(":///", 1)[1]
        return {"name": NEW_STORE, "kind": "sqlite", "path": relative, "tables": tables}
    url = target.url
    extra: dict[str, str] = {}
    if target.pg_schema:
        extra["options"] = f"-csearch_path={target.pg_schema}"
    if target.sslmode:
        extra["sslmode"] = target.sslmode
    if target.sslrootcert:
        extra["sslrootcert"] = str(plan.resolve(target.sslrootcert).resolve())
    if extra:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        if "options" in extra and query.get("options"):
            extra["options"] = f"{query['options']} {extra['options']}"
        query.update({k: v for k, v in extra.items() if k == "options" or k not in query})
        url = urlunsplit(parts._replace(query=urlencode(query)))
    return {"name": NEW_STORE, "kind": "postgres", "url": url, "tables": tables}


def _general_notes(plan: Plan) -> list[str]:
    notes = []
    if plan.options.timezone.upper() not in ("UTC", "Z", "ETC/UTC"):
        notes.append(
            f"the forward plan read the old file's times as {plan.options.timezone}; the "
            "reverse plan writes them back in UTC"
        )
    if not plan.target.is_sqlite:
        variable = plan.target.password_env or "FERRY_PASSWORD"
        notes.append(
            "the new store's password, if it needs one, comes from FERRY_SOURCE_PASSWORD or "
            f"~/.pgpass (the forward plan used {variable} or the keyring)"
        )
    return notes


def _question(item: ReversedTable) -> QuestionSpec:
    name = item.name
    carry = item.carry_choice
    what = (
        "its rows in the old file are replaced by the new store's"
        if carry == "replace"
        else "the new store's values are written back as they are"
    )
    return QuestionSpec(
        id=f"reverse.{name}",
        ask=(
            f"{name} cannot go back into the old file exactly. Leave it out (leave: the old "
            f"file keeps its rows as they were at the switch), or {carry} ({what})?"
        ),
        evidence=item.problems,
        choices=["leave", carry],
        default="leave",
        sets={"leave": {}, carry: {f"tables.{name}": item.entry}},
    )


def _question_comments(question: QuestionSpec) -> list[str]:
    return [
        f"answer {question.choices[1]!r} adds the [[tables]] entry in `sets`; review its",
        "columns (the forward transform is not undone), or write a hook of your own",
    ]


def _header(
    plan: Plan, old: SourceSpec, tables: list[ReversedTable], notes: list[str]
) -> list[str]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = plan.target.url
    lines = [
        f"Reverse plan written by `ferry reverse` from plan {plan.name!r} on {stamp}.",
        f"What it is for: after the switch, it copies what the new app writes in {where}",
        f"back into the old SQLite file {old.path} (source {old.name} of the forward plan),",
        "so that going back to the old app version loses nothing the new one wrote.",
        "When to run it: after the cutover, while the old app is stopped -",
        "`ferry migrate` of this plan, again whenever the old file should catch up (each run",
        "copies what changed). Stop running it once the old app runs again.",
        "Rows: matched by the forward plan's keys. A row the new app added is inserted; one it",
        "changed is written back: by rule newer where the table has a column the app stamps",
        "(a newer copy in the old file stays), else by rule update (the new store holds the",
        "latest). Rows deleted in the new store stay in the old file, unless the forward plan",
        "propagates deletions (delete_missing, mode replace).",
    ]
    odd = [t for t in tables if not t.exact]
    if odd:
        lines.append(
            f"Not reversed exactly, left out until answered ([[questions]]): "
            f"{', '.join(t.name for t in odd)}."
        )
    if notes:
        lines.append("Notes:")
        lines.extend(f"  {note}" for note in notes)
    return lines
