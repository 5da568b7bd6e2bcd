"""Ferry: move legacy application state into SQLite or PostgreSQL, safely and verifiably.

The public API is what this module exports; the CLI and the wizard use nothing else.
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
