"""A run report's HTML page: one self-contained page from the report's data
(:mod:`ferry.report.write`).

The page needs nothing but a browser (inline CSS, no scripts, no external assets), prints
cleanly and follows the system's light or dark scheme. Values from the migrated data are
untrusted: every one is escaped.

The page's frame and its CSS are package data in ``templates/`` (``page.html``, a
:class:`string.Template`, and ``report.css``); the sections are built in
:mod:`ferry.report.tablesections` and :mod:`ferry.report.rowsections` from the escaped building
blocks of :mod:`ferry.report.markup`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from .markup import (
    HTML_MAX_DIFFS,
    HTML_MAX_MISMATCHES,
    HTML_MAX_REJECTS,
    dicts,
    duration,
    esc,
    failed_count,
    html_section,
    html_table,
    num,
    plural,
    seconds_of,
    strings_of,
    upper,
    when,
)
from .rowsections import (
    ddl_statements,
    rejected_rows,
    rollback_lines,
    row_diffs,
    schema_objects,
)
from .tablesections import (
    assertion_results,
    checked_run,
    count_bars,
    kept_conflicts,
    merge_inputs,
    migrate_tables,
    run_warnings,
    source_changes,
    source_files,
    verify_tables,
)

_TITLES = {
    "migrate": "Migration report",
    "preview": "Preview report",
    "verify": "Verification",
    "rollback": "Rollback report",
    "cutover": "Cutover report",
    "sync": "Sync report",
}


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
            passed = [plural(len(items), noun) for items, noun in groups if items]
            detail = f"All {' and '.join(passed)} passed." if passed else "Nothing failed."
        else:
            failed = [
                f"{failed_count(items)} of {plural(len(items), noun)}"
                for items, noun in groups
                if failed_count(items)
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
                    f"Rolled back, on a sample of {num(result['sample'])} rows per source "
                    "table: the counts describe the sample. Nothing was changed."
                )
        elif report.get("kind") == "cutover":
            from .cutoverhtml import cutover_banner  # the cutover's and sync's pages: on use

            tone, word, detail = cutover_banner(result)
        elif report.get("kind") == "sync":
            from .synchtml import sync_banner

            tone, word, detail = sync_banner(result)
        elif report.get("kind") == "rollback":
            tone = "pass" if status == "completed" else "muted"
            detail = f"The target is back to backup {result.get('backup_id') or '?'}."
        elif status == "completed" and not rejected:
            tone, detail = "pass", "Committed in one transaction."
        elif status == "completed":
            tone = "warn"
            detail = f"Committed, with {num(rejected)} rejected rows (listed below)."
        elif status in ("failed", "cancelled", "error"):
            tone, detail = "fail", "Rolled back: the target is unchanged."
        else:
            tone, detail = "muted", ""
    return (
        f'<div class="banner {tone}" role="status"><div class="verdict">{esc(word)}</div>'
        f'<div class="detail">{esc(detail)}</div></div>'
    )


def _summary(report: Mapping[str, Any]) -> str:
    result = report["result"] if isinstance(report.get("result"), dict) else {}
    rows: list[tuple[str, str]] = [
        ("Plan", esc(report.get("plan_name"))),
        ("Run", f"<code>{esc(report.get('run_id') or '—')}</code>"),
        ("Target", f"<code>{esc(result.get('target') or '—')}</code>"),
        ("Started", when(result.get("started_at"))),
        ("Finished", when(result.get("finished_at"))),
        ("Duration", esc(duration(seconds_of(result)))),
    ]
    if report.get("kind") != "verify":
        rows.append(("Status", esc(result.get("status") or "—")))
        rows.append(("Rejected rows", num(result.get("rejected_total", 0))))
        if result.get("sample"):
            sample = f"the first {num(result['sample'])} rows of each source table"
            rows.append(("Sample", f"{sample}; the counts describe the sample"))
    if result.get("plan_hash"):
        rows.append(("Plan SHA-256", f'<code class="hash">{esc(result["plan_hash"])}</code>'))
    backup = report.get("backup")
    if isinstance(backup, dict):
        rows.append(("Backup", f"<code>{esc(backup.get('id') or '—')}</code>"))
        if backup.get("path"):
            rows.append(("Backup location", f"<code>{esc(backup['path'])}</code>"))
        if backup.get("manifest_sha256"):
            digest = esc(backup["manifest_sha256"])
            rows.append(("Manifest SHA-256", f'<code class="hash">{digest}</code>'))
    else:
        rows.append(("Backup", '<span class="muted">none</span>'))
    who = report.get("who_where")
    if isinstance(who, dict):
        place = f"{who.get('os_user') or '?'} on {who.get('host') or '?'}"
        rows.append(("Run by", f"<code>{esc(place)}</code>"))
        if who.get("db_role"):
            rows.append(("Database role", f"<code>{esc(who['db_role'])}</code>"))
    if report.get("log_file"):
        rows.append(("Log file", f"<code>{esc(report['log_file'])}</code>"))
    rows.append(
        (
            "Generated",
            f"{when(report.get('generated_at'))} by Ferry {esc(report.get('ferry_version'))}",
        )
    )
    items = "\n".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="summary">\n{items}\n</dl>'


def _toc(sections: str) -> str:
    """Links to every section of the page, in page order."""
    found = re.findall(r'<section id="([^"]+)"><h2>(.*?)(?: <span class="count">|</h2>)', sections)
    items = "".join(f'<li><a href="#{sid}">{title}</a></li>' for sid, title in found)
    return f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'


def _plan(report: Mapping[str, Any]) -> str:
    plan = report.get("plan")
    if not isinstance(plan, dict):
        return ""
    parts = []
    sources = dicts(plan.get("sources"))
    if sources:
        rows = [
            "<tr>"
            f'<td class="name">{esc(s.get("name"))}</td>'
            f"<td>{esc(s.get('kind'))}</td>"
            f"<td><code>{esc(s.get('path') or s.get('url') or '')}</code></td>"
            "</tr>"
            for s in sources
        ]
        parts.append(
            "<h3>Sources</h3>" + html_table([("name", ""), ("kind", ""), ("from", "")], rows)
        )
    tables = dicts(plan.get("tables"))
    if tables:
        rows = [
            "<tr>"
            f'<td class="name">{esc(t.get("name"))}</td>'
            f"<td>{esc(t.get('source'))}</td>"
            f"<td>{_key_cell(t.get('key'))}</td>"
            f"<td>{esc(t.get('conflict') or 'update')}</td>"
            f"<td>{esc(t.get('on_reject') or 'skip')}</td>"
            "</tr>"
            for t in tables
        ]
        head = [("table", ""), ("source", ""), ("key", ""), ("conflict", ""), ("on reject", "")]
        parts.append("<h3>Tables</h3>" + html_table(head, rows))
    parts.append(f'<h3>Full plan</h3><pre class="plan">{esc(_plan_text(plan))}</pre>')
    return html_section("Plan", "\n".join(parts), sid="plan")


def _key_cell(key: Any) -> str:
    names = strings_of(key)
    if not names:
        return '<span class="muted">primary key</span>'
    return f"<code>{esc(', '.join(names))}</code>"


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
        body = [verify_tables(result), checked_run(report), assertion_results(result)]
    elif kind == "rollback":
        body = [rollback_lines(result)]
    elif kind == "cutover":
        from .cutoverhtml import cutover_sections

        body = [cutover_sections(result)]
    elif kind == "sync":
        from .synchtml import sync_sections

        body = [sync_sections(result)]
    else:
        body = [
            migrate_tables(result),
            count_bars(result),
            merge_inputs(result),
            kept_conflicts(result),
            rejected_rows(result),
            row_diffs(result),
            schema_objects(result),
            ddl_statements(result),
        ]
    body.insert(1, run_warnings(result))
    body.insert(1, source_changes(result))
    body.append(source_files(report))
    body.append(_plan(report))
    sections = "\n".join(part for part in body if part)
    return Template(_resource("page.html")).substitute(
        version=esc(report.get("ferry_version")),
        status=esc(status),
        title=esc(title),
        title_lower=esc(title.lower()),
        plan_name=esc(plan_name),
        kind=esc(kind or "report"),
        css=_resource("report.css"),
        banner=_banner(report),
        toc=_toc('<section id="summary"><h2>Summary</h2>' + sections),
        summary=_summary(report),
        sections=sections,
        format_version=esc(report.get("format_version")),
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
