"""Run reports: one self-contained HTML page and one JSON file per run, their audit facts
and their proof. The report's data is :mod:`ferry.report.write`, its page :mod:`ferry.report.html`.

The public names of the former ``ferry.report`` module load from here on
first use (PEP 562), so ``import ferry.report`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazyexports import lazy_exports

if TYPE_CHECKING:
    from ..safety.passwords import (
        scrub_text,
    )
    from .html import (
        HTML_MAX_REJECTS,
        render_html,
    )
    from .write import (
        ReportKind,
        ReportPaths,
        report_dict,
        report_json_text,
        report_paths,
        save_report,
        write_report,
    )

_HOMES = {
    "HTML_MAX_REJECTS": ".html",
    "ReportKind": ".write",
    "ReportPaths": ".write",
    "render_html": ".html",
    "report_dict": ".write",
    "report_json_text": ".write",
    "report_paths": ".write",
    "save_report": ".write",
    "scrub_text": "..safety.passwords",
    "write_report": ".write",
}


__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "HTML_MAX_REJECTS",
    "ReportKind",
    "ReportPaths",
    "render_html",
    "report_dict",
    "report_json_text",
    "report_paths",
    "save_report",
    "scrub_text",
    "write_report",
]
