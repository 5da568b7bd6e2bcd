"""``ferry profiles list|add|remove``: named connections an operator reuses with
``--target NAME`` (see :mod:`ferry.profiles`). A profile never holds a password."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from ..errors import FerryError
from .common import fail, out
from .table import print_table

_SSLMODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def register(cli: click.Group) -> None:
    """Add ``profiles`` to ``cli``."""
    cli.add_command(profiles)


@click.group(no_args_is_help=True)
def profiles() -> None:
    """Saved connections (no passwords) for `--target NAME` and the wizard's Connect page."""


@profiles.command(name="list")
def profiles_list() -> None:
    """List the saved connection profiles."""
    from ..api import load_profiles, profiles_path  # the profiles' models load on use

    try:
        found = load_profiles()
    except FerryError as exc:
        fail(exc)
        raise
    if not found:
        out.print(
            f"No connection profiles in {escape(str(profiles_path()))}: "
            "add one with `ferry profiles add NAME URL`.",
            soft_wrap=True,
        )
        return
    table = Table("name", "url", "schema", "sslmode")
    for profile in found.values():
        table.add_row(
            escape(profile.name),
            escape(profile.url),
            escape(profile.pg_schema or ""),
            escape(profile.sslmode or "prefer (libpq's default)"),
        )
    print_table(out, table)


@profiles.command(name="add")
@click.argument("name")
@click.argument("url")
@click.option("--pg-schema", help="PostgreSQL schema the plan's tables go into.")
@click.option("--sslmode", type=click.Choice(_SSLMODES), help="TLS mode (libpq's default: prefer).")
def profiles_add(name: str, url: str, pg_schema: str | None, sslmode: str | None) -> None:
    """Save (or replace) profile NAME for URL (a URL without password)."""
    from ..api import make_profile, save_profile

    try:
        path = save_profile(make_profile(name, url, pg_schema, sslmode))
    except FerryError as exc:
        fail(exc)
        raise
    out.print(f"Saved profile {escape(name)} in {escape(str(path))}", soft_wrap=True)


@profiles.command(name="remove")
@click.argument("name")
def profiles_remove(name: str) -> None:
    """Delete profile NAME."""
    from ..api import delete_profile

    try:
        removed = delete_profile(name)
    except FerryError as exc:
        fail(exc)
        raise
    if not removed:
        fail(
            FerryError(
                f"no connection profile is named {name!r}",
                hint="`ferry profiles list` shows the saved ones.",
            )
        )
    out.print(f"Removed profile {escape(name)}.")
