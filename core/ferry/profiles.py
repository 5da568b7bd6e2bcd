"""Named connection profiles: a target an operator reuses across plans (staging, production).

They live in ``connections.toml`` in Ferry's config folder (``FERRY_CONFIG_DIR``, else the
user's config folder, :func:`ferry.safety.signing.config_dir`), one table per profile::

    [connections.staging]
    url = "postgresql://app@staging.example:5432/app"
    pg_schema = "sales"
    sslmode = "require"

A profile never holds a password (refused on save and on load, like a plan's URL): the
password comes from ``FERRY_PASSWORD``, the OS keyring or ``~/.pgpass``. The file is written
atomically and readable by its owner only. ``ferry profiles`` manages them; ``--target NAME``
and the wizard's Connect page use them.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import ValidationError

from .errors import PlanError
from .plan import Plan, TargetSpec
from .safety.signing import config_dir

#: the profiles file's name in Ferry's config folder
PROFILES_FILE = "connections.toml"


@dataclass(frozen=True)
class Profile:
    """One saved connection: a name, a URL without password, a schema and TLS mode."""

    name: str
    url: str
    pg_schema: str | None = None
    sslmode: str | None = None

    def target(self, base: TargetSpec | None = None) -> TargetSpec:
        """``base`` (a plan's target) pointed at this connection: its URL, and its schema and
        SSL mode where it names them; ``base``'s other settings kept."""
        data = base.model_dump(by_alias=True, exclude_none=True) if base is not None else {}
        data["url"] = self.url
        if self.url.startswith("sqlite"):
            data.pop("pg_schema", None)  # a SQLite file has no schemas
        if self.pg_schema:
            data["pg_schema"] = self.pg_schema
        if self.sslmode:
            data["sslmode"] = self.sslmode
        return TargetSpec.model_validate(data)


def profiles_path() -> Path:
    """Where the profiles are kept."""
    return config_dir() / PROFILES_FILE


def _problem(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


def make_profile(
    name: str, url: str, pg_schema: str | None = None, sslmode: str | None = None
) -> Profile:
    """A checked profile: a name, a target URL (no password in any spelling), a schema and
    an SSL mode a plan's ``[target]`` would take; PlanError naming what is wrong."""
    name = name.strip()
    if not name or "://" in name or any(ord(c) < 32 for c in name):
        raise PlanError(
            f"{name!r} is not a profile name",
            hint="Name it with a word such as staging or production (no URL, no control "
            "characters).",
        )
    try:
        TargetSpec(url=url, pg_schema=pg_schema or None, sslmode=sslmode or None)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise PlanError(f"connection profile {name!r}: {_problem(exc)}") from None
    return Profile(name, url, pg_schema or None, sslmode or None)


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """The saved profiles by name (none when the file does not exist); PlanError naming the
    file when it cannot be read or a profile in it is not valid."""
    path = path or profiles_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(
            f"cannot read the connection profiles file {path}: {exc}",
            hint="Fix its permissions or encoding (UTF-8), or delete it to start afresh.",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(
            f"the connection profiles file {path} is not valid TOML: {exc}",
            hint="Fix it by hand, or delete it and save the profiles again.",
        ) from None
    table = data.get("connections", {})
    if not isinstance(table, dict):
        raise PlanError(
            f"the connection profiles file {path}: 'connections' is not a table",
            hint="Each profile is a [connections.NAME] table with url = ...",
        )
    found: dict[str, Profile] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise PlanError(
                f"the connection profiles file {path}: profile {name!r} has no url",
                hint=f'Give it one: [connections.{name}] url = "postgresql://user@host/db".',
            )
        try:
            found[name] = make_profile(
                name, entry["url"], entry.get("pg_schema"), entry.get("sslmode")
            )
        except PlanError as exc:
            raise PlanError(f"{path}: {exc.message}", hint=exc.hint) from None
    return found


def _write(path: Path, text: str) -> None:
    """Write atomically (temp file, fsync, rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _document(path: Path) -> Any:
    load_profiles(path)  # refuses a broken file before it is rewritten
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return tomlkit.document()


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Add or replace ``profile`` (checked again: no password); comments in the file kept."""
    path = path or profiles_path()
    checked = make_profile(profile.name, profile.url, profile.pg_schema, profile.sslmode)
    doc = _document(path)
    if "connections" not in doc:
        doc["connections"] = tomlkit.table(is_super_table=True)
    entry = tomlkit.table()
    entry["url"] = checked.url
    if checked.pg_schema:
        entry["pg_schema"] = checked.pg_schema
    if checked.sslmode:
        entry["sslmode"] = checked.sslmode
    doc["connections"][checked.name] = entry
    _write(path, tomlkit.dumps(doc))
    return path


def delete_profile(name: str, path: Path | None = None) -> bool:
    """Remove profile ``name``; False when there is none by that name."""
    path = path or profiles_path()
    doc = _document(path)
    connections = doc.get("connections")
    if connections is None or name not in connections:
        return False
    del connections[name]
    _write(path, tomlkit.dumps(doc))
    return True


def target_for(value: str, base: TargetSpec | None = None) -> TargetSpec:
    """The target ``--target VALUE`` names: a saved profile's name, else a URL (checked like
    a plan's: a scheme Ferry writes to, no password). ``base``'s other settings are kept."""
    if "://" not in value:
        profiles = load_profiles()
        if value in profiles:
            return profiles[value].target(base)
        known = ", ".join(sorted(profiles)) or "none saved yet"
        raise PlanError(
            f"--target {value!r} is neither a database URL nor a saved connection profile "
            f"(profiles: {known})",
            hint="Give a URL such as postgresql://user@host:5432/db, or save one with "
            "`ferry profiles add NAME URL`.",
        )
    try:
        return Profile("--target", value).target(base)
    except ValidationError as exc:
        raise PlanError(f"--target: {_problem(exc)}") from None


def override_target(plan: Plan, value: str) -> Plan:
    """``plan`` with its target replaced for this run (the plan file is not touched): the
    URL, schema and SSL mode of ``value`` (see :func:`target_for`), the plan's other
    ``[target]`` settings (schema.sql, timeouts, password_env) kept."""
    plan.target = target_for(value, plan.target)
    return plan
