"""One error root for everything Ferry tells a user.

Every error a person can act on is a :class:`FerryError` carrying a one-line ``message`` that
names the file, table, row or key concerned, and a ``hint`` saying what to do. Driver errors
are wrapped where they happen, so nothing above the engine needs to know about sqlite3 or
psycopg exceptions.
"""

from __future__ import annotations


class FerryError(Exception):
    """A failure with a user-facing message and a hint; never shown as a traceback."""

    #: process exit code the CLI uses for this kind of failure
    exit_code = 1

    def __init__(self, message: str, hint: str = "", details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details
        #: the report of the run this error stopped, when one was written
        self.report_path: str | None = None
        #: the plan's table whose column settings (``types``, ``columns``, ``ignore``) the fix
        #: is in, when one is: the wizard offers that table's column editor
        self.table = ""

    def __str__(self) -> str:
        return self.message


class PlanError(FerryError):
    """The plan file is missing, unreadable or invalid."""

    exit_code = 3


class SourceError(FerryError):
    """A source file or database cannot be read (malformed, wrong encoding, locked ...)."""

    exit_code = 4


class TargetError(FerryError):
    """The target database refused a connection, a statement or the data."""

    exit_code = 5


class TargetBusyError(TargetError):
    """Another Ferry run holds the target's run lock (:mod:`ferry.safety.runlock`)."""

    exit_code = 9


class RejectedRowsError(FerryError):
    """Rows were rejected and the plan says to stop on the first rejection."""

    exit_code = 6


class ConflictError(FerryError):
    """A table's conflict rule is ``error`` and the target already holds some of the keys."""

    exit_code = 6


class Cancelled(FerryError):
    """The run was cancelled; everything written was rolled back."""

    exit_code = 130

    def __init__(
        self, message: str = "Cancelled: the target was rolled back and is unchanged."
    ) -> None:
        super().__init__(message, hint="Run the command again when you are ready.")
