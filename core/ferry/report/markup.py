"""The report page's building blocks: escaped text, numbers, times, badges, tables, sections.

Every value from the migrated data is untrusted, so everything that reaches the page goes
through :func:`esc` here; the section builders (:mod:`ferry.report.tablesections`,
:mod:`ferry.report.rowsections`) and the page (:mod:`ferry.report.html`) only combine these.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

#: rejected rows shown in the HTML page; the JSON file has all the run kept
HTML_MAX_REJECTS = 200


#: mismatching keys shown per table in the HTML page
HTML_MAX_MISMATCHES = 50


#: changed rows (row-level diffs) shown in the HTML page
HTML_MAX_DIFFS = 500


def esc(value: Any) -> str:
    """``value`` as HTML text, quotes included (None is empty): untrusted data goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dicts in ``value`` if it is a list (report data read tolerantly)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def strings_of(value: Any) -> list[str]:
    """``value`` as a list of strings: one string, or a list's items as text."""
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else []


def upper(value: Any) -> str:
    """``value`` as upper-case text, ``""`` for None (verdicts read tolerantly)."""
    return str(value).strip().upper() if value is not None else ""


def num(value: Any) -> str:
    """A count or number for a table cell (thousands separated; ``—`` when absent)."""
    if isinstance(value, bool):
        return esc(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return "—" if value is None or value == "" else esc(value)


def when(value: Any) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM:SS`` (in UTC when it has a zone; ``—`` when absent)."""
    if not isinstance(value, str) or not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return esc(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
        return esc(moment.strftime("%Y-%m-%d %H:%M:%S UTC"))
    return esc(moment.strftime("%Y-%m-%d %H:%M:%S"))


def seconds_of(result: Mapping[str, Any]) -> float | None:
    """How long a run took: its ``seconds``, else finished minus started (None if unknown)."""
    seconds = result.get("seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        return float(seconds)
    try:
        started = datetime.fromisoformat(str(result["started_at"]))
        finished = datetime.fromisoformat(str(result["finished_at"]))
        return (finished - started).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def duration(seconds: float | None) -> str:
    """Seconds as ``1.234 s`` or ``2 min 3.4 s`` (``—`` when unknown)."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.1f} s"


def badge(verdict: Any) -> str:
    """A verdict as a coloured PASS / FAIL badge."""
    word = upper(verdict)
    tone = {"PASS": "pass", "FAIL": "fail"}.get(word, "muted")
    return f'<span class="badge {tone}">{esc(word or "—")}</span>'


def pretty(value: Any) -> str:
    """A value as indented JSON (text as it is)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def compact(value: Any) -> str:
    """A value as one-line JSON."""
    return json.dumps(value, ensure_ascii=False, default=str)


def html_table(head: Iterable[tuple[str, str]], rows: list[str], extra_class: str = "") -> str:
    """A ``<table>``; ``head`` is (label, css class) pairs, ``rows`` are rendered ``<tr>``."""
    cells = "".join(f'<th class="{cls}">{esc(label)}</th>' for label, cls in head)
    body = "\n".join(rows)
    return (
        f'<div class="scroll"><table class="{extra_class}"><thead><tr>{cells}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def html_section(title: str, body: str, count: int | None = None, sid: str = "") -> str:
    """A ``<section>`` with its heading, an optional count and anchor id."""
    counter = f' <span class="count">{count:,}</span>' if count is not None else ""
    anchor = f' id="{esc(sid)}"' if sid else ""
    return f"<section{anchor}><h2>{esc(title)}{counter}</h2>\n{body}\n</section>"


def plural(count: int, noun: str) -> str:
    """``1 row`` / ``2 rows``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def failed_count(checks: list[dict[str, Any]]) -> int:
    """How many of ``checks`` have the verdict FAIL."""
    return sum(1 for check in checks if upper(check.get("verdict")) == "FAIL")
