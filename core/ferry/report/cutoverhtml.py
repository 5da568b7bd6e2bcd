"""The sections of a cutover report's page (:mod:`ferry.sync.cutover`): the banner's verdict,
what to switch, the freeze window's figures, the quiet checks, the final sync's counts and
the reverse plan. :mod:`ferry.report.html` frames them like every other report (this module
imports nothing of it: the page module imports this one)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _section(title: str, body: str, sid: str) -> str:
    return f'<section id="{sid}"><h2>{_e(title)}</h2>\n{body}\n</section>'


def _list(lines: Any, code: bool = True) -> str:
    items = [_e(line) for line in lines] if isinstance(lines, list) else []
    if code:
        items = [f"<code>{item}</code>" for item in items]
    return "<ul>\n" + "\n".join(f"<li>{item}</li>" for item in items) + "\n</ul>"


def _secs(value: Any) -> str:
    return f"{value:.3f} s" if isinstance(value, int | float) else "—"


def cutover_banner(result: Mapping[str, Any]) -> tuple[str, str, str]:
    """(tone, word, detail) of the banner."""
    status = str(result.get("status") or "")
    if status == "completed":
        return (
            "pass",
            "SWITCH",
            f"Verified PASS: point the application at {result.get('switch_to')}.",
        )
    if status in ("failed", "cancelled") and result.get("failed_step"):
        word, what = ("CANCELLED", "was cancelled") if status == "cancelled" else ("FAIL", "failed")
        return (
            "fail",
            word,
            f"The {result.get('failed_step')} {what} "
            "and was rolled back: the target is as it was before it. Do not switch; fix the "
            "cause (reasons below) and run the cutover again.",
        )
    if status == "failed":
        return "fail", "FAIL", "The final sync committed but verification FAILED: do not switch."
    reasons = result.get("reasons") or []
    if result.get("final_run_id"):
        detail = (
            f"A source changed during the final sync (run {result.get('final_run_id')} "
            "committed what it read): stop the application and run the cutover again."
        )
    else:
        detail = "The sources are not quiet: nothing was changed. Stop the application first."
    if reasons:
        detail += f" ({len(reasons)} reason(s) below.)"
    return "fail", "REFUSED", detail


def cutover_sections(result: Mapping[str, Any]) -> str:
    """Every section of the cutover report's body."""
    parts = []
    facts = [
        ("What to switch the app to", f"<code>{_e(result.get('switch_to'))}</code>"),
        ("Freeze started", _e(result.get("freeze_started_at"))),
        ("Freeze window so far", _secs(result.get("seconds"))),
        ("Settle time", _secs(result.get("settle"))),
        ("Backup", _e(result.get("backup_id") or "none")),
        ("Backup time", _secs(result.get("backup_seconds"))),
        ("Final sync run", f"<code>{_e(result.get('final_run_id') or '—')}</code>"),
        ("Final sync time", _secs(result.get("final_seconds"))),
        ("Verify verdict", _e(result.get("verdict") or "—")),
        ("Reverse plan", f"<code>{_e(result.get('reverse_plan') or '—')}</code>"),
    ]
    rows = "\n".join(f"<dt>{_e(label)}</dt><dd>{value}</dd>" for label, value in facts)
    parts.append(_section("Cutover", f'<dl class="summary">\n{rows}\n</dl>', "cutover"))
    if result.get("reasons"):
        title = "Why it failed" if result.get("failed_step") else "Why it was refused"
        parts.append(_section(title, _list(result["reasons"]), "reasons"))
    if result.get("quiet"):
        parts.append(_section("Quiet checks", _list(result["quiet"]), "quiet"))
    counts = result.get("final_counts")
    if isinstance(counts, dict) and counts:
        names = ["read", "inserted", "updated", "unchanged", "deleted", "rejected"]
        head = "".join(f"<th>{_e(n)}</th>" for n in ["table", *names])
        body = "\n".join(
            f"<tr><td>{_e(table)}</td>"
            + "".join(f'<td class="num">{_e(c.get(n, 0))}</td>' for n in names)
            + "</tr>"
            for table, c in counts.items()
            if isinstance(c, dict)
        )
        table = (
            f'<div class="scroll"><table class="counts"><thead><tr>{head}</tr></thead>'
            f"<tbody>\n{body}\n</tbody></table></div>"
        )
        parts.append(_section("Final sync", table, "final-sync"))
    for key, title, sid in (
        ("changed_during", "Changed during the final sync", "changed"),
        ("reverse_notes", "Reverse plan notes", "reverse-notes"),
        ("renamed", "Sources renamed", "renamed"),
    ):
        if result.get(key):
            parts.append(_section(title, _list(result[key]), sid))
    return "\n".join(parts)
