"""A table's counts in words and colours (``13 new · 0 changed · 3 conflicts``), for the
Migrate page's lines: no legend to look up."""

from __future__ import annotations

from html import escape

#: count key, its word, its colour (shown when not zero; "new" and "changed" always)
WORDS = [
    ("inserted", "new", "#1b7f2a"),
    ("updated", "changed", "#1f5fbf"),
    ("unchanged", "unchanged", "#6b6b6b"),
    ("conflicts", "conflicts", "#b35c00"),
    ("rejected", "rejected", "#c0262d"),
]
ALWAYS = ("inserted", "updated")


def counts_words(counts: dict[str, int]) -> list[tuple[str, str]]:
    """``[("13 new", colour), ("0 changed", colour), ("3 conflicts", colour)]``."""
    return [
        (f"{counts.get(key, 0):,} {word}", colour)
        for key, word, colour in WORDS
        if key in ALWAYS or counts.get(key, 0)
    ]


def counts_text(counts: dict[str, int]) -> str:
    """``13 new · 0 changed · 3 conflicts`` (plain)."""
    return " · ".join(text for text, _ in counts_words(counts))


def counts_html(counts: dict[str, int]) -> str:
    """The same words, each in its colour (bold when it counts rows that need a look)."""
    parts = []
    for text, colour in counts_words(counts):
        weight = "bold" if colour in ("#b35c00", "#c0262d") else "normal"
        parts.append(f'<span style="color:{colour}; font-weight:{weight}">{escape(text)}</span>')
    return " · ".join(parts)


__all__ = ["counts_html", "counts_text", "counts_words"]
