"""Report pages in a real browser: no horizontal overflow at desktop (1280 px) and phone
(390 px) widths, every section of the contents present; plus the same page's structure
checked with an HTML parser (runs everywhere, browser or not).

The browser is headless Chromium driven by its command line (Debian: ``apt-get install
chromium``; or ``FERRY_TEST_CHROMIUM=/path``). ``--dump-dom`` will not lay a window out
narrower than 500 px, so the page is measured inside an iframe of the exact width by a probe
in the harness page (the report itself has no script). Without a browser the browser tests
are skipped, except in CI (``CI=true``), where they fail saying what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from backupkit import ferry, make_app

from ferry.migrate import Reject, RunResult, TableResult
from ferry.plan import plan_from_dict
from ferry.report.html import render_html
from ferry.report.write import report_dict

WIDTHS = (1280, 390)
LONG = "x" * 300  # one unbroken word: the usual cause of a page wider than the screen


def _browser() -> str:
    found = os.environ.get("FERRY_TEST_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    if found:
        return found
    message = (
        "headless Chromium is needed to check the report pages: install it "
        "(Debian/Ubuntu: apt-get install -y chromium) or set FERRY_TEST_CHROMIUM"
    )
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"report browser test cannot run in CI: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A real migrate and verify report, and a synthetic one full of overlong values."""
    base = tmp_path_factory.mktemp("reports")
    plan_file = make_app(base / "app", extra='conflict = "insert"\n')
    assert ferry("migrate", plan_file, "-q").exit_code == 0
    assert ferry("verify", plan_file).exit_code == 0
    folder = base / "app" / "ferry-reports"
    found = {kind: next(folder.glob(f"{kind}-*.html")) for kind in ("migrate", "verify")}
    plan = plan_from_dict(
        {
            "name": f"plan-{LONG}",
            "target": {"url": f"sqlite:///{LONG}.db"},
            "sources": [{"name": "s", "kind": "json", "path": f"{LONG}.json"}],
            "tables": [{"name": f"t{LONG}", "source": "s", "key": ["id"], "conflict": "insert"}],
        },
        base,
    )
    result = RunResult(
        run_id="0123456789abcdef",
        plan_name="long",
        plan_hash="c0ffee" * 10 + "c0ff",
        mode="migrate",
        status="completed",
        target=f"{LONG}.db",
        started_at=datetime(2025, 1, 2, tzinfo=UTC),
        finished_at=datetime(2025, 1, 2, 0, 0, 1, tzinfo=UTC),
        tables=[TableResult(f"t{LONG}", "s", rows_read=9, inserted=5, conflicts=2, rejected=2)],
        warnings=[f"warning {LONG}"],
        rejects=[Reject(f"t{LONG}", f"id={LONG}", f"bad {LONG}", {"id": LONG})],
        rejected_total=2,
        kept_conflicts=[{"table": f"t{LONG}", "key": f"id={LONG}"}],
    )
    stress = base / "stress.html"
    stress.write_text(render_html(report_dict("migrate", result.to_dict(), plan)), "utf-8")
    found["stress"] = stress
    return found


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)">', page)


# -- structure, with an HTML parser (no browser needed) ------------------------------------


class _Shape(HTMLParser):
    """Collects what makes a page wider than the screen: tables outside a scroller, fixed
    pixel widths, SVG without a viewBox; and the contents' links."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.problems: list[str] = []
        self.toc: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "table":
            parent = self.stack[-1] if self.stack else ("", {})
            if parent[0] != "div" or "scroll" not in parent[1].get("class", "").split():
                self.problems.append("a table outside a horizontal scroller")
        for width in re.findall(r"width:\s*(\d+)px", attr.get("style", "")):
            if int(width) > 360:
                self.problems.append(f"a fixed width of {width}px")
        if tag == "svg" and "viewBox" not in attr and int(attr.get("width", "0") or 0) > 40:
            self.problems.append("an svg with a fixed width and no viewBox")
        if tag in ("script", "link", "img", "iframe") or attr.get("src"):
            self.problems.append(f"an external or scripted element <{tag}>")
        if tag == "a" and any(t == "nav" and "toc" in a.get("class", "") for t, a in self.stack):
            self.toc.append(attr.get("href", "").lstrip("#"))
        if tag not in ("meta", "br", "rect", "input", "hr"):
            self.stack.append((tag, attr))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


@pytest.mark.parametrize("kind", ["migrate", "verify", "stress"])
def test_the_page_structure_cannot_overflow_and_the_contents_match_the_sections(
    pages: dict[str, Path], kind: str
) -> None:
    page = pages[kind].read_text(encoding="utf-8")
    shape = _Shape()
    shape.feed(page)
    assert shape.problems == []
    assert shape.toc == section_ids(page)
    css = page.split("<style>")[1].split("</style>")[0]
    assert "overflow-wrap: anywhere" in css and "white-space: pre-wrap" in css
    assert "@media (max-width: 560px)" in css


# -- the real browser ----------------------------------------------------------------------

_PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="PAGE" style="width:WIDTHpx;height:900px;border:0"></iframe>
<script>
document.getElementById('f').addEventListener('load', () => {
  const doc = document.getElementById('f').contentDocument;
  const vw = doc.documentElement.clientWidth;
  const wide = [...doc.querySelectorAll('body *')].filter(el => {
    if (el.closest('.scroll')) return false;  // a table scrolls inside its own box
    const r = el.getBoundingClientRect();
    const spills = el.scrollWidth > el.clientWidth + 1
      && getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0;
    return r.width > 0 && (r.right > vw + 1 || r.left < -1 || spills);
  }).map(el => el.tagName.toLowerCase() + '.' + el.getAttribute('class')).slice(0, 10);
  const out = document.createElement('pre');
  out.id = 'ferry-probe';
  out.textContent = JSON.stringify({
    vw, sw: doc.documentElement.scrollWidth, wide,
    sections: [...doc.querySelectorAll('section[id]')].map(s => s.id)
      .filter(id => doc.getElementById(id).getBoundingClientRect().height > 0),
  });
  document.body.appendChild(out);
});
</script></body></html>
"""


def _chromium(browser: str, tmp: Path, *args: str) -> str:
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def measure(page: Path, width: int, tmp: Path) -> dict[str, Any]:
    """The page laid out ``width`` px wide: viewport, scroll width, overflowing elements and
    the sections actually shown."""
    browser = _browser()
    copy = tmp / "page.html"
    shutil.copyfile(page, copy)
    harness = tmp / "harness.html"
    harness.write_text(_PROBE.replace("PAGE", copy.name).replace("WIDTH", str(width)), "utf-8")
    dom = _chromium(
        browser,
        tmp,
        "--allow-file-access-from-files",
        "--window-size=1400,1000",
        "--virtual-time-budget=5000",
        "--dump-dom",
        harness.as_uri(),
    )
    found = re.search(r'<pre id="ferry-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the browser did not lay the page out: {dom[:300]!r}"
    return dict(json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")))


def png_width(path: Path) -> int:
    return int(struct.unpack(">I", path.read_bytes()[16:20])[0])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", ["migrate", "verify", "stress"])
def test_the_page_has_no_horizontal_overflow_and_shows_every_section(
    pages: dict[str, Path], kind: str, width: int, tmp_path: Path
) -> None:
    seen = measure(pages[kind], width, tmp_path)
    assert (seen["vw"], seen["sw"], seen["wide"]) == (width, width, [])
    page = pages[kind].read_text(encoding="utf-8")
    assert seen["sections"] == section_ids(page)
    expected = {"summary", "tables", "plan"}
    expected |= {"checked-run", "assertions"} if kind == "verify" else {"chart", "kept-conflicts"}
    expected |= {"rejects", "warnings"} if kind == "stress" else {"source-files"}
    assert expected <= set(seen["sections"])


def test_the_probe_does_see_an_overflowing_page(tmp_path: Path) -> None:
    """The check above is not vacuous: a too-wide element is reported."""
    page = tmp_path / "wide.html"
    page.write_text(f'<!DOCTYPE html><p style="white-space:nowrap">{LONG}</p>', "utf-8")
    (tmp_path / "m").mkdir()
    seen = measure(page, 390, tmp_path / "m")
    assert seen["sw"] > 390 and seen["wide"] == ["p.null"]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_screenshot_is_taken_at_each_width(
    pages: dict[str, Path], width: int, tmp_path: Path
) -> None:
    """One picture per width (kept in ``FERRY_REPORT_SHOTS`` when set, to look at)."""
    browser = _browser()
    folder = Path(os.environ.get("FERRY_REPORT_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"migrate-report-{width}.png"
    _chromium(
        browser,
        tmp_path,
        f"--screenshot={shot}",
        f"--window-size={width},2400",
        pages["migrate"].as_uri(),
    )
    assert png_width(shot) == width
