"""Durations as an operator writes them: ``30s``, ``2m``, ``1h``, ``1.5s``, ``500ms`` or plain
seconds (``30``)."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError naming the accepted forms."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write it like 30s, 2m, 1h or 500ms")
    number, unit = match.groups()
    return float(number) * _UNITS[(unit or "s").lower()]


def duration_text(seconds: float) -> str:
    """``0.42 s``, ``12.3 s``, ``4 min 5 s``: short and readable."""
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
