"""The sections of a ``ferry sync`` summary report's page (:mod:`ferry.sync.loop`): the banner
(running, stopped, failed), the freeze-window figure and one row per cycle. The loop rewrites
this one report after every cycle; a cycle's own migrate report exists only when it changed,
rejected or warned of something (the journal keeps every cycle)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def sync_banner(result: Mapping[str, Any]) -> tuple[str, str, str]:
    """(tone, word, detail) of the banner."""
    status = str(result.get("status") or "")
    raw = result.get("cycles")
    count = len(raw) if isinstance(raw, list) else 0
    done = f"{count} cycle(s) committed, each journaled."
    if status == "running":
        return "info", "SYNCING", f"The sync is running: {done} This page is updated per cycle."
    if status in ("failed", "cancelled"):
        why = result.get("error") or status
        return "fail", status.upper(), f"A cycle {status} and was rolled back ({why}); {done}"
    return "pass", "STOPPED", f"The sync stopped ({result.get('stopped')}): {done}"


def sync_sections(result: Mapping[str, Any]) -> str:
    """The freeze-window figure and the cycles table."""
    parts = []
    if result.get("freeze_line"):
        parts.append(
            '<section id="freeze"><h2>Freeze window</h2>\n'
            f"<p>{_e(result['freeze_line'])}</p>\n</section>"
        )
    raw = result.get("cycles")
    cycles = [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
    if cycles:
        head = "".join(
            f"<th>{_e(n)}</th>"
            for n in ("cycle", "started", "seconds", "rows changed", "behind s", "run", "report")
        )
        rows = []
        for c in cycles:
            changed = c.get("changed")
            pairs = changed.items() if isinstance(changed, dict) else []
            text = ", ".join(f"{t} {n}" for t, n in pairs if n) or "none"
            report = f"<code>{_e(c['report'])}</code>" if c.get("report") else "—"
            rows.append(
                f'<tr><td class="num">{_e(c.get("cycle"))}</td><td>{_e(c.get("started_at"))}</td>'
                f'<td class="num">{_e(c.get("seconds"))}</td><td>{_e(text)}</td>'
                f'<td class="num">{_e(c.get("behind"))}</td>'
                f"<td><code>{_e(c.get('run_id'))}</code></td><td>{report}</td></tr>"
            )
        body = "\n".join(rows)
        parts.append(
            '<section id="cycles"><h2>Cycles</h2>\n<div class="scroll"><table class="counts">'
            f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>\n</section>"
        )
    return "\n".join(parts)
