"""The report page's sections about tables: counts per table, verification results, the
checked run, kept conflicts, bars, assertions, merges, warnings and source changes.

Built from the report's data (:mod:`ferry.report.write`) with the escaped building blocks of
:mod:`ferry.report.markup`; the page (:mod:`ferry.report.html`) puts them in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .markup import (
    HTML_MAX_MISMATCHES,
    badge,
    compact,
    dicts,
    esc,
    html_section,
    html_table,
    num,
    strings_of,
)

_COUNT_COLUMNS = [
    ("rows_read", "read"),
    ("inserted", "inserted"),
    ("updated", "updated"),
    ("unchanged", "unchanged"),
    ("conflicts", "conflicts"),
    ("rejected", "rejected"),
    ("duplicates", "duplicates"),
    ("skipped", "skipped"),
    ("deleted", "deleted"),
]


def migrate_tables(result: Mapping[str, Any]) -> str:
    """Per target table: the run's counts, with a totals row."""
    tables = dicts(result.get("tables"))
    if not tables:
        return html_section("Tables", '<p class="muted">No tables.</p>', 0, "tables")
    head = [("table", ""), ("source", "")]
    head += [(label, "num") for _, label in _COUNT_COLUMNS]
    head += [("seconds", "num")]
    decided = any(isinstance(t.get("decision"), dict) for t in tables)
    if decided:  # how each table's rows went in (ferry.load.decide)
        head += [("load", "")]
    rows = []
    totals = dict.fromkeys([key for key, _ in _COUNT_COLUMNS], 0)
    for table in tables:
        cells = [
            f'<td class="name">{esc(table.get("name"))}'
            + (' <span class="tag">created</span>' if table.get("created") else "")
            + "</td>",
            f'<td class="src">{esc(table.get("source"))}</td>',
        ]
        for key, label in _COUNT_COLUMNS:
            value = table.get(key, table.get(label))
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] += value
            zero = " zero" if value == 0 else ""
            alert = {"rejected": " alert", "conflicts": " caution"}.get(key, "") if value else ""
            cells.append(f'<td class="num{zero}{alert}">{num(value)}</td>')
        cells.append(f'<td class="num">{num(table.get("seconds"))}</td>')
        if decided:
            cells.append(_decision_cell(table.get("decision")))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if len(tables) > 1:
        foot = ['<td class="name">total</td>', "<td></td>"]
        foot += [f'<td class="num">{num(totals[key])}</td>' for key, _ in _COUNT_COLUMNS]
        foot.append("<td></td>")  # table timings overlap: their sum means nothing
        if decided:
            foot.append("<td></td>")
        rows.append('<tr class="total">' + "".join(foot) + "</tr>")
    return html_section("Tables", html_table(head, rows, "counts"), len(tables), "tables")


def _decision_cell(decision: Any) -> str:
    """A table's load decision: its mode, with the reason as the cell's title and text."""
    if not isinstance(decision, dict):
        return "<td></td>"
    mode, why = esc(decision.get("mode")), esc(decision.get("why"))
    return f'<td class="load" title="{why}"><b>{mode}</b> <span class="muted">{why}</span></td>'


def verify_tables(result: Mapping[str, Any]) -> str:
    """Per verified table: rows, checksums, verdict and the first mismatching keys."""
    tables = dicts(result.get("tables"))
    if not tables:
        return html_section("Tables", '<p class="muted">No tables were checked.</p>', 0, "tables")
    head = [
        ("table", ""),
        ("source", ""),
        ("expected rows", "num"),
        ("target rows", "num"),
        ("checksum", ""),
        ("FK orphans", "num"),
        ("verdict", ""),
    ]
    rows = []
    for table in tables:
        expected, actual = table.get("expected_rows"), table.get("target_rows")
        differs = (
            " alert" if expected is not None and actual is not None and expected != actual else ""
        )
        orphans = table.get("orphans")
        rows.append(
            "<tr>"
            f'<td class="name">{esc(table.get("name"))}</td>'
            f'<td class="src">{esc(table.get("source"))}</td>'
            f'<td class="num">{num(expected)}</td>'
            f'<td class="num{differs}">{num(actual)}</td>'
            f"<td>{badge(table.get('checksum'))}{_sums(table)}</td>"
            f'<td class="num{" alert" if orphans else " zero"}">{num(orphans)}</td>'
            f"<td>{badge(table.get('verdict'))}</td>"
            "</tr>"
        )
        mismatches = dicts(table.get("mismatches"))
        if mismatches:
            shown = mismatches[:HTML_MAX_MISMATCHES]
            items = "".join(
                f"<li><code>{esc(m.get('key'))}</code> — {esc(m.get('problem'))}</li>"
                for m in shown
            )
            more = len(mismatches) - len(shown)
            note = f'<p class="note">{more:,} more in the JSON file.</p>' if more > 0 else ""
            rows.append(
                '<tr class="sub"><td colspan="7"><div class="mismatches">'
                f"<strong>First mismatching keys</strong><ul>{items}</ul>{note}</div></td></tr>"
            )
    return html_section("Tables", html_table(head, rows, "verify"), len(tables), "tables")


def _sums(table: Mapping[str, Any]) -> str:
    """The checksum values verify compared (source side, target side), not only the verdict."""
    source, target = table.get("source_checksum"), table.get("target_checksum")
    if not source and not target:
        return ""
    return (
        '<div class="sums">'
        f'<span class="k">source</span><code class="hash">{esc(source or "—")}</code>'
        f'<span class="k">target</span><code class="hash">{esc(target or "—")}</code></div>'
    )


_HASHED_FROM = {
    "backup": "backup manifest",
    "file": "hashed at report time",
    "none": "not hashed (the run failed)",
    "delta": "not hashed (the run read only what changed)",
}


def source_files(report: Mapping[str, Any]) -> str:
    """Each source file's size and SHA-256 (from the backup's manifest, or hashed at report
    time), so the report alone names the exact bytes the run read."""
    files = dicts(report.get("source_files"))
    if not files:
        return ""
    rows = [
        "<tr>"
        f'<td class="name">{esc(f.get("source"))}</td>'
        f"<td><code>{esc(f.get('path'))}</code></td>"
        f'<td class="num">{num(f.get("size"))}</td>'
        f'<td><code class="hash">{esc(f.get("sha256"))}</code></td>'
        f"<td>{esc(_HASHED_FROM.get(str(f.get('hashed_from')), ''))}</td>"
        "</tr>"
        for f in files
    ]
    head = [("source", ""), ("file", ""), ("bytes", "num"), ("SHA-256", ""), ("from", "")]
    return html_section("Source files", html_table(head, rows, "files"), len(files), "source-files")


def checked_run(report: Mapping[str, Any]) -> str:
    """A verify report's links: the migrate run it checks, its report and its backup."""
    checked = report.get("checked_run")
    if not isinstance(checked, dict):
        if report.get("kind") != "verify":
            return ""
        body = '<p class="muted">The target journals no completed migration to link to.</p>'
        return html_section("Checked run", body, sid="checked-run")
    rows = [("Migrate run", f"<code>{esc(checked.get('run_id'))}</code>")]
    if checked.get("report"):
        href = str(checked.get("report_href") or "")
        name = f"<code>{esc(checked['report'])}</code>"
        link = f'<a href="{esc(href)}">{name}</a>' if href else name
        rows.append(("Its report", link))
        rows.append(("Its JSON", f"<code>{esc(checked.get('report_json'))}</code>"))
    if checked.get("backup_id"):
        rows.append(("Backup before it", f"<code>{esc(checked['backup_id'])}</code>"))
        rows.append(("Backup location", f"<code>{esc(checked.get('backup_path'))}</code>"))
    items = "\n".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return html_section("Checked run", f'<dl class="summary">\n{items}\n</dl>', sid="checked-run")


def kept_conflicts(result: Mapping[str, Any]) -> str:
    """Conflicts where the target's value was kept (rule insert or newer), by key."""
    kept = dicts(result.get("kept_conflicts"))
    if not kept:
        kept = [
            {"table": d.get("table"), "key": d.get("key")}
            for d in dicts(result.get("diffs"))
            if d.get("decision") == "conflict"
        ]
    total = sum(
        t.get("conflicts") or 0
        for t in dicts(result.get("tables"))
        if isinstance(t.get("conflicts"), int)
    )
    if not kept and not total:
        return ""
    rows = [
        f'<tr><td class="name">{esc(k.get("table"))}</td>'
        f"<td><code>{esc(k.get('key'))}</code></td></tr>"
        for k in kept
    ]
    note = ""
    if total > len(kept):
        note = (
            f'<p class="note">{total:,} conflicting rows kept the target\'s values; '
            f"the first {len(kept):,} are listed.</p>"
        )
    text = (
        "<p>These rows already held other values in the target; "
        "the plan's conflict rule kept them.</p>"
    )
    body = text + (html_table([("table", ""), ("key", "")], rows, "kept") if rows else "") + note
    return html_section("Kept conflicts", body, total or len(kept), "kept-conflicts")


_BAR_PARTS = [
    ("inserted", "inserted", "b-ins"),
    ("updated", "updated", "b-upd"),
    ("unchanged", "unchanged", "b-same"),
    ("conflicts", "conflicts", "b-conf"),
    ("rejected", "rejected", "b-rej"),
]


def _count(table: Mapping[str, Any], key: str) -> int:
    value = table.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def count_bars(result: Mapping[str, Any]) -> str:
    """Per table, one stacked bar of inserted/updated/unchanged/conflicts/rejected, drawn as
    inline SVG (no script, no network); each bar is scaled to its own table's rows."""
    tables = dicts(result.get("tables"))
    if not tables:
        return ""
    legend = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true">'
        f'<rect class="{cls}" width="12" height="12" rx="2"/></svg> {esc(label)}</span>'
        for _, label, cls in _BAR_PARTS
    )
    rows = []
    for table in tables:
        counts = [(label, cls, _count(table, key)) for key, label, cls in _BAR_PARTS]
        total = sum(n for _, _, n in counts)
        rects, x = [], 0.0
        for label, cls, n in counts:
            if not n:
                continue
            width = 1000 * n / total
            rects.append(
                f'<rect class="{cls}" x="{x:.2f}" y="0" width="{width:.2f}" height="20">'
                f"<title>{esc(label)}: {n:,}</title></rect>"
            )
            x += width
        if not rects:
            rects.append('<rect class="b-none" x="0" y="0" width="1000" height="20"/>')
        words = ", ".join(f"{n:,} {label}" for label, _, n in counts if n) or "no rows"
        rows.append(
            f'<div class="bar"><div class="bar-name">{esc(table.get("name"))}</div>'
            f'<svg viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" '
            f'aria-label="{esc(table.get("name"))}: {esc(words)}">{"".join(rects)}</svg>'
            f'<div class="bar-words">{esc(words)}</div></div>'
        )
    body = f'<div class="legend">{legend}</div><div class="bars">{"".join(rows)}</div>'
    return html_section("Row counts", body, sid="chart")


def assertion_results(result: Mapping[str, Any]) -> str:
    """The plan's assertions: query, expectation, what came back, verdict."""
    assertions = dicts(result.get("assertions"))
    if not assertions:
        body = '<p class="muted">The plan has no assertions.</p>'
        return html_section("Assertions", body, 0, "assertions")
    head = [("name", ""), ("SQL", ""), ("expected", ""), ("actual", ""), ("verdict", "")]
    rows = []
    for item in assertions:
        op = item.get("op") or "=="
        rows.append(
            "<tr>"
            f'<td class="name">{esc(item.get("name"))}</td>'
            f'<td><code class="sql">{esc(item.get("sql"))}</code></td>'
            f"<td><code>{esc(op)} {esc(compact(item.get('expect')))}</code></td>"
            f"<td><code>{esc(compact(item.get('actual')))}</code></td>"
            f"<td>{badge(item.get('verdict'))}</td>"
            "</tr>"
        )
    return html_section(
        "Assertions", html_table(head, rows, "assertions"), len(assertions), "assertions"
    )


def merge_inputs(result: Mapping[str, Any]) -> str:
    """Per merge source: what each input held and gave, and the rows taken for deletions."""
    parts = []
    for merge in dicts(result.get("merges")):
        head = [("input", ""), ("rows", "num"), ("only here", "num"), ("values won", "num")]
        head += [("repeated keys", "num")]
        rows = []
        for entry in dicts(merge.get("inputs")):
            cells = [f'<td class="src">{esc(entry.get("table"))}</td>']
            for key in ("rows", "only_here", "won", "duplicates"):
                cells.append(f'<td class="num">{num(entry.get(key))}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        key = ", ".join(strings_of(merge.get("key")))
        text = (
            f"<p><b>{esc(merge.get('source'))}</b> (by {esc(key)}): "
            f"{num(merge.get('rows'))} merged rows, {num(merge.get('in_all'))} held by every "
            f"input, {num(merge.get('deleted'))} treated as deletions.</p>"
        )
        if merge.get("deletion_rule"):
            text += f'<p class="muted">Rule: {esc(merge.get("deletion_rule"))}.</p>'
        deleted = strings_of(merge.get("deleted_keys"))
        if deleted:
            items = "".join(f"<li>{esc(k)}</li>" for k in deleted)
            text += f"<details><summary>Deleted rows (first {len(deleted)})</summary>"
            text += f"<ul>{items}</ul></details>"
        parts.append(text + html_table(head, rows, "counts"))
    if not parts:
        return ""
    return html_section("Merged sources", "\n".join(parts), len(parts), "merges")


def run_warnings(result: Mapping[str, Any]) -> str:
    """The run's warnings, one list item each."""
    warnings = strings_of(result.get("warnings"))
    if not warnings:
        return ""
    items = "\n".join(f"<li>{esc(w)}</li>" for w in warnings)
    body = f'<ul class="warnings">\n{items}\n</ul>'
    return html_section("Warnings", body, len(warnings), "warnings")


def source_changes(result: Mapping[str, Any]) -> str:
    """Source files the application changed while Ferry read them (see sourcewatch)."""
    changes = dicts(result.get("source_changes"))
    if not changes:
        return ""
    head = [("source", ""), ("file", ""), ("before", ""), ("after", ""), ("what it means", "")]
    rows = [
        "<tr>"
        f'<td class="name">{esc(c.get("source"))}</td>'
        f"<td><code>{esc(c.get('path'))}</code></td>"
        f"<td>{esc(c.get('before'))}</td>"
        f"<td>{esc(c.get('after'))}</td>"
        f"<td>{esc(c.get('message'))}</td>"
        "</tr>"
        for c in changes
    ]
    text = (
        "<p>These files changed while they were read: the application was still writing. "
        "Stop it, then run again.</p>"
    )
    return html_section(
        "Sources changed during the run",
        text + html_table(head, rows),
        len(changes),
        "source-changes",
    )
