"""Where passwords come from. Never from the plan: from an environment variable, the OS keyring,
or libpq's own ``~/.pgpass`` / ``PGPASSWORD`` (used when Ferry passes no password at all)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:  # the log's filter masks with this module: no SQLAlchemy for `ferry --help`
    from sqlalchemy.engine import URL

KEYRING_SERVICE = "ferry"
DEFAULT_PASSWORD_ENV = "FERRY_PASSWORD"

#: query keys that hand libpq (or a driver) a password; compared lower-cased, percent-decoded
_PASSWORD_KEYS = frozenset({"password", "pgpassword", "passwd", "pwd"})
#: a password set inside another value: ``options=-c password=…``, a conninfo in ``dbname``
_PASSWORD_SETTING = re.compile(r"(?:password|passwd|pwd)\s*=", re.IGNORECASE)
#: ``scheme://user:password@`` found in text that does not parse as a URL
_USERINFO_PASSWORD = re.compile(r"://[^\s:/@]*:[^\s/]+@")
#: ``password=value`` (any spelling above) anywhere in a text: a query, a conninfo, an option
_PASSWORD_VALUE = re.compile(
    r"(?P<head>\b(?:pg)?(?:password|passwd|pwd)(?:\s*=\s*|%3D))(?P<value>[^\s&;,'\"]+)",
    re.IGNORECASE,
)
#: passwords this process resolved (a variable, the keyring): masked wherever they show up
_RESOLVED: set[str] = set()
#: where to keep a password instead (the hint of every refusal)
PASSWORD_HINT = (
    "set FERRY_PASSWORD (or the variable named by password_env), use `ferry password set URL` "
    "(the OS keyring), or ~/.pgpass"
)


def password_spellings(url: str) -> list[str]:
    """Where ``url`` carries a password, each place named without its value (``user:…@host``,
    ``?password=``, ``?options=``); empty when it carries none. Every spelling libpq or a driver
    would read counts: the userinfo, a query key in any case or percent-encoding, and a
    ``password=`` setting inside another query value."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        userinfo_password = parts.password
    except ValueError:  # e.g. an unbalanced IPv6 bracket: judge the text as a whole
        hidden = _PASSWORD_SETTING.search(text) or _USERINFO_PASSWORD.search(text)
        return ["the password in the URL"] if hidden else []
    found: list[str] = []
    if userinfo_password:
        found.append("the password after 'user:' in 'user:…@host'")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        name = key.strip().lower()
        if name in _PASSWORD_KEYS:
            found.append(f"the query's {name!r}")
        elif _PASSWORD_SETTING.search(value):
            found.append(f"the password setting in the query's {name!r}")
    if not parts.scheme and not found and _PASSWORD_SETTING.search(text):
        found.append("the 'password=' setting")  # a keyword/value conninfo, not a URL
    return found


def mask_passwords(text: str) -> str:
    """``text`` with every ``password=`` value and every password this process resolved
    replaced by ``***`` (the log's filter; URLs' ``user:pw@`` are masked by
    :func:`scrub_text`)."""
    text = _PASSWORD_VALUE.sub(lambda m: f"{m['head']}***", text)
    for secret in sorted(_RESOLVED, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def refuse_password(url: str) -> None:
    """Raise ValueError (naming where, never the value, with the hint) when ``url`` holds a
    password in any spelling: plans, ``--target`` and the wizard never keep one."""
    found = password_spellings(url)
    if found:
        raise ValueError(
            "the URL holds a password; plans never store secrets. "
            f"Remove {' and '.join(dict.fromkeys(found))} and {PASSWORD_HINT}"
        )


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
    return env_password(password_env) or keyring_password(url)


def env_password(password_env: str | None = None) -> str | None:
    """The password in the named variable or ``FERRY_PASSWORD``, else None: the first two
    places :func:`resolve_password` looks (no keyring)."""
    for name in (password_env, DEFAULT_PASSWORD_ENV):
        if name and os.environ.get(name):
            _RESOLVED.add(os.environ[name])
            return os.environ[name]
    return None


def keyring_password(url: URL) -> str | None:
    """:func:`password_from_keyring`, the value masked from then on."""
    found = password_from_keyring(url)
    if found:
        _RESOLVED.add(found)
    return found


# scheme://user:password@host — the password may itself hold '@' (unencoded), never '/'
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^\s:/@]*):(?P<pw>[^\s/@]*(?:@[^\s/@]*)*)@",
    re.IGNORECASE,
)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|passwd|pwd)=)[^&\s#]*", re.IGNORECASE)
_MASK = "***"


def scrub_text(text: str) -> str:
    """``text`` with passwords in URLs (``user:pw@host``, ``?password=``) masked."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{_MASK}@", text)
    return _QUERY_PASSWORD.sub(lambda m: f"{m['head']}{_MASK}", text)
