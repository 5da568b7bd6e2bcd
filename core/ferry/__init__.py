"""Ferry: move legacy application state into SQLite or PostgreSQL, safely and verifiably.

The public API is what this module exports plus the operations in their own modules:
``ferry.scan.scan_folder``, ``ferry.check.check_plan``, ``ferry.backup.create_backup``,
``ferry.migrate.migrate`` (also previews), ``ferry.verify.verify``, ``ferry.rollback.rollback``
and ``ferry.report.write_report``. The CLI and the wizard use nothing else.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Ferry's log records go nowhere unless a program asks (ferry.safety.logfile.setup_logging):
# never to stderr through logging's last-resort handler.
logging.getLogger("ferry").addHandler(logging.NullHandler())

if TYPE_CHECKING:
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

# The exports load on first use (PEP 562): `import ferry` stays light, so the `ferry` command
# can take Ctrl-C cleanly before pydantic and the rest are imported (see ferry.cli.launch).
_HOMES = {
    **dict.fromkeys(
        [
            "Cancelled",
            "ConflictError",
            "FerryError",
            "PlanError",
            "RejectedRowsError",
            "SourceError",
            "TargetError",
        ],
        "errors",
    ),
    **dict.fromkeys(["CancelToken", "Emit", "Event"], "events"),
    **dict.fromkeys(["Plan", "load_plan", "plan_from_dict", "save_plan"], "plan"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ferry' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


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
