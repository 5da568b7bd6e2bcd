"""Where passwords come from. Never from the plan: from an environment variable, the OS keyring,
or libpq's own ``~/.pgpass`` / ``PGPASSWORD`` (used when Ferry passes no password at all)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL

KEYRING_SERVICE = "ferry"
DEFAULT_PASSWORD_ENV = "FERRY_PASSWORD"


def keyring_account(url: URL) -> str:
    """The keyring entry name for a database: ``user@host:port/database``."""
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def keyring_status() -> str | None:
    """None when a usable OS keyring exists, else why not (headless Linux has none)."""
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring install must not stop a migration
        return f"the keyring cannot be loaded ({exc})"
    if isinstance(backend, fail.Keyring) or "fail" in type(backend).__module__:
        return "no OS keyring is available on this machine"
    if type(backend).__module__.startswith("keyrings.alt") and not _chosen_backend():
        # keyrings.alt (e.g. a plaintext file) is no OS keyring: used only when chosen.
        return "no OS keyring is available on this machine"
    return None


def _chosen_backend() -> bool:
    """True when PYTHON_KEYRING_BACKEND or keyringrc.cfg names the keyring backend."""
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    try:
        from keyring.util import platform_

        config = Path(platform_.config_root()) / "keyringrc.cfg"
        return "default-keyring" in config.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ImportError):
        return False


def password_from_keyring(url: URL) -> str | None:
    """The stored password for ``url``, or None (no keyring, no entry, or an error)."""
    if keyring_status() is not None:
        return None
    try:
        import keyring

        value: str | None = keyring.get_password(KEYRING_SERVICE, keyring_account(url))
    except Exception:  # locked or misbehaving keyrings fall through to ~/.pgpass
        return None
    return value


def store_password(url: URL, password: str) -> None:
    """Save a password in the OS keyring; raises RuntimeError when there is none."""
    problem = keyring_status()
    if problem is not None:
        raise RuntimeError(problem)
    import keyring

    keyring.set_password(KEYRING_SERVICE, keyring_account(url), password)


def resolve_password(url: URL, password_env: str | None = None) -> str | None:
    """The password for ``url``: the named variable, ``FERRY_PASSWORD``, the keyring, else None
    (libpq then reads ``PGPASSWORD`` or ``~/.pgpass``)."""
    for name in (password_env, DEFAULT_PASSWORD_ENV):
        if name and os.environ.get(name):
            return os.environ[name]
    return password_from_keyring(url)
