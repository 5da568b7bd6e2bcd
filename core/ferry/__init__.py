"""Ferry: move legacy application state into SQLite or PostgreSQL, safely and verifiably.

The public API is what this module exports plus the operations in their own modules:
``ferry.scan.scan_folder``, ``ferry.check.check_plan``, ``ferry.backup.create_backup``,
``ferry.migrate.migrate`` (also previews), ``ferry.verify.verify``, ``ferry.rollback.rollback``
and ``ferry.report.write_report``. The CLI and the wizard use nothing else.
"""

from __future__ import annotations

from .errors import (
    Cancelled,
    ConflictError,
    FerryError,
    PlanError,
    RejectedRowsError,
    SourceError,
    TargetError,
)
from .events import CancelToken, Emit, Event
from .plan import Plan, load_plan, plan_from_dict, save_plan

__version__ = "0.1.0"

__all__ = [
    "CancelToken",
    "Cancelled",
    "ConflictError",
    "Emit",
    "Event",
    "FerryError",
    "Plan",
    "PlanError",
    "RejectedRowsError",
    "SourceError",
    "TargetError",
    "__version__",
    "load_plan",
    "plan_from_dict",
    "save_plan",
]
