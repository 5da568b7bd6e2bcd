"""Signing backups' manifests and run reports with a per-user key kept out of the backup.

A manifest's SHA-256 list proves the stored files match it, but nothing proved the manifest
itself: a file replaced together with its hash was accepted. Ferry now signs every manifest
and report with HMAC-SHA256 over a canonical JSON form (sorted keys, no spaces, UTF-8) under a
32-byte key that belongs to the user, not to the backup:

- with ``FERRY_CONFIG_DIR`` set: the file ``signing.key`` (0600) in that folder, never the
  keyring (tests, portable installs, one key shared on purpose);
- else the OS keyring (service ``ferry``, entry ``signing-key``) when there is one;
- else ``signing.key`` (0600) in the user's config folder (``$XDG_CONFIG_HOME/ferry``,
  ``~/.config/ferry``; ``%APPDATA%\\ferry`` on Windows).

Keys of other machines, imported with ``ferry key import``, are files ``keys/<id>.key`` in
that config folder: a backup or report signed by one of them verifies here too. A key's id is
the first 8 hex digits of its SHA-256; the signature names it, so a missing key is told as
such ("signed with key 1a2b3c4d that this user does not have") rather than as tampering.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FerryError

#: the environment variable naming Ferry's config folder (the signing key lives there)
CONFIG_DIR_ENV = "FERRY_CONFIG_DIR"
KEY_FILE = "signing.key"
KEYRING_ENTRY = "signing-key"
ALGORITHM = "HMAC-SHA256"
SIGNATURE_FIELD = "signature"
#: how to bring a key from the machine that signed to this one (every refusal's hint)
COPY_HINT = (
    "copy the key: run `ferry key export > ferry-key.txt` on the machine that wrote it, then "
    "`ferry key import ferry-key.txt` here"
)


class SigningError(FerryError):
    """The signing key cannot be read or kept."""

    exit_code = 8


@dataclass(frozen=True)
class SigningKey:
    """A key and where it is kept."""

    secret: bytes
    where: str

    @property
    def id(self) -> str:
        """The first 8 hex digits of the key's SHA-256 (names the key, reveals nothing)."""
        return key_id(self.secret)


def key_id(secret: bytes) -> str:
    """The id of a key: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(secret).hexdigest()[:8]


def config_dir() -> Path:
    """Ferry's config folder: ``FERRY_CONFIG_DIR``, else the platform's user config folder."""
    chosen = os.environ.get(CONFIG_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser()
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "ferry"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ferry"


def canonical(data: Any) -> bytes:
    """The bytes a signature covers: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _uses_keyring() -> bool:
    if os.environ.get(CONFIG_DIR_ENV):
        return False
    from .passwords import keyring_status

    return keyring_status() is None


def _parse(text: str, where: str) -> bytes:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        raise SigningError(
            f"the signing key in {where} is not a hex key",
            hint="Restore it from a copy (`ferry key import FILE`), or move it away: Ferry then "
            "makes a new key, and backups signed with the old one need --trust-unsigned.",
        ) from None
    if len(secret) < 16:
        raise SigningError(f"the signing key in {where} is too short ({len(secret)} bytes)")
    return secret


def _read_file(path: Path) -> bytes | None:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc}") from None
    return _parse(text, str(path))


def _write_private(path: Path, secret: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


def own_key(create: bool = False) -> SigningKey | None:
    """This user's key (made, and kept, when ``create`` and there is none yet), or None."""
    if _uses_keyring():
        import keyring

        from .passwords import KEYRING_SERVICE

        try:
            stored = keyring.get_password(KEYRING_SERVICE, KEYRING_ENTRY)
            where = f"the OS keyring ({KEYRING_SERVICE}/{KEYRING_ENTRY})"
            if stored:
                return SigningKey(_parse(stored, where), where)
            if create:
                secret = secrets.token_bytes(32)
                keyring.set_password(KEYRING_SERVICE, KEYRING_ENTRY, secret.hex())
                return SigningKey(secret, where)
            return None
        except SigningError:
            raise
        except Exception:  # a locked or broken keyring: the file below still works
            pass
    path = config_dir() / KEY_FILE
    kept = _read_file(path)
    if kept is None and create:
        kept = secrets.token_bytes(32)
        try:
            _write_private(path, kept)
        except FileExistsError:  # another Ferry made it first: use theirs
            kept = _read_file(path)
        except OSError as exc:
            raise SigningError(
                f"cannot keep the signing key in {path}: {exc.strerror or exc}",
                hint=f"Set {CONFIG_DIR_ENV} to a writable folder of your own.",
            ) from None
    return SigningKey(kept, str(path)) if kept is not None else None


def trusted_keys() -> dict[str, SigningKey]:
    """Every key this user verifies with, by id: their own and the imported ones."""
    found: dict[str, SigningKey] = {}
    folder = config_dir() / "keys"
    if folder.is_dir():
        for path in sorted(folder.glob("*.key")):
            with contextlib.suppress(SigningError):
                secret = _read_file(path)
                if secret is not None:
                    found[key_id(secret)] = SigningKey(secret, str(path))
    own = own_key()
    if own is not None:
        found[own.id] = own
    return found


def import_key(text: str) -> SigningKey:
    """Keep another machine's key (hex) as ``keys/<id>.key``; returns it."""
    secret = _parse(text, "the imported text")
    path = config_dir() / "keys" / f"{key_id(secret)}.key"
    if not path.exists():
        _write_private(path, secret)
    return SigningKey(secret, str(path))


def _mac(secret: bytes, body: Any) -> str:
    return hmac.new(secret, canonical(body), hashlib.sha256).hexdigest()


def sign(data: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``data`` with a ``signature`` entry (algorithm, key id, ``extra`` fields, value) over
    its canonical form; the user's key is made on first use."""
    key = own_key(create=True)
    assert key is not None
    block: dict[str, Any] = {"algorithm": ALGORITHM, "key_id": key.id, **(extra or {})}
    body = {k: v for k, v in data.items() if k != SIGNATURE_FIELD}
    block["value"] = _mac(key.secret, {**body, SIGNATURE_FIELD: block})
    return {**body, SIGNATURE_FIELD: block}


@dataclass(frozen=True)
class SignatureCheck:
    """What :func:`check_signature` found. ``state`` is ``valid``, ``unsigned``,
    ``unknown-key`` or ``invalid``."""

    state: str
    key_id: str = ""
    where: str = ""

    @property
    def valid(self) -> bool:
        """True when the signature verifies under one of this user's keys."""
        return self.state == "valid"

    def short(self, what: str) -> str:
        """The problem without the advice (for a warning once it was accepted)."""
        if self.state == "unsigned":
            return f"{what} is not signed"
        if self.state == "unknown-key":
            return f"{what} is signed with key {self.key_id} that this user does not have"
        return self.problem(what)

    def problem(self, what: str) -> str:
        """One line saying why ``what`` is not proven (empty when it is)."""
        if self.state == "valid":
            return ""
        if self.state == "unsigned":
            return (
                f"{what} is not signed (written by an older Ferry, or its signature was "
                "removed): use --trust-unsigned to accept it knowingly"
            )
        if self.state == "unknown-key":
            return (
                f"{what} is signed with key {self.key_id} that this user does not have: "
                f"{COPY_HINT}, or use --trust-unsigned to accept it knowingly"
            )
        return f"{what} was changed after Ferry wrote it (its signature does not verify)"


def check_signature(data: dict[str, Any]) -> SignatureCheck:
    """Verify ``data``'s ``signature`` entry against this user's keys."""
    block = data.get(SIGNATURE_FIELD)
    if block is None:
        return SignatureCheck("unsigned")
    if not isinstance(block, dict) or not isinstance(block.get("value"), str):
        return SignatureCheck("invalid")
    key_name = str(block.get("key_id", ""))
    if block.get("algorithm") != ALGORITHM:
        return SignatureCheck("invalid", key_name)
    key = trusted_keys().get(key_name)
    if key is None:
        return SignatureCheck("unknown-key", key_name)
    unsigned = {k: v for k, v in block.items() if k != "value"}
    body = {k: v for k, v in data.items() if k != SIGNATURE_FIELD}
    expected = _mac(key.secret, {**body, SIGNATURE_FIELD: unsigned})
    if hmac.compare_digest(expected, str(block["value"])):
        return SignatureCheck("valid", key_name, key.where)
    return SignatureCheck("invalid", key_name)
