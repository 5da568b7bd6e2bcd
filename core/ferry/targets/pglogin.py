"""The OS keyring read only when the PostgreSQL server asks for a password.

Reading the keyring costs a run about 0.2 s of CPU before it connects, even where no keyring
exists (the ``keyring`` package finds and imports every backend and probes the platform; on
Linux its macOS backend alone runs ``ldconfig``). Most targets never ask for a password (trust,
peer or certificate authentication), so the run's connections try once without one, as
``psql`` does: libpq then has no password from anywhere (Ferry passes none, ``PGPASSWORD`` is
unset and its password file is turned off for that attempt) and says whether the server asked
for one (``PQconnectionNeedsPassword``). Only then is the keyring read and the connection made
exactly as before: the keyring's password, else libpq's ``PGPASSWORD``/``~/.pgpass``. A server
that asks for no password never sees one, so the first attempt's connection is the one the old
way would have made; a server that asks gets the password the old way would have sent.

The first attempt is skipped (the keyring read first, as before) wherever libpq could find a
password the keyring's would have overridden, or could try another server after a refusal:
``PGPASSWORD`` set, a service file named, several hosts.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from ..safety.passwords import keyring_account, keyring_password

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: a password file that cannot exist (a path under a non-folder): libpq reads none, silently
NO_PASSFILE = os.path.join(os.devnull, "ferry-no-passfile")
#: accounts whose server asked for a password in this process: no first attempt without one
_ASKED: set[str] = set()

T = TypeVar("T")


@dataclass(frozen=True)
class KeyringLater:
    """The keyring's password for ``url``, read only if the server asks for a password
    (``now``: read before connecting, as where libpq may find a password of its own)."""

    url: URL
    now: bool = False

    def first(self, kwargs: dict[str, Any]) -> dict[str, Any] | None:
        """The first attempt's arguments (no password from anywhere), or None when the
        keyring is read first (``now``, or this server asked for a password before)."""
        if self.now or keyring_account(self.url) in _ASKED:
            return None
        return {**kwargs, "passfile": NO_PASSFILE}

    def then(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments the keyring-first way gives: its password, if it holds one."""
        _ASKED.add(keyring_account(self.url))
        password = keyring_password(self.url)
        return {**kwargs, "password": password} if password else kwargs


def keyring_later(url: URL, args: dict[str, Any]) -> KeyringLater | None:
    """None when ``args`` hold a password (from a variable: the keyring is not asked), else
    the keyring's part. It may wait for the server's question unless libpq could find a
    password of its own before the keyring's (``PGPASSWORD``, a service file) or try
    another host after a refusal."""
    if "password" in args:
        return None
    query = {key.lower() for key in url.query}
    now = bool(
        os.environ.get("PGPASSWORD")
        or os.environ.get("PGSERVICE")
        or query & {"service", "host", "hostaddr", "passfile"}
        or "," in (url.host or "")
    )
    return KeyringLater(url, now)


def asked_for_password(exc: BaseException) -> bool:
    """True when a refused connection's server asked for a password libpq did not have."""
    pgconn = getattr(exc, "pgconn", None)
    if pgconn is not None:
        return bool(pgconn.needs_password)
    return "no password supplied" in str(exc)


def connect_sync(
    connect: Callable[..., T], later: KeyringLater | None, *args: Any, **kwargs: Any
) -> T:
    """``connect(*args, **kwargs)``, without the keyring first where ``later`` allows."""
    first = later.first(kwargs) if later else None
    if later is None or first is None:
        return connect(*args, **(later.then(kwargs) if later else kwargs))
    try:
        return connect(*args, **first)
    except psycopg.OperationalError as exc:
        if not asked_for_password(exc):
            raise
    return connect(*args, **later.then(kwargs))


async def connect_async(
    connect: Callable[..., Awaitable[T]], later: KeyringLater | None, *args: Any, **kwargs: Any
) -> T:
    """:func:`connect_sync` for an async ``connect``. The keyring is read in a thread: it
    imports its backends and may ask a daemon, not on the event loop's thread (the wizard's
    GUI thread, which it froze for 130 ms)."""
    first = later.first(kwargs) if later else None
    if later is not None and first is not None:
        try:
            return await connect(*args, **first)
        except psycopg.OperationalError as exc:
            if not asked_for_password(exc):
                raise
    if later is not None:
        kwargs = await asyncio.to_thread(later.then, kwargs)
    return await connect(*args, **kwargs)


__all__ = ["KeyringLater", "asked_for_password", "connect_async", "connect_sync", "keyring_later"]
