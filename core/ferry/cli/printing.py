"""How the ``ferry`` command prints a run's result: the counts per table, the merges, the
rejected rows, the schema step's translations, a preview's load decisions and row diffs."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from .common import out
from .table import print_table


def print_result(result: Any, verb: str) -> None:
    would = verb == "would"
    labels = {
        "read": "read",
        "inserted": "insert" if would else "inserted",
        "updated": "update" if would else "updated",
        "unchanged": "unchanged",
        "conflicts": "conflicts",
        "rejected": "rejected",
        "duplicates": "duplicates",
        "skipped": "skipped",
        "deleted": "delete" if would else "deleted",
    }
    rows = [(t, t.counts()) for t in result.tables]
    # Rarely used counts only get a column when some table has them.
    shown = [
        k
        for k in labels
        if k not in ("duplicates", "skipped", "deleted") or any(c[k] for _, c in rows)
    ]
    table = Table(title=f"{result.mode} of {escape(result.plan_name)}")
    table.add_column("table", no_wrap=True)
    table.add_column("source", no_wrap=True)
    for key in shown:
        table.add_column(labels[key], justify="right")
    for t, counts in rows:
        table.add_row(escape(t.name), escape(t.source), *(str(counts[k]) for k in shown))
    print_table(out, table)
    print_merges(result.merges)
    # Rows dropped for a repeated key are kept with the rejects but are not rejected rows.
    rejected = [r for r in result.rejects if r.kind != "duplicate"]
    replaced = [r for r in result.rejects if r.kind == "duplicate"]
    if result.rejected_total:
        out.print(f"[yellow]{result.rejected_total} rejected rows[/] (first ones):")
        for reject in rejected[:5]:
            out.print(f"  {escape(reject.table)} {escape(reject.key)}: {escape(reject.reason)}")
    if replaced:
        total = sum(t.duplicates for t in result.tables)
        out.print(
            f"[yellow]{total} rows replaced by a later row with the same key[/] (first ones):"
        )
        for reject in replaced[:5]:
            out.print(f"  {escape(reject.table)} {escape(reject.key)}")
    # What the schema step translated or left out (the report lists every object); alike
    # translations share a line (every INTEGER → bigint column on one).
    changed = [o.to_dict() for o in result.schema_objects if o.status != "carried"]
    from ..api import grouped

    for status, kind, names, detail in grouped(changed):
        out.print(
            f"[yellow]{escape(kind)} {escape(', '.join(names))}: {status} ({escape(detail)})[/]"
        )


def print_merges(merges: list[dict[str, Any]]) -> None:
    """Per merge source: what each input gave, and the rows taken for deletions."""
    for merge in merges:
        table = Table(
            title=f"merge source {escape(merge['source'])} (by {', '.join(merge['key'])})"
        )
        for column in ("input", "rows", "only here", "values won", "repeated keys"):
            table.add_column(column, justify="left" if column == "input" else "right")
        for entry in merge["inputs"]:
            counts = (entry["rows"], entry["only_here"], entry["won"], entry["duplicates"])
            table.add_row(escape(entry["table"]), *(str(c) for c in counts))
        print_table(out, table)
        if merge["deleted"]:
            keys = "; ".join(merge["deleted_keys"][:10])
            out.print(
                f"  [yellow]{merge['deleted']} rows treated as deletions[/] "
                f"({escape(merge['deletion_rule'])}): {escape(keys)}"
            )


def print_diffs(result: Any) -> None:
    for diff in result.diffs:
        label = "update" if diff.decision == "update" else "conflict (target kept)"
        out.print(f"[bold]{escape(diff.table)}[/] {escape(diff.key)}: {label}")
        for change in diff.changes:
            before, after = escape(repr(change.before)), escape(repr(change.after))
            if diff.decision == "update":
                out.print(f"    {escape(change.column)}: [red]{before}[/] -> [green]{after}[/]")
            else:  # the target keeps its value; the source's is shown apart, not as "after"
                out.print(
                    f"    {escape(change.column)}: {before} kept "
                    f"[yellow](source {after} not applied)[/]"
                )


def print_decisions(result: Any) -> None:
    """Per table, how the run loads its rows and why (:mod:`ferry.load.decide`)."""
    for table in result.tables:
        if table.decision is not None:
            out.print(f"[dim]load {escape(table.name)}: {escape(str(table.decision))}[/]")
