"""A first load's rows written frozen: ``COPY … FREEZE`` into a table this run created.

PostgreSQL takes ``FREEZE`` only for a table created (or truncated) in the current
subtransaction, which a direct load into a table this run created is: the tables are created
and loaded inside the run's attempt (one savepoint: ``_run_attempts`` in :mod:`ferry.migrate`)
with no savepoint open around the COPY. Frozen rows need no commit-status lookup and their
pages are marked all-visible as they are written, so what reads the whole table next in the
run's transaction — the index builds, the foreign key's check — skips the per-row visibility
work, and the foreign key's check can read both sides from their indexes alone
(:mod:`.pgforeignkeys`). Each row keeps the loading transaction's ``xmin`` (read as it is:
undo's row version and the re-run fingerprint are unchanged).

What it changes for others, as documented for ``FREEZE``: a transaction whose snapshot was
taken before the run's commit and that reads the new table after it sees its rows, not an
empty table (the table did not exist in that snapshot either). A load apart
(:mod:`.pgapart`) writes its private tables the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event


def copy_sql(table: str, columns: list[str], csv: bool, binary: bool, freeze: bool) -> str:
    """``COPY table (columns) FROM STDIN`` with its options (names already quoted):
    ``FORMAT csv`` / ``FORMAT binary`` (else COPY text), and ``FREEZE``."""
    options = ["FORMAT binary"] if binary else ["FORMAT csv"] if csv else []
    if freeze:
        options.append("FREEZE")
    form = f" ({', '.join(options)})" if options else ""
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN{form}"


class FreezeGate:
    """Whether ``FREEZE`` may still be asked for on the run's connection: not once a savepoint
    was rolled back there (a refused view, a staged batch a row broke, a merge the server
    refused). PostgreSQL's ``ROLLBACK TO`` keeps that savepoint open, so what follows runs in
    a subtransaction newer than the tables' creation, where the server refuses ``FREEZE``
    and the run would fail; the rows are then written unfrozen, as before."""

    def __init__(self) -> None:
        self.open = True

    def watch(self, connection: Any) -> None:
        """Close the gate at the first savepoint ``connection`` (a SQLAlchemy sync
        ``Connection``) rolls back."""
        event.listen(connection, "rollback_savepoint", self._close)

    def _close(self, *_: Any) -> None:
        self.open = False


__all__ = ["FreezeGate", "copy_sql"]
