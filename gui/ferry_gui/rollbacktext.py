"""A rollback's outcome in a line a person reads: what was checked, counted; each check is
kept for the tooltip (a Trac project's 23 tables made a paragraph of "x: absent (as backed up)")."""

from __future__ import annotations

from ferry.api import RollbackResult

#: more checks than this are counted instead of listed
LISTED = 3


def proof_line(result: RollbackResult) -> str:
    """``the target matches the backup: 21 tables absent, 2 with their rows and checksums``
    (counted), or the checks themselves when there are few."""
    checks = result.restored + result.proof
    if len(checks) <= LISTED:
        return "; ".join(checks)
    absent = sum("absent" in line for line in result.proof)
    kept = len(result.proof) - absent
    parts = [f"{absent} absent, as at backup time"] if absent else []
    parts += [f"{kept} with their rows and checksums as backed up"] if kept else []
    restored = f"{len(result.restored)} restored; " if result.restored else ""
    return (
        f"{restored}the target matches the backup ({len(result.proof)} checked: "
        f"{', '.join(parts)}; each check is in the tooltip and the report)"
    )


def proof_details(result: RollbackResult) -> str:
    """Every check, one a line (the tooltip)."""
    return "\n".join(result.restored + result.proof)


__all__ = ["proof_details", "proof_line"]
