"""The report page's frame and CSS are package data (``ferry/report/templates/``, read with
importlib.resources), not strings in the code: the page is built from those files. That the
files ship in a wheel is tests/packaging/test_wheel.py."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

from ferry.report.html import render_html

TEMPLATES = files("ferry.report") / "templates"
REPORT: dict[str, Any] = {"kind": "migrate", "plan_name": "shop", "result": {}}


def test_the_page_frame_and_its_css_are_package_resources() -> None:
    assert (TEMPLATES / "page.html").is_file()
    assert (TEMPLATES / "report.css").is_file()


def test_the_page_follows_the_frame_template_piece_by_piece() -> None:
    frame = (TEMPLATES / "page.html").read_text(encoding="utf-8")
    pieces = re.split(r"\$\{\w+\}", frame)
    assert len(pieces) > 5, "page.html should be a string.Template with ${name} fields"
    page, at = render_html(REPORT), 0
    for piece in pieces:
        found = page.find(piece, at)
        assert found >= at, f"page.html text missing from the page: {piece!r}"
        at = found + len(piece)
    assert page.startswith(pieces[0]) and page.endswith(pieces[-1])


def test_the_page_inlines_the_css_file_verbatim() -> None:
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    assert ":root" in css
    assert f"<style>\n{css}</style>" in render_html(REPORT)
