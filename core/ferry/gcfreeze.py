"""A command's start-up objects kept out of the cyclic garbage collector's way.

A run imports some 600 modules (SQLAlchemy, pydantic, psycopg, Ferry's own): hundreds of
thousands of objects (functions, classes, their namespaces, the plan's models) that live as
long as the process. Python's cyclic collector walks all of them at every full collection,
and the younger generations hold them until then, though none of them ever becomes garbage:
about a quarter of the CPU of an unchanged re-run (see docs/benchmarks.md). ``gc.freeze()``
moves every object alive at that moment into a permanent generation that collections skip;
later collections see only what the run itself makes, which they collect as before.

Called once per process by the command line when its first engine step starts, once the
engine is imported (``ferry.cli.common.run``), and public as ``ferry.api.freeze_startup`` for
other programs' start (the benchmark runner's); the operations themselves never freeze, since a
host program's objects (a wizard's, a script's) are for it to freeze or not.
"""

from __future__ import annotations

import gc

_frozen = False
_held = False


def hold_collections() -> None:
    """No cyclic collection until :func:`freeze_startup` (for a command that is sure to call
    it, as ``ferry migrate`` and ``ferry sync`` of a plan they begin early reads for): the
    imports make hundreds of thousands of objects and no garbage worth a collection, and the
    collections that ran between them were a tenth of their time."""
    global _held
    if gc.isenabled() and not _frozen:
        gc.disable()
        _held = True


def freeze_startup() -> None:
    """Freeze every object alive now (the imported modules', the loaded plan's), once per
    process: later calls do nothing, so objects a run leaves behind are never frozen. The
    collector runs again if :func:`hold_collections` held it."""
    global _frozen, _held
    if not _frozen:
        _frozen = True
        gc.freeze()
    if _held:
        _held = False
        gc.enable()


__all__ = ["freeze_startup", "hold_collections"]
