"""The comments ``ferry init`` writes into a draft plan: what was scanned, what was found and
why each choice, what to review.

One source of truth: a table's ``notes`` (data) is what Ferry reads and shows (``ferry init``'s
summary, the wizard); the comments repeat that evidence once, for the person reading the file,
and are never read back. Later saves keep them as the person leaves them (:mod:`ferry.plandoc`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .folder import ScanResult

_CONFLICT_MEANS = {
    "insert": "keys the target already holds keep the target's row",
    "update": "keys the target already holds are overwritten by the source",
    "newer": "the row with the newer {by} wins",
    "error": "a key the target already holds stops the run",
}


#: a group of skipped files up to this size names each one; a larger one its count and first
_NAMED = 3


def skipped_lines(skipped: list[tuple[Path, str]], folder: Path | str) -> list[str]:
    """Every skipped file, by its path under ``folder``, grouped per entry of the folder and
    reason: an app's folder holds many files of no kind Ferry reads (a Trac project's
    attachments, named by hashes, its log, its config), and each is accounted for, not only
    the first ten by bare name."""
    groups: dict[tuple[str, str], list[str]] = {}
    for path, why in skipped:
        try:
            relative = path.relative_to(folder)
        except ValueError:
            relative = Path(path.name)
        top = relative.parts[0] + "/" if len(relative.parts) > 1 else ""
        groups.setdefault((top, why), []).append(relative.as_posix())
    lines = []
    for (top, why), paths in groups.items():
        if len(paths) <= _NAMED:
            lines.append(f"{', '.join(paths)}: {why}")
        else:
            where = f"under {top}" if top else "in the folder"
            lines.append(f"{len(paths)} files {where} (first {paths[0]}): {why}")
    return lines


def draft_comments(
    result: ScanResult, folder: Path | str, now: datetime | None = None
) -> Callable[[str, int], list[str]]:
    """``comments(header, n)`` for :func:`ferry.plan.save_plan`: the header of the draft of
    ``folder`` and one block per ``[[sources]]``, ``[[tables]]`` and ``[[questions]]``."""
    plan = result.plan
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    found = {item.spec.name: item for item in result.sources}
    rows = {t.name: t.row_estimate for item in result.sources for t in item.tables}
    # only a table Ferry creates has types (its columns may still rename: ``id = "pk"``)
    existing = {t.name for t in plan.tables if not t.types}

    def header() -> list[str]:
        lines = [
            f"Draft plan written by `ferry init` from {folder} on {stamp}.",
            f"Scanned: {len(result.sources)} sources ({len(result.skipped)} files skipped), "
            f"{len(plan.tables)} target tables into {plan.target.url}.",
            "Review: each table's key and conflict rule, and its notes (what could not be",
            "matched or read exactly). Comments are kept when Ferry saves this plan.",
        ]
        for item in result.sources:
            where = item.spec.path or item.spec.url
            if item.problem:  # no table drafted from it: say so, not "found"
                lines.append(f"  not read {where} ({item.size} bytes): {item.problem}")
                continue
            what = ", ".join(f"{t.name} ({t.row_estimate or 0} rows)" for t in item.tables)
            if item.spec.kind == "merge":  # no file of its own (was "found None")
                lines.append(f"  merges {', '.join(item.spec.inputs)}: {what}")
                continue
            if what or not item.left_out:  # (all left out: the lines below say it)
                lines.append(f"  found {where} ({item.size} bytes): {what}")
            for name, why in item.left_out:
                lines.append(f"  left out {name}: {why}, not a table of data")
        lines.extend(f"  skipped {line}" for line in skipped_lines(result.skipped, folder))
        if plan.questions:
            lines.append(
                f"{len(plan.questions)} open question(s) below ([[questions]]): write one of "
                'the choices into answer = ""'
            )
            lines.append("(preview and migrate wait for them; ferry init --interactive asks them).")
        return lines

    def source(index: int) -> list[str]:
        spec = plan.sources[index]
        item = found.get(spec.name)
        if item is None:
            return []
        tables = ", ".join(f"{t.name} ({t.row_estimate or 0} rows)" for t in item.tables)
        # an empty collection: HA's ``deleted_entities``, kept for the rows it may hold later
        tables = tables or "; ".join(f"{name} left out: {why}" for name, why in item.left_out)
        if spec.kind == "merge":  # no file of its own: its inputs are
            found_line = f"merges {', '.join(spec.inputs)}: {tables}"
        else:
            found_line = f"found {spec.path or spec.url}: {item.size} bytes, {spec.kind}; {tables}"
        return [found_line, *(f"note: {remark}" for remark in item.remarks)]

    def table(index: int) -> list[str]:
        spec = plan.tables[index]
        count = rows.get(spec.source)
        what = "an existing target table" if spec.name in existing else "a table Ferry creates"
        lines = [f"{spec.name}: {what}, fed by {spec.source} ({count or 0} rows)"]
        key = ", ".join(spec.key) or "the target's primary key"
        means = _CONFLICT_MEANS[spec.conflict].format(by=spec.newer_by)
        lines.append(f"key {key}; conflict {spec.conflict}: {means}")
        lines.extend(f"note: {note}" for note in spec.notes)
        return lines

    def question(index: int) -> list[str]:
        asked = plan.questions[index]
        choices = ", ".join(asked.choices)
        if asked.value_sets:
            return [
                f"answer {choices} or your own value (see ask); {asked.default} deletes and "
                "overwrites nothing"
            ]
        return [f"answer one of: {choices}; {asked.default} deletes and overwrites nothing"]

    def comments(header_name: str, index: int) -> list[str]:
        if header_name == "":
            return header()
        makers = {"sources": source, "tables": table, "questions": question}
        maker = makers.get(header_name)
        return maker(index) if maker else []

    return comments
