"""YTV2's summary formatting: the plain summary text as the HTML the dashboard cards render.

A plan hook (``hook = "summary_html.py:add_summary_html"``): Ferry calls it with each merged
source row; it adds ``summary_html`` and leaves the row otherwise as it is.
"""

from __future__ import annotations

from html import escape
from typing import Any


def add_summary_html(row: dict[str, Any]) -> dict[str, Any]:
    """Add ``summary_html``: a heading, paragraphs and bullet lists (None without a summary)."""
    summary = row.get("summary")
    if not summary:
        return {**row, "summary_html": None}
    parts: list[str] = []
    bullets: list[str] = []
    lines = [line.strip() for line in str(summary).splitlines()]
    for index, line in enumerate(lines):
        if line.startswith(("•", "-", "*")):
            bullets.append(f"<li>{escape(line.lstrip('•-* '))}</li>")
            continue
        if bullets:
            parts.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        if line:
            tag = "h3" if index == 0 else "p"
            parts.append(f"<{tag}>{escape(line)}</{tag}>")
    if bullets:
        parts.append("<ul>" + "".join(bullets) + "</ul>")
    return {**row, "summary_html": "".join(parts)}
