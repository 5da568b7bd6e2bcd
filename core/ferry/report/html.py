"""A run report's HTML page: one self-contained page from the report's data
(:mod:`ferry.report.write`).

The page needs nothing but a browser (inline CSS, no scripts, no external assets), prints
cleanly and follows the system's light or dark scheme. Values from the migrated data are
untrusted: every one is escaped.

The page's frame and its CSS are package data in ``templates/`` (``page.html``, a
:class:`string.Template`, and ``report.css``); the sections are built here.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

#: rejected rows shown in the HTML page; the JSON file has all the run kept
HTML_MAX_REJECTS = 200
#: mismatching keys shown per table in the HTML page
HTML_MAX_MISMATCHES = 50
#: changed rows (row-level diffs) shown in the HTML page
HTML_MAX_DIFFS = 500

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
_TITLES = {
    "migrate": "Migration report",
    "preview": "Preview report",
    "verify": "Verification",
    "rollback": "Rollback report",
}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dicts in ``value`` if it is a list (report data read tolerantly)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else []


def upper(value: Any) -> str:
    """``value`` as upper-case text, ``""`` for None (verdicts read tolerantly)."""
    return str(value).strip().upper() if value is not None else ""


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return _e(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return "—" if value is None or value == "" else _e(value)


def _when(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _e(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
        return _e(moment.strftime("%Y-%m-%d %H:%M:%S UTC"))
    return _e(moment.strftime("%Y-%m-%d %H:%M:%S"))


def _seconds(result: Mapping[str, Any]) -> float | None:
    seconds = result.get("seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return float(seconds)
    try:
        started = datetime.fromisoformat(str(result["started_at"]))
        finished = datetime.fromisoformat(str(result["finished_at"]))
        return (finished - started).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.1f} s"


def _badge(verdict: Any) -> str:
    word = upper(verdict)
    tone = {"PASS": "pass", "FAIL": "fail"}.get(word, "muted")
    return f'<span class="badge {tone}">{_e(word or "—")}</span>'


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _table(head: Iterable[tuple[str, str]], rows: list[str], extra_class: str = "") -> str:
    """A ``<table>``; ``head`` is (label, css class) pairs, ``rows`` are rendered ``<tr>``."""
    cells = "".join(f'<th class="{cls}">{_e(label)}</th>' for label, cls in head)
    body = "\n".join(rows)
    return (
        f'<div class="scroll"><table class="{extra_class}"><thead><tr>{cells}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _section(title: str, body: str, count: int | None = None, sid: str = "") -> str:
    counter = f' <span class="count">{count:,}</span>' if count is not None else ""
    anchor = f' id="{_e(sid)}"' if sid else ""
    return f"<section{anchor}><h2>{_e(title)}{counter}</h2>\n{body}\n</section>"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _failed(checks: list[dict[str, Any]]) -> int:
    return sum(1 for check in checks if upper(check.get("verdict")) == "FAIL")


def _banner(report: Mapping[str, Any]) -> str:
    raw = report.get("result")
    result: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind = report.get("kind")
    if kind == "verify":
        word = upper(report.get("verdict")) or "FAIL"
        tone = "pass" if word == "PASS" else "fail"
        tables = dicts(result.get("tables"))
        assertions = dicts(result.get("assertions"))
        groups = [(tables, "table"), (assertions, "assertion")]
        if word == "PASS":
            passed = [_plural(len(items), noun) for items, noun in groups if items]
            detail = f"All {' and '.join(passed)} passed." if passed else "Nothing failed."
        else:
            failed = [
                f"{_failed(items)} of {_plural(len(items), noun)}"
                for items, noun in groups
                if _failed(items)
            ]
            detail = f"{' and '.join(failed)} failed." if failed else "The checks did not pass."
    else:
        status = str(report.get("status") or "unknown")
        rejected = result.get("rejected_total") or 0
        word = status.upper()
        if status == "previewed":
            tone, word = "info", "PREVIEW"
            detail = "Rolled back: this is what a migration would do. Nothing was changed."
            if result.get("sample"):
                detail = (
                    f"Rolled back, on a sample of {_num(result['sample'])} rows per source "
                    "table: the counts describe the sample. Nothing was changed."
                )
        elif report.get("kind") == "rollback":
            tone = "pass" if status == "completed" else "muted"
            detail = f"The target is back to backup {result.get('backup_id') or '?'}."
        elif status == "completed" and not rejected:
            tone, detail = "pass", "Committed in one transaction."
        elif status == "completed":
            tone = "warn"
            detail = f"Committed, with {_num(rejected)} rejected rows (listed below)."
        elif status in ("failed", "cancelled", "error"):
            tone, detail = "fail", "Rolled back: the target is unchanged."
        else:
            tone, detail = "muted", ""
    return (
        f'<div class="banner {tone}" role="status"><div class="verdict">{_e(word)}</div>'
        f'<div class="detail">{_e(detail)}</div></div>'
    )


def _summary(report: Mapping[str, Any]) -> str:
    result = report["result"] if isinstance(report.get("result"), dict) else {}
    rows: list[tuple[str, str]] = [
        ("Plan", _e(report.get("plan_name"))),
        ("Run", f"<code>{_e(report.get('run_id') or '—')}</code>"),
        ("Target", f"<code>{_e(result.get('target') or '—')}</code>"),
        ("Started", _when(result.get("started_at"))),
        ("Finished", _when(result.get("finished_at"))),
        ("Duration", _e(_duration(_seconds(result)))),
    ]
    if report.get("kind") != "verify":
        rows.append(("Status", _e(result.get("status") or "—")))
        rows.append(("Rejected rows", _num(result.get("rejected_total", 0))))
        if result.get("sample"):
            sample = f"the first {_num(result['sample'])} rows of each source table"
            rows.append(("Sample", f"{sample}; the counts describe the sample"))
    if result.get("plan_hash"):
        rows.append(("Plan SHA-256", f'<code class="hash">{_e(result["plan_hash"])}</code>'))
    backup = report.get("backup")
    if isinstance(backup, dict):
        rows.append(("Backup", f"<code>{_e(backup.get('id') or '—')}</code>"))
        if backup.get("path"):
            rows.append(("Backup location", f"<code>{_e(backup['path'])}</code>"))
        if backup.get("manifest_sha256"):
            digest = _e(backup["manifest_sha256"])
            rows.append(("Manifest SHA-256", f'<code class="hash">{digest}</code>'))
    else:
        rows.append(("Backup", '<span class="muted">none</span>'))
    who = report.get("who_where")
    if isinstance(who, dict):
        place = f"{who.get('os_user') or '?'} on {who.get('host') or '?'}"
        rows.append(("Run by", f"<code>{_e(place)}</code>"))
        if who.get("db_role"):
            rows.append(("Database role", f"<code>{_e(who['db_role'])}</code>"))
    if report.get("log_file"):
        rows.append(("Log file", f"<code>{_e(report['log_file'])}</code>"))
    rows.append(
        (
            "Generated",
            f"{_when(report.get('generated_at'))} by Ferry {_e(report.get('ferry_version'))}",
        )
    )
    items = "\n".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="summary">\n{items}\n</dl>'


def _migrate_tables(result: Mapping[str, Any]) -> str:
    tables = dicts(result.get("tables"))
    if not tables:
        return _section("Tables", '<p class="muted">No tables.</p>', 0, "tables")
    head = [("table", ""), ("source", "")]
    head += [(label, "num") for _, label in _COUNT_COLUMNS]
    head += [("seconds", "num")]
    rows = []
    totals = dict.fromkeys([key for key, _ in _COUNT_COLUMNS], 0)
    for table in tables:
        cells = [
            f'<td class="name">{_e(table.get("name"))}'
            + (' <span class="tag">created</span>' if table.get("created") else "")
            + "</td>",
            f'<td class="src">{_e(table.get("source"))}</td>',
        ]
        for key, label in _COUNT_COLUMNS:
            value = table.get(key, table.get(label))
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] += value
            zero = " zero" if value == 0 else ""
            alert = {"rejected": " alert", "conflicts": " caution"}.get(key, "") if value else ""
            cells.append(f'<td class="num{zero}{alert}">{_num(value)}</td>')
        cells.append(f'<td class="num">{_num(table.get("seconds"))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if len(tables) > 1:
        foot = ['<td class="name">total</td>', "<td></td>"]
        foot += [f'<td class="num">{_num(totals[key])}</td>' for key, _ in _COUNT_COLUMNS]
        foot.append("<td></td>")  # table timings overlap: their sum means nothing
        rows.append('<tr class="total">' + "".join(foot) + "</tr>")
    return _section("Tables", _table(head, rows, "counts"), len(tables), "tables")


def _verify_tables(result: Mapping[str, Any]) -> str:
    tables = dicts(result.get("tables"))
    if not tables:
        return _section("Tables", '<p class="muted">No tables were checked.</p>', 0, "tables")
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
            f'<td class="name">{_e(table.get("name"))}</td>'
            f'<td class="src">{_e(table.get("source"))}</td>'
            f'<td class="num">{_num(expected)}</td>'
            f'<td class="num{differs}">{_num(actual)}</td>'
            f"<td>{_badge(table.get('checksum'))}{_sums(table)}</td>"
            f'<td class="num{" alert" if orphans else " zero"}">{_num(orphans)}</td>'
            f"<td>{_badge(table.get('verdict'))}</td>"
            "</tr>"
        )
        mismatches = dicts(table.get("mismatches"))
        if mismatches:
            shown = mismatches[:HTML_MAX_MISMATCHES]
            items = "".join(
                f"<li><code>{_e(m.get('key'))}</code> — {_e(m.get('problem'))}</li>" for m in shown
            )
            more = len(mismatches) - len(shown)
            note = f'<p class="note">{more:,} more in the JSON file.</p>' if more > 0 else ""
            rows.append(
                '<tr class="sub"><td colspan="7"><div class="mismatches">'
                f"<strong>First mismatching keys</strong><ul>{items}</ul>{note}</div></td></tr>"
            )
    return _section("Tables", _table(head, rows, "verify"), len(tables), "tables")


def _sums(table: Mapping[str, Any]) -> str:
    """The checksum values verify compared (source side, target side), not only the verdict."""
    source, target = table.get("source_checksum"), table.get("target_checksum")
    if not source and not target:
        return ""
    return (
        '<div class="sums">'
        f'<span class="k">source</span><code class="hash">{_e(source or "—")}</code>'
        f'<span class="k">target</span><code class="hash">{_e(target or "—")}</code></div>'
    )


_HASHED_FROM = {"backup": "backup manifest", "file": "hashed at report time"}


def _source_files(report: Mapping[str, Any]) -> str:
    """Each source file's size and SHA-256 (from the backup's manifest, or hashed at report
    time), so the report alone names the exact bytes the run read."""
    files = dicts(report.get("source_files"))
    if not files:
        return ""
    rows = [
        "<tr>"
        f'<td class="name">{_e(f.get("source"))}</td>'
        f"<td><code>{_e(f.get('path'))}</code></td>"
        f'<td class="num">{_num(f.get("size"))}</td>'
        f'<td><code class="hash">{_e(f.get("sha256"))}</code></td>'
        f"<td>{_e(_HASHED_FROM.get(str(f.get('hashed_from')), ''))}</td>"
        "</tr>"
        for f in files
    ]
    head = [("source", ""), ("file", ""), ("bytes", "num"), ("SHA-256", ""), ("from", "")]
    return _section("Source files", _table(head, rows, "files"), len(files), "source-files")


def _checked_run(report: Mapping[str, Any]) -> str:
    """A verify report's links: the migrate run it checks, its report and its backup."""
    checked = report.get("checked_run")
    if not isinstance(checked, dict):
        if report.get("kind") != "verify":
            return ""
        body = '<p class="muted">The target journals no completed migration to link to.</p>'
        return _section("Checked run", body, sid="checked-run")
    rows = [("Migrate run", f"<code>{_e(checked.get('run_id'))}</code>")]
    if checked.get("report"):
        href = str(checked.get("report_href") or "")
        name = f"<code>{_e(checked['report'])}</code>"
        link = f'<a href="{_e(href)}">{name}</a>' if href else name
        rows.append(("Its report", link))
        rows.append(("Its JSON", f"<code>{_e(checked.get('report_json'))}</code>"))
    if checked.get("backup_id"):
        rows.append(("Backup before it", f"<code>{_e(checked['backup_id'])}</code>"))
        rows.append(("Backup location", f"<code>{_e(checked.get('backup_path'))}</code>"))
    items = "\n".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return _section("Checked run", f'<dl class="summary">\n{items}\n</dl>', sid="checked-run")


def _kept_conflicts(result: Mapping[str, Any]) -> str:
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
        f'<tr><td class="name">{_e(k.get("table"))}</td>'
        f"<td><code>{_e(k.get('key'))}</code></td></tr>"
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
    body = text + (_table([("table", ""), ("key", "")], rows, "kept") if rows else "") + note
    return _section("Kept conflicts", body, total or len(kept), "kept-conflicts")


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


def _bars(result: Mapping[str, Any]) -> str:
    """Per table, one stacked bar of inserted/updated/unchanged/conflicts/rejected, drawn as
    inline SVG (no script, no network); each bar is scaled to its own table's rows."""
    tables = dicts(result.get("tables"))
    if not tables:
        return ""
    legend = "".join(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true">'
        f'<rect class="{cls}" width="12" height="12" rx="2"/></svg> {_e(label)}</span>'
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
                f"<title>{_e(label)}: {n:,}</title></rect>"
            )
            x += width
        if not rects:
            rects.append('<rect class="b-none" x="0" y="0" width="1000" height="20"/>')
        words = ", ".join(f"{n:,} {label}" for label, _, n in counts if n) or "no rows"
        rows.append(
            f'<div class="bar"><div class="bar-name">{_e(table.get("name"))}</div>'
            f'<svg viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" '
            f'aria-label="{_e(table.get("name"))}: {_e(words)}">{"".join(rects)}</svg>'
            f'<div class="bar-words">{_e(words)}</div></div>'
        )
    body = f'<div class="legend">{legend}</div><div class="bars">{"".join(rows)}</div>'
    return _section("Row counts", body, sid="chart")


def _toc(sections: str) -> str:
    """Links to every section of the page, in page order."""
    found = re.findall(r'<section id="([^"]+)"><h2>(.*?)(?: <span class="count">|</h2>)', sections)
    items = "".join(f'<li><a href="#{sid}">{title}</a></li>' for sid, title in found)
    return f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'


def _assertions(result: Mapping[str, Any]) -> str:
    assertions = dicts(result.get("assertions"))
    if not assertions:
        body = '<p class="muted">The plan has no assertions.</p>'
        return _section("Assertions", body, 0, "assertions")
    head = [("name", ""), ("SQL", ""), ("expected", ""), ("actual", ""), ("verdict", "")]
    rows = []
    for item in assertions:
        op = item.get("op") or "=="
        rows.append(
            "<tr>"
            f'<td class="name">{_e(item.get("name"))}</td>'
            f'<td><code class="sql">{_e(item.get("sql"))}</code></td>'
            f"<td><code>{_e(op)} {_e(_compact(item.get('expect')))}</code></td>"
            f"<td><code>{_e(_compact(item.get('actual')))}</code></td>"
            f"<td>{_badge(item.get('verdict'))}</td>"
            "</tr>"
        )
    return _section("Assertions", _table(head, rows, "assertions"), len(assertions), "assertions")


def _merges(result: Mapping[str, Any]) -> str:
    """Per merge source: what each input held and gave, and the rows taken for deletions."""
    parts = []
    for merge in dicts(result.get("merges")):
        head = [("input", ""), ("rows", "num"), ("only here", "num"), ("values won", "num")]
        head += [("repeated keys", "num")]
        rows = []
        for entry in dicts(merge.get("inputs")):
            cells = [f'<td class="src">{_e(entry.get("table"))}</td>']
            for key in ("rows", "only_here", "won", "duplicates"):
                cells.append(f'<td class="num">{_num(entry.get(key))}</td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        key = ", ".join(_strings(merge.get("key")))
        text = (
            f"<p><b>{_e(merge.get('source'))}</b> (by {_e(key)}): "
            f"{_num(merge.get('rows'))} merged rows, {_num(merge.get('in_all'))} held by every "
            f"input, {_num(merge.get('deleted'))} treated as deletions.</p>"
        )
        if merge.get("deletion_rule"):
            text += f'<p class="muted">Rule: {_e(merge.get("deletion_rule"))}.</p>'
        deleted = _strings(merge.get("deleted_keys"))
        if deleted:
            items = "".join(f"<li>{_e(k)}</li>" for k in deleted)
            text += f"<details><summary>Deleted rows (first {len(deleted)})</summary>"
            text += f"<ul>{items}</ul></details>"
        parts.append(text + _table(head, rows, "counts"))
    if not parts:
        return ""
    return _section("Merged sources", "\n".join(parts), len(parts), "merges")


def _rollback_lines(result: Mapping[str, Any]) -> str:
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
        lines = _strings(result.get(key))
        if lines:
            items = "\n".join(f"<li><code>{_e(line)}</code></li>" for line in lines)
            parts.append(_section(title, f"<ul>\n{items}\n</ul>", len(lines), key))
    return "\n".join(parts)


def _warnings(result: Mapping[str, Any]) -> str:
    warnings = _strings(result.get("warnings"))
    if not warnings:
        return ""
    items = "\n".join(f"<li>{_e(w)}</li>" for w in warnings)
    body = f'<ul class="warnings">\n{items}\n</ul>'
    return _section("Warnings", body, len(warnings), "warnings")


def _source_changes(result: Mapping[str, Any]) -> str:
    """Source files the application changed while Ferry read them (see sourcewatch)."""
    changes = dicts(result.get("source_changes"))
    if not changes:
        return ""
    head = [("source", ""), ("file", ""), ("before", ""), ("after", ""), ("what it means", "")]
    rows = [
        "<tr>"
        f'<td class="name">{_e(c.get("source"))}</td>'
        f"<td><code>{_e(c.get('path'))}</code></td>"
        f"<td>{_e(c.get('before'))}</td>"
        f"<td>{_e(c.get('after'))}</td>"
        f"<td>{_e(c.get('message'))}</td>"
        "</tr>"
        for c in changes
    ]
    text = (
        "<p>These files changed while they were read: the application was still writing. "
        "Stop it, then run again.</p>"
    )
    return _section(
        "Sources changed during the run", text + _table(head, rows), len(changes), "source-changes"
    )


def _row_cell(row: Any) -> str:
    """A rejected row: one line per column, values as JSON (``null`` is not ``"null"``)."""
    if not isinstance(row, dict):
        return f'<pre class="row">{_e(_pretty(row))}</pre>'
    if not row:
        return '<span class="muted">(empty)</span>'
    lines = "".join(
        f'<span class="k">{_e(key)}</span><span class="v">{_e(_compact(value))}</span>'
        for key, value in row.items()
    )
    return f'<div class="row">{lines}</div>'


def _kind_tag(kind: Any) -> str:
    return f' <span class="tag">{_e(kind)}</span>' if kind else ""


def _diffs(result: Mapping[str, Any]) -> str:
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
            f'<span class="k">{_e(c.get("column"))}</span>'
            + (
                f'<span class="v"><del>{_e(_compact(c.get("before")))}</del> → '
                f"<ins>{_e(_compact(c.get('after')))}</ins></span>"
                if decision == "update"
                # a conflict keeps the target's value: the source's is not shown as "after"
                else f'<span class="v">{_e(_compact(c.get("before")))} kept '
                f'<span class="muted">(source {_e(_compact(c.get("after")))} not applied)'
                "</span></span>"
            )
            for c in changes
        )
        tone = {"update": "info", "conflict": "warn"}.get(decision, "muted")
        rows.append(
            "<tr>"
            f'<td class="name">{_e(diff.get("table"))}</td>'
            f"<td><code>{_e(diff.get('key'))}</code></td>"
            f'<td><span class="tag {tone}">{_e(decision or "—")}</span></td>'
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
    return _section("Changed rows", _table(head, rows, "diffs") + note, len(diffs), "diffs")


def _rejects(result: Mapping[str, Any]) -> str:
    rejects = dicts(result.get("rejects"))
    total = result.get("rejected_total")
    total = total if isinstance(total, int) and not isinstance(total, bool) else len(rejects)
    if not rejects and not total:
        return ""
    shown = rejects[:HTML_MAX_REJECTS]
    rows = [
        "<tr>"
        f'<td class="name">{_e(r.get("table"))}</td>'
        f"<td><code>{_e(r.get('key'))}</code></td>"
        f'<td class="reason">{_e(r.get("reason"))}{_kind_tag(r.get("kind"))}</td>'
        f"<td>{_row_cell(r.get('row'))}</td>"
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
    note = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)
    head = [("table", ""), ("key", ""), ("reason", ""), ("row", "")]
    body = (_table(head, rows, "rejects") if rows else "") + note
    return _section("Rejected rows", body, total, "rejects")


def _schema_objects(result: Mapping[str, Any]) -> str:
    """What the schema step carried, translated (old → new) and did not carry (why)."""
    from ..shape.carried import grouped

    objects = dicts(result.get("schema_objects"))
    if not objects:
        return ""
    rows = [
        f'<tr class="{"warn" if status == "not carried" else ""}">'
        f"<td>{_e(status)}</td><td>{_e(kind)}</td>"
        f'<td class="name">{_e(", ".join(names))}</td><td>{_e(detail)}</td></tr>'
        for status, kind, names, detail in grouped(objects)
    ]
    head = [("status", ""), ("kind", ""), ("object", ""), ("how / why", "")]
    return _section("Schema", _table(head, rows, "schema"), len(objects), "schema")


def _ddl(result: Mapping[str, Any]) -> str:
    statements = _strings(result.get("ddl"))
    if "ddl" not in result:
        return ""
    if not statements:
        return _section("DDL", '<p class="muted">No schema changes.</p>', 0, "ddl")
    blocks = "\n".join(f'<pre class="sql">{_e(s.strip())}</pre>' for s in statements)
    return _section("DDL", blocks, len(statements), "ddl")


def _plan(report: Mapping[str, Any]) -> str:
    plan = report.get("plan")
    if not isinstance(plan, dict):
        return ""
    parts = []
    sources = dicts(plan.get("sources"))
    if sources:
        rows = [
            "<tr>"
            f'<td class="name">{_e(s.get("name"))}</td>'
            f"<td>{_e(s.get('kind'))}</td>"
            f"<td><code>{_e(s.get('path') or s.get('url') or '')}</code></td>"
            "</tr>"
            for s in sources
        ]
        parts.append("<h3>Sources</h3>" + _table([("name", ""), ("kind", ""), ("from", "")], rows))
    tables = dicts(plan.get("tables"))
    if tables:
        rows = [
            "<tr>"
            f'<td class="name">{_e(t.get("name"))}</td>'
            f"<td>{_e(t.get('source'))}</td>"
            f"<td>{_key_cell(t.get('key'))}</td>"
            f"<td>{_e(t.get('conflict') or 'update')}</td>"
            f"<td>{_e(t.get('on_reject') or 'skip')}</td>"
            "</tr>"
            for t in tables
        ]
        head = [("table", ""), ("source", ""), ("key", ""), ("conflict", ""), ("on reject", "")]
        parts.append("<h3>Tables</h3>" + _table(head, rows))
    parts.append(f'<h3>Full plan</h3><pre class="plan">{_e(_plan_text(plan))}</pre>')
    return _section("Plan", "\n".join(parts), sid="plan")


def _key_cell(key: Any) -> str:
    names = _strings(key)
    if not names:
        return '<span class="muted">primary key</span>'
    return f"<code>{_e(', '.join(names))}</code>"


def _plan_text(plan: dict[str, Any]) -> str:
    """The plan as TOML, as a person wrote it; JSON when it does not fit TOML."""
    try:
        import tomli_w

        return tomli_w.dumps(plan)
    except Exception:  # a scrubbed or odd plan is still shown
        return json.dumps(plan, indent=2, ensure_ascii=False)


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (inline CSS, no scripts, no external assets)."""
    raw = report.get("result")
    result: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind = str(report.get("kind") or "")
    title = _TITLES.get(kind, "Report")
    plan_name = str(report.get("plan_name") or "")
    status = upper(report.get("verdict") or report.get("status"))
    if kind == "verify":
        body = [_verify_tables(result), _checked_run(report), _assertions(result)]
    elif kind == "rollback":
        body = [_rollback_lines(result)]
    else:
        body = [
            _migrate_tables(result),
            _bars(result),
            _merges(result),
            _kept_conflicts(result),
            _rejects(result),
            _diffs(result),
            _schema_objects(result),
            _ddl(result),
        ]
    body.insert(1, _warnings(result))
    body.insert(1, _source_changes(result))
    body.append(_source_files(report))
    body.append(_plan(report))
    sections = "\n".join(part for part in body if part)
    return Template(_resource("page.html")).substitute(
        version=_e(report.get("ferry_version")),
        status=_e(status),
        title=_e(title),
        title_lower=_e(title.lower()),
        plan_name=_e(plan_name),
        kind=_e(kind or "report"),
        css=_resource("report.css"),
        banner=_banner(report),
        toc=_toc('<section id="summary"><h2>Summary</h2>' + sections),
        summary=_summary(report),
        sections=sections,
        format_version=_e(report.get("format_version")),
    )


@cache
def _resource(name: str) -> str:
    """The text of a file in ``templates/``, package data read once (from a wheel, an
    editable install or the PyInstaller bundle alike)."""
    return files("ferry.report").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


__all__ = [
    "HTML_MAX_DIFFS",
    "HTML_MAX_MISMATCHES",
    "HTML_MAX_REJECTS",
    "dicts",
    "render_html",
    "upper",
]
