"""``ferry verify-report FILE`` and ``ferry key show|export|import``: proving a report
unaltered, and carrying the signing key to another machine (see :mod:`ferry.safety.signing`).

Exit code 8: a report is not proven (changed, unsigned, or signed with a key this user lacks).
"""

from __future__ import annotations

import sys
from typing import TextIO

import click
from rich.markup import escape

from ..api import SigningError, config_dir, import_key, own_key
from .common import err, fail, out


def register(cli: click.Group) -> None:
    """Add ``verify-report`` and ``key`` to ``cli``."""
    cli.add_command(verify_report_command)
    cli.add_command(key)


@click.command(name="verify-report")
@click.argument("report_file", metavar="FILE")
def verify_report_command(report_file: str) -> None:
    """Prove a report (its JSON, or its HTML page beside the JSON) unaltered since Ferry wrote
    it: exit 0 when intact, 8 naming what changed."""
    from ..api import verify_report  # the report's reader loads the engine: on use only

    proof = verify_report(report_file)
    if proof.ok:
        out.print(
            f"[green]intact[/], signed by key {escape(proof.key_id)} ({escape(proof.key_where)})",
            soft_wrap=True,
        )
        for line in proof.checked:
            out.print(f"  checked: {escape(line)}", soft_wrap=True)
        for line in proof.notes:
            out.print(f"  not checked: {escape(line)}", soft_wrap=True)
        return
    err.print(f"[bold red]not proven:[/] {escape(str(proof.json_path))}", soft_wrap=True)
    for problem in proof.problems:
        err.print(f"  {escape(problem)}", soft_wrap=True)
    sys.exit(SigningError.exit_code)


@click.group(name="key", no_args_is_help=True)
def key() -> None:
    """The key that signs backups and reports (show it, carry it to another machine)."""


@key.command(name="show")
def key_show() -> None:
    """Print the signing key's id and where it is kept (never the key)."""
    try:
        found = own_key()
    except SigningError as exc:
        fail(exc)
        raise
    if found is None:
        out.print(
            f"no signing key yet (the first backup or report makes one); "
            f"config folder: {escape(str(config_dir()))}",
            soft_wrap=True,
        )
        return
    out.print(f"key {found.id} in {escape(found.where)}", soft_wrap=True)


@key.command(name="export")
def key_export() -> None:
    """Print the signing key (hex) to standard output, to import on another machine. Whoever
    has it can sign backups and reports as you: keep the copy private."""
    try:
        found = own_key()
    except SigningError as exc:
        fail(exc)
        raise
    if found is None:
        fail(SigningError("there is no signing key yet to export"))
        return
    err.print(f"key {found.id}: keep this text private", soft_wrap=True)
    click.echo(found.secret.hex())


@key.command(name="import")
@click.argument("key_file", metavar="FILE", type=click.File("r"))
def key_import(key_file: TextIO) -> None:
    """Trust a key exported on another machine (FILE, or - for standard input): backups and
    reports it signed then verify here. Your own key is unchanged."""
    try:
        added = import_key(key_file.read(4096))
    except SigningError as exc:
        fail(exc)
        raise
    out.print(f"imported key {added.id} into {escape(added.where)}", soft_wrap=True)
