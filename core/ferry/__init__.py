"""Ferry: move legacy application state into SQLite or PostgreSQL, safely and verifiably.

The public API is :mod:`ferry.api`; this package exports its operations with one shape
(``ferry.scan(folder)``, ``ferry.check``, ``ferry.backup``, ``ferry.preview``,
``ferry.migrate``, ``ferry.verify``, ``ferry.rollback``, ``ferry.runs``: the plan first,
then keyword-only ``emit`` and ``cancel``), the errors, the events and the plan. The CLI and
the wizard use nothing else (tests/core/test_public_api.py).

Seven operations share their names with the engine's modules (``ferry.verify`` is also the
package holding the verification, and ``from ferry.verify import verify`` keeps working). So
that ``ferry.verify`` means one object whichever was imported first, those modules are made
callable when they are bound on this package: ``ferry.verify(plan)`` calls
:func:`ferry.api.verify`, ``ferry.verify.verify`` is the module's own function. The old entry
points (``ferry.migrate.migrate(plan, preview=…)`` …) stay as they are.
"""

from __future__ import annotations

import importlib
import logging
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Ferry's log records go nowhere unless a program asks (ferry.safety.logfile.setup_logging):
# never to stderr through logging's last-resort handler.
logging.getLogger("ferry").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from .api import peek_source, preview, summarise_sources
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

#: operations named like one of the engine's modules (made callable, see the docstring)
_OPERATION_MODULES = frozenset({"scan", "check", "backup", "migrate", "verify", "rollback", "runs"})

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
    **dict.fromkeys(["preview", "peek_source", "summarise_sources"], "api"),
}


class _Operation(types.ModuleType):
    """An engine module named like an operation, callable as that operation."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        api = importlib.import_module(".api", __name__)
        return getattr(api, self.__name__.rpartition(".")[2])(*args, **kwargs)


class _Package(types.ModuleType):
    """This package: a submodule named like an operation turns callable when the import
    system binds it here (``import ferry.verify`` sets ``ferry.verify``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OPERATION_MODULES and type(value) is types.ModuleType:
            value.__class__ = _Operation
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _OPERATION_MODULES:  # the module, callable (bound by the import)
        return importlib.import_module(f".{name}", __name__)
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
    "backup",
    "check",
    "load_plan",
    "migrate",
    "peek_source",
    "plan_from_dict",
    "preview",
    "rollback",
    "save_plan",
    "scan",
    "summarise_sources",
    "verify",
]
