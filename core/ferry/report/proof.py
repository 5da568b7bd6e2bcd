"""Proving a run report unaltered (``ferry verify-report FILE``).

A report's JSON carries a signature (:mod:`ferry.safety.signing`) over its whole content plus the
SHA-256 of its HTML page; the content names the backup's manifest by SHA-256, and that
manifest names every backed-up source file and the target by size and SHA-256. So one key
proves the chain: report JSON -> HTML page -> backup manifest -> stored files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..backup.files import file_sha256
from ..backup.layout import MANIFEST_NAME
from ..safety.signing import SIGNATURE_FIELD, check_signature
from .write import report_json_text

#: a report JSON larger than this is not one Ferry wrote (reports cap their samples)
MAX_REPORT_BYTES = 256 << 20


@dataclass
class ReportProof:
    """What :func:`verify_report` found: ``problems`` is empty for an intact report."""

    json_path: Path
    key_id: str = ""
    key_where: str = ""
    problems: list[str] = field(default_factory=list)
    #: what was checked and matched, one line each
    checked: list[str] = field(default_factory=list)
    #: what could not be checked (a backup folder moved away), not a failure
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the signature verifies and nothing it vouches for changed."""
        return not self.problems and bool(self.key_id)


def _sha256_file(path: Path) -> str:
    return file_sha256(path)[1]


def _load(path: Path, proof: ReportProof) -> dict[str, Any] | None:
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            proof.problems.append(
                f"{path} is {size:,} bytes, over the {MAX_REPORT_BYTES >> 20} MiB a Ferry "
                "report can be: not a report Ferry wrote"
            )
            return None
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        proof.problems.append(f"{path} does not exist")
        return None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        proof.problems.append(f"{path} cannot be read as JSON: {exc}")
        return None
    if not isinstance(data, dict) or data.get("format") != "ferry-report":
        proof.problems.append(f"{path} is not a Ferry report (no format 'ferry-report')")
        return None
    if text != report_json_text(data):
        proof.problems.append(
            f"{path.name}: its bytes differ from what Ferry wrote for this content (the file "
            "was edited)"
        )
    return data


def verify_report(file: str | Path) -> ReportProof:
    """Check a report (its JSON, or its HTML page with the JSON beside it): the signature,
    the page's SHA-256, and the backup manifest's SHA-256 when the backup is still there."""
    given = Path(file)
    json_path = given.with_suffix(".json") if given.suffix.lower() == ".html" else given
    proof = ReportProof(json_path)
    if given != json_path and not json_path.is_file():
        proof.problems.append(
            f"{json_path.name} (the signed JSON report beside {given.name}) is missing: the page "
            "alone cannot be proven"
        )
        return proof
    data = _load(json_path, proof)
    if data is None:
        return proof
    signature = check_signature(data)
    if not signature.valid:
        what = f"the report {json_path.name}"
        proof.problems.insert(0, signature.problem(what).replace(", or use --trust-unsigned", ""))
        if signature.state != "invalid":
            return proof
    proof.key_id, proof.key_where = signature.key_id, signature.where
    if signature.valid:
        proof.checked.append(f"{json_path.name}: content signed by key {signature.key_id}")
    block = data.get(SIGNATURE_FIELD) or {}
    html_name = block.get("html_file") if isinstance(block, dict) else None
    html_path = json_path.parent / Path(str(html_name or json_path.with_suffix(".html").name)).name
    if given != json_path:
        html_path = given
    expected = block.get("html_sha256") if isinstance(block, dict) else None
    if html_path.is_file() and isinstance(expected, str):
        if _sha256_file(html_path) != expected:
            proof.problems.append(
                f"the HTML report {html_path.name} was changed after Ferry wrote it"
            )
        else:
            proof.checked.append(f"{html_path.name}: SHA-256 matches")
    elif given == html_path:
        proof.problems.append(f"the report does not vouch for the page {html_path.name}")
    else:
        proof.notes.append(f"{html_path.name} not found beside the JSON: the page was not checked")
    _check_backup(data.get("backup"), proof)
    return proof


def _check_backup(backup: Any, proof: ReportProof) -> None:
    """Compare the backup manifest the report names with the SHA-256 the report holds."""
    if not isinstance(backup, dict) or not isinstance(backup.get("manifest_sha256"), str):
        return
    manifest = Path(str(backup.get("path") or "")) / MANIFEST_NAME
    if not backup.get("path") or not manifest.is_file():
        proof.notes.append(
            f"the backup manifest {manifest} is not here: the backup was not checked "
            "(run verify-report where the backup is, or `ferry backup verify` on it)"
        )
        return
    if _sha256_file(manifest) != backup["manifest_sha256"]:
        proof.problems.append(
            f"the backup manifest {manifest} differs from the one the report names (SHA-256)"
        )
    else:
        proof.checked.append(f"backup {backup.get('id')}: manifest SHA-256 matches")
