"""The report page's sections about rows and statements: changed rows (diffs), rejected
rows, schema objects, the DDL a run ran and what a rollback restored.

Row values are untrusted data: each cell is escaped (:mod:`ferry.report.markup`) and long lists
are cut at the page's limits (``HTML_MAX_DIFFS``, ``HTML_MAX_REJECTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .markup import (
    HTML_MAX_DIFFS,
    HTML_MAX_REJECTS,
    compact,
    dicts,
    esc,
    html_section,
    html_table,
    pretty,
    strings_of,
)


def row_cell(row: Any) -> str:
    """A rejected row: one line per column, values as JSON (``null`` is not ``"null"``)."""
    if not isinstance(row, dict):
        return f'<pre class="row">{esc(pretty(row))}</pre>'
    if not row:
        return '<span class="muted">(empty)</span>'
    lines = "".join(
        f'<span class="k">{esc(key)}</span><span class="v">{esc(compact(value))}</span>'
        for key, value in row.items()
    )
    return f'<div class="row">{lines}</div>'


def _kind_tag(kind: Any) -> str:
    return f' <span class="tag">{esc(kind)}</span>' if kind else ""


def row_diffs(result: Mapping[str, Any]) -> str:
    """Row-level changes of updates and conflicts, when the run collected them."""
    diffs = dicts(result.get("diffs"))
    if not diffs:
        return ""
    shown = diffs[:HTML_MAX_DIFFS]
    rows = []
    for diff in shown:
        changes = dicts(diff.get("changes"))
        decision = str(diff.get("decision") or "")
        cells = "".join(
            f'<span class="k">{esc(c.get("column"))}</span>'
            + (
                f'<span class="v"><del>{esc(compact(c.get("before")))}</del> → '
                f"<ins>{esc(compact(c.get('after')))}</ins></span>"
                if decision == "update"
                # a conflict keeps the target's value: the source's is not shown as "after"
                else f'<span class="v">{esc(compact(c.get("before")))} kept '
                f'<span class="muted">(source {esc(compact(c.get("after")))} not applied)'
                "</span></span>"
            )
            for c in changes
        )
        tone = {"update": "info", "conflict": "warn"}.get(decision, "muted")
        rows.append(
            "<tr>"
            f'<td class="name">{esc(diff.get("table"))}</td>'
            f"<td><code>{esc(diff.get('key'))}</code></td>"
            f'<td><span class="tag {tone}">{esc(decision or "—")}</span></td>'
            f'<td><div class="row">{cells}</div></td>'
            "</tr>"
        )
    note = ""
    if len(diffs) > len(shown):
        note = (
            f'<p class="note">Showing the first {len(shown):,} of {len(diffs):,} changed rows; '
            f"the other {len(diffs) - len(shown):,} are in the JSON file.</p>"
        )
    head = [("table", ""), ("key", ""), ("decision", ""), ("before → after", "")]
    return html_section("Changed rows", html_table(head, rows, "diffs") + note, len(diffs), "diffs")


def rejected_rows(result: Mapping[str, Any]) -> str:
    """The rows the run rejected (up to ``HTML_MAX_REJECTS``), each with its reason."""
    rejects = dicts(result.get("rejects"))
    total = result.get("rejected_total")
    total = total if isinstance(total, int) and not isinstance(total, bool) else len(rejects)
    if not rejects and not total:
        return ""
    shown = rejects[:HTML_MAX_REJECTS]
    rows = [
        "<tr>"
        f'<td class="name">{esc(r.get("table"))}</td>'
        f"<td><code>{esc(r.get('key'))}</code></td>"
        f'<td class="reason">{esc(r.get("reason"))}{_kind_tag(r.get("kind"))}</td>'
        f"<td>{row_cell(r.get('row'))}</td>"
        "</tr>"
        for r in shown
    ]
    notes = []
    if len(rejects) > len(shown):
        notes.append(
            f"Showing the first {len(shown):,} of {len(rejects):,} rejected rows; "
            f"the other {len(rejects) - len(shown):,} are in the JSON file."
        )
    if total > len(rejects):
        notes.append(
            f"{total:,} rows were rejected in all; the run kept the first {len(rejects):,}."
        )
    repeated = sum(1 for r in rejects if r.get("kind") == "duplicate")
    if repeated:
        notes.append(
            f"{repeated:,} of the rows listed (marked duplicate) repeat the key of a later row, "
            "which replaced them; they are not counted as rejected."
        )
    note = "".join(f'<p class="note">{esc(n)}</p>' for n in notes)
    head = [("table", ""), ("key", ""), ("reason", ""), ("row", "")]
    body = (html_table(head, rows, "rejects") if rows else "") + note
    return html_section("Rejected rows", body, total, "rejects")


def schema_objects(result: Mapping[str, Any]) -> str:
    """What the schema step carried, translated (old → new) and did not carry (why)."""
    from ..shape.carried import grouped

    objects = dicts(result.get("schema_objects"))
    if not objects:
        return ""
    rows = [
        f'<tr class="{"warn" if status == "not carried" else ""}">'
        f"<td>{esc(status)}</td><td>{esc(kind)}</td>"
        f'<td class="name">{esc(", ".join(names))}</td><td>{esc(detail)}</td></tr>'
        for status, kind, names, detail in grouped(objects)
    ]
    head = [("status", ""), ("kind", ""), ("object", ""), ("how / why", "")]
    return html_section("Schema", html_table(head, rows, "schema"), len(objects), "schema")


def ddl_statements(result: Mapping[str, Any]) -> str:
    """The schema statements the run ran (or, in a preview, would run)."""
    statements = strings_of(result.get("ddl"))
    if "ddl" not in result:
        return ""
    if not statements:
        return html_section("DDL", '<p class="muted">No schema changes.</p>', 0, "ddl")
    blocks = "\n".join(f'<pre class="sql">{esc(s.strip())}</pre>' for s in statements)
    return html_section("DDL", blocks, len(statements), "ddl")


def rollback_lines(result: Mapping[str, Any]) -> str:
    """A rollback: what was restored, the proof, and the runs it rolled back."""
    parts = []
    for key, title in (
        ("restored", "Restored"),
        ("proof", "Proof"),
        ("sources", "Source files restored"),
        ("renamed", "Renamed back"),
        ("rolled_back_runs", "Runs rolled back"),
        ("history_lost", "Runs whose journal rows were lost"),
    ):
        lines = strings_of(result.get(key))
        if lines:
            items = "\n".join(f"<li><code>{esc(line)}</code></li>" for line in lines)
            parts.append(html_section(title, f"<ul>\n{items}\n</ul>", len(lines), key))
    return "\n".join(parts)
