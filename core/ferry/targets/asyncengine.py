"""SQLAlchemy's async engine without its ORM: ``create_async_engine``, ``AsyncEngine`` and
``AsyncConnection``, all the targets use of ``sqlalchemy.ext.asyncio``.

That package's ``__init__`` also imports its ``session`` module, which imports the whole ORM
(``sqlalchemy.orm``): about 0.1 s of CPU at every run's start, for ``AsyncSession``, which Ferry
never uses. Python runs a package's ``__init__`` before any of its modules, so the package is
put in place first as a :class:`_PendingPackage`: the real package's spec, folder and file,
with nothing run. Its ``engine`` module (and the modules that one imports) then loads as
usual. The first time anyone asks the package for a name it does not hold yet (``from
sqlalchemy.ext.asyncio import AsyncSession``, ``sqlalchemy.ext.asyncio.AsyncEngine``, ``import
*``) its real ``__init__`` runs in the package's namespace, as a normal import would have run
it, reusing the modules already loaded: nothing is loaded twice, and every name is there. The
one thing the ``__init__`` does besides importing, set up greenlet (and raise if it is
missing), is done here at once, so a broken install still fails at start-up, not mid-run.
Where the package was imported before (the wizard's warm-up, a user's code), it is used as it
is.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types
from typing import Any

_PACKAGE = "sqlalchemy.ext.asyncio"


class _PendingPackage(types.ModuleType):
    """A package whose ``__init__`` runs when a name it lacks is first asked for."""

    _lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:  # only for names not (yet) in the namespace
        if name.startswith("__") and name not in ("__all__", "__getattr__"):
            raise AttributeError(name)
        if importlib.util.find_spec(f"{_PACKAGE}.{name}") is not None:
            # a module of the package, not imported yet (``from . import exc`` asks first):
            # the import system then imports it, as for any package (every finder asked,
            # a frozen app's too)
            raise AttributeError(name)
        with self._lock:
            if type(self) is _PendingPackage:
                self.__class__ = types.ModuleType  # type: ignore[assignment]  # runs once
                spec = self.__spec__
                assert spec is not None and spec.loader is not None
                try:
                    spec.loader.exec_module(self)
                except BaseException:
                    self.__class__ = _PendingPackage  # as a failed import: the next try runs it
                    raise
        return object.__getattribute__(self, name)


def _pending_package() -> None:
    """Put ``sqlalchemy.ext.asyncio`` in place without running its ``__init__`` (if it is not
    imported yet)."""
    if _PACKAGE in sys.modules:
        return
    import sqlalchemy.ext

    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not the layout this expects: the ordinary import below
    package = _PendingPackage(_PACKAGE)
    package.__spec__ = spec
    package.__loader__ = spec.loader
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = _PACKAGE
    sys.modules[_PACKAGE] = package
    sqlalchemy.ext.asyncio = package


_pending_package()

from sqlalchemy.ext.asyncio.engine import (  # noqa: E402  (after the package is in place)
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)
from sqlalchemy.util import concurrency  # noqa: E402

# as the package's __init__ does (SQLAlchemy 2.1): greenlet set up, or an error at start-up
_shim = getattr(concurrency, "_concurrency_shim", None)
if _shim is not None:
    _shim._initialize()

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
