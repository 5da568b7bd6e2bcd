"""Run reports: one self-contained HTML page and one JSON file per migrate, preview, verify or
rollback run.

Both files come from one plain dict, :func:`report_dict`: the JSON file is that dict, the HTML
page is :func:`ferry.report.html.render_html` of it (this module holds the data and writes the
files; :mod:`ferry.report.html` makes the page).

The report holds the plan (``Plan.to_dict()``, which never holds a secret; passwords in URLs are
masked again here, defensively, in every string of the report), the backup, per-table counts and
timings, the DDL, warnings, rejected rows and, for verify runs, the per-table checks, the named
assertions and the verdict. Files are written atomically and readable by their owner only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from .. import __version__
from ..safety.logfile import active_log_path
from ..safety.passwords import scrub_text
from ..safety.signing import SigningError, sign
from .facts import source_file_facts, who_where
from .markup import dicts, upper

if TYPE_CHECKING:
    from ..plan import Plan

ReportKind = Literal["migrate", "preview", "verify", "rollback", "cutover", "undo", "sync"]

#: bumped when the JSON layout changes incompatibly
REPORT_FORMAT_VERSION = 1
# -- secrets -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` as JSON-native data (dict/list/str/int/float/bool/None), secrets scrubbed.

    The result survives ``json.loads(json.dumps(...))`` unchanged: tuples become lists, keys
    become text, NaN and infinities become text, timestamps ISO text, bytes hex.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[key if isinstance(key, str) else str(_plain(key))] = _plain(item)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [_plain(item) for item in items]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    return scrub_text(str(value))


# -- the report dict ---------------------------------------------------------------------------


def _verify_verdict(data: Mapping[str, Any]) -> str:
    """PASS only when the run says PASS and no table or assertion failed."""
    parts = [*dicts(data.get("tables")), *dicts(data.get("assertions"))]
    if any(upper(part.get("verdict")) == "FAIL" for part in parts):
        return "FAIL"
    if any(upper(table.get("checksum")) == "FAIL" for table in dicts(data.get("tables"))):
        return "FAIL"
    given = upper(data.get("verdict"))
    if given in ("PASS", "FAIL"):
        return given
    return "PASS" if parts and all(upper(p.get("verdict")) == "PASS" for p in parts) else "FAIL"


def report_dict(
    kind: ReportKind,
    data: Mapping[str, Any],
    plan: Plan,
    backup: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole report as plain JSON data; the JSON file is this dict, the page renders it.

    ``data`` is ``RunResult.to_dict()`` (migrate, preview) or a verify result; ``backup`` is
    ``{"id", "path", "manifest_sha256"}`` when the run made one. Missing keys are tolerated.
    """
    if kind not in get_args(ReportKind):
        raise ValueError(
            "report kind must be rollback, cutover, undo, sync, migrate, preview or verify "
            f"(got {kind!r})"
        )
    result = _plain(dict(data))
    if backup is None and result.get("backup_id"):
        backup = {"id": result["backup_id"]}
    verdict = _verify_verdict(result) if kind == "verify" else None
    status = verdict if verdict else str(result.get("status") or "unknown")
    checked = _checked_run_facts(result, plan) if kind == "verify" else None
    return {
        "format": "ferry-report",
        "format_version": REPORT_FORMAT_VERSION,
        "kind": kind,
        "ferry_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": str(result.get("run_id") or ""),
        "plan_name": str(result.get("plan_name") or plan.name),
        "status": status,
        "verdict": verdict,
        "plan": _plain(plan.to_dict()),
        "backup": _plain(dict(backup)) if backup is not None else None,
        "who_where": _plain(who_where(plan)),
        "source_files": _plain(source_file_facts(plan, backup, _unhashed(status, result))),
        "checked_run": _plain(checked) if checked else None,
        # where this process logged the run (ferry.safety.logfile), None when it kept no log
        "log_file": str(logged_to) if (logged_to := active_log_path()) is not None else None,
        "result": result,
    }


def _unhashed(status: str, result: Mapping[str, Any]) -> str | None:
    """Why the report hashes no source file (:func:`source_file_facts`), None when it does."""
    if status == "failed":
        return "none"
    tables = result.get("tables")
    modes = {
        (t.get("decision") or {}).get("mode")
        for t in (tables if isinstance(tables, list) else [])
        if isinstance(t, dict)
    }
    return "delta" if modes and modes <= {"delta", "unchanged"} else None


def _checked_run_facts(result: Mapping[str, Any], plan: Plan) -> dict[str, Any] | None:
    """For a verify report: the migrate run it checks, that run's report and its backup."""
    run_id = result.get("migration_run_id")
    if not run_id:
        return None
    from ..backup.layout import backup_root

    out: dict[str, Any] = {"run_id": str(run_id)}
    page = result.get("migration_report")
    if page:
        path = Path(str(page))
        folder = Path(os.path.abspath(plan.resolve(plan.report.dir)))
        out["report"] = str(path)
        out["report_json"] = str(path.with_suffix(".json"))
        # beside this report: a relative link that survives moving the folder
        same = path.parent == folder
        out["report_href"] = path.name if same else path.as_uri() if path.is_absolute() else ""
    backup_id = result.get("migration_backup_id")
    if backup_id:
        out["backup_id"] = str(backup_id)
        out["backup_path"] = str(backup_root(plan) / str(backup_id))
    return out


# -- files -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPaths:
    """Where a report was written."""

    html: Path
    json: Path


def _file_stem(report: Mapping[str, Any]) -> str:
    run_id = re.sub(r"[^A-Za-z0-9._-]", "_", str(report.get("run_id") or "")).strip(".")
    if not run_id:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kind = re.sub(r"[^a-z]", "", str(report.get("kind") or "")) or "report"
    return f"{kind}-{run_id[:80]}"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file + rename), readable by the owner only."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report_paths(kind: ReportKind, run_id: str, folder: Path) -> ReportPaths:
    """Where :func:`write_report` puts the report of run ``run_id`` (known before it runs,
    so the journal can point at it)."""
    stem = _file_stem({"kind": kind, "run_id": run_id})
    return ReportPaths(html=folder / f"{stem}.html", json=folder / f"{stem}.json")


def save_report(report: Mapping[str, Any], folder: Path) -> ReportPaths:
    """Write a :func:`report_dict` as ``<kind>-<run_id>.json`` and ``.html`` in ``folder``.

    The folder is created (owner-only) when missing; both files are owner-only.
    """
    folder = Path(folder)
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    stem = _file_stem(report)
    paths = ReportPaths(html=folder / f"{stem}.html", json=folder / f"{stem}.json")
    from .html import render_html  # the page's modules load when a report is written

    page = render_html(report)
    signed = sign_report(report, page, paths.html.name)
    _write_private(paths.json, report_json_text(signed))
    _write_private(paths.html, page)
    return paths


def report_json_text(report: Mapping[str, Any]) -> str:
    """The exact text of a report's JSON file (``ferry verify-report`` compares it byte for
    byte with what Ferry would write for the same content)."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def sign_report(report: Mapping[str, Any], page: str, html_name: str) -> dict[str, Any]:
    """``report`` with its signature (:mod:`ferry.safety.signing`), vouching for the report's
    content, the HTML ``page`` (its SHA-256) and the backup's manifest (its SHA-256, already in the
    report's ``backup``: the manifest holds every source file's and the target's hash). When
    no signing key can be kept the report is written unsigned (``verify-report`` says so)."""
    digest = hashlib.sha256(page.encode("utf-8")).hexdigest()
    try:
        return sign(dict(report), {"html_file": html_name, "html_sha256": digest})
    except SigningError:
        return dict(report)


def write_report(
    kind: ReportKind,
    data: Mapping[str, Any],
    plan: Plan,
    folder: Path,
    *,
    backup: Mapping[str, Any] | None = None,
) -> ReportPaths:
    """Build the report of one run and write its HTML page and JSON file into ``folder``."""
    return save_report(report_dict(kind, data, plan, backup), folder)


__all__ = [
    "ReportKind",
    "ReportPaths",
    "report_dict",
    "save_report",
    "scrub_text",
    "write_report",
]
