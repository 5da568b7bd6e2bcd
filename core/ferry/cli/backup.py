"""``ferry backup``, ``ferry backup verify``, ``ferry backups`` (``prune``) and ``ferry rollback``.

:func:`register` adds them to the main ``ferry`` group. Exit code 8: a backup cannot be made,
is not intact, or a rollback was not proven (a missing or locked source or target exits 4 or 5,
as the other commands do). The helpers of :mod:`ferry.cli.command` are looked up when
a command runs, so ``cli.py`` may import this module wherever it likes.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

# Only ferry.api's own light names at module level: the engine (the backup, the plan's models)
# loads when a command runs, so `ferry --help` stays fast.
from ..api import backup as create_backup
from ..api import rollback, size_text
from ..events import Event, RunWarning, StepStarted
from .common import err, fail, load_plan_file, out, run
from .table import print_table
from .target import target_option


class _BackupGroup(click.Group):
    """``ferry backup PLAN`` makes a backup; ``ferry backup verify DIR`` checks one."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["create", *args]
        return super().parse_args(ctx, args)


def _progress(event: Event) -> None:
    if isinstance(event, StepStarted) and event.detail:
        err.print(f"[dim]- {escape(event.detail)}[/]", soft_wrap=True)
    elif isinstance(event, RunWarning):
        err.print(f"[yellow]warning:[/] {escape(event.message)}", soft_wrap=True)


_TRUST_UNSIGNED = click.option(
    "--trust-unsigned",
    is_flag=True,
    help="Accept a backup that is not signed (older Ferry) or is signed with a key this user "
    "does not have; a signature that does not verify is refused all the same.",
)


def register(cli: click.Group) -> None:
    """Add the backup and rollback commands to ``cli``."""
    cli.add_command(backup)
    cli.add_command(backups)
    cli.add_command(rollback_command)


@click.group(cls=_BackupGroup, no_args_is_help=True, subcommand_metavar="PLAN | verify BACKUP_DIR")
def backup() -> None:
    """Back up a plan's source files and target (`ferry backup PLAN`), or check a backup
    (`ferry backup verify BACKUP_DIR`)."""


@backup.command(name="create")
@click.argument("plan_file", metavar="PLAN")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@target_option
def backup_create(plan_file: str, quiet: bool, target_override: str | None) -> None:
    """Copy every source file and the target into the plan's backup folder."""
    plan = load_plan_file(plan_file, target_override)
    emit = (lambda _event: None) if quiet else _progress
    made = run(lambda cancel: create_backup(plan, emit=emit, cancel=cancel))
    target = made.manifest.get("target", {})
    out.print(f"[green]Backup {escape(made.id)}[/]")
    out.print(f"folder: {escape(str(made.path))}", soft_wrap=True)
    out.print(f"size:   {size_text(made.total_bytes)} ({made.total_bytes:,} bytes)")
    out.print(f"files:  {made.files}")
    if target.get("method"):
        note = f" ({target['method_note']})" if target.get("method_note") else ""
        out.print(f"method: {escape(str(target['method']))}{escape(note)}")
    for item in made.manifest["items"]:
        out.print(f"  {escape(_describe_item(item))}", soft_wrap=True)


def _describe_item(item: dict[str, Any]) -> str:
    what = item.get("original") or f"table {item.get('table')}"
    if item.get("state") == "absent":
        return f"{item['role']} {what}: absent (rollback removes it)"
    extra = f", {item['rows']} rows" if "rows" in item else ""
    return f"{item['role']} {what} -> {item['stored']} ({size_text(int(item['size']))}{extra})"


@backup.command(name="verify")
@click.argument("backup_dir", metavar="BACKUP_DIR")
@click.option(
    "--plan",
    "plan_file",
    metavar="PLAN",
    help="Also check that the backup is of this plan's target and sources.",
)
@_TRUST_UNSIGNED
def backup_verify(backup_dir: str, plan_file: str | None, trust_unsigned: bool) -> None:
    """Re-read every file of a backup and compare it with the manifest and the manifest with
    its signature (exit 8 if not intact)."""
    from ..api import BackupError, outside_plan, verify_backup

    check = verify_backup(backup_dir, trust_unsigned=trust_unsigned)
    if plan_file is not None and check.manifest is not None:
        check.problems += outside_plan(load_plan_file(plan_file), check.manifest)
    for warning in check.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if check.ok:
        signed = check.signature is not None and check.signature.valid
        out.print(
            f"[green]intact:[/] backup {escape(check.id)}, {check.checked} files, "
            f"{size_text(check.total_bytes)}; sizes and SHA-256 match the manifest"
            + (f", signed by key {check.signature.key_id}" if signed and check.signature else "")
        )
        return
    err.print(f"[bold red]not intact:[/] {escape(str(check.path))}", soft_wrap=True)
    for problem in check.problems:
        err.print(f"  {escape(problem)}", soft_wrap=True)
    err.print("[bold]hint:[/] do not roll back to this backup; use another one.")
    sys.exit(BackupError.exit_code)


class _BackupsGroup(click.Group):
    """``ferry backups PLAN`` lists them; ``ferry backups prune PLAN --keep N`` prunes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group(
    name="backups", cls=_BackupsGroup, no_args_is_help=True, subcommand_metavar="PLAN | prune PLAN"
)
def backups() -> None:
    """List a plan's backups (`ferry backups PLAN`), or delete all but the newest N
    (`ferry backups prune PLAN --keep N [--dry-run]`)."""


@backups.command(name="prune")
@click.argument("plan_file", metavar="PLAN")
@click.option("--keep", type=int, required=True, metavar="N", help="How many to keep (newest).")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@target_option
def backups_prune(plan_file: str, keep: int, dry_run: bool, target_override: str | None) -> None:
    """Delete all but the newest N backups of the plan's target. Only folders whose signed
    manifest names this plan's target are deleted; any other is listed as skipped, with why."""
    from ..api import BackupError, backup_root, prune_backups

    plan = load_plan_file(plan_file, target_override)
    try:
        entries = prune_backups(plan, keep, dry_run=dry_run)
    except OSError as exc:
        raise BackupError(
            f"cannot delete a backup in {backup_root(plan)}: {exc.strerror or exc}",
            hint="Check the backup folder's permissions; the backups listed as kept are intact.",
        ) from None
    if not entries:
        out.print(f"No backups in {escape(str(backup_root(plan)))}", soft_wrap=True)
        return
    verb = "would delete" if dry_run else "deleted"
    words = {"keep": "keep", "delete": verb, "skip": "skipped"}
    for entry in entries:
        why = f" — {entry.reason}" if entry.reason else ""
        out.print(
            f"{words[entry.action]:<12} {escape(entry.id)}  {size_text(entry.size):>9}"
            f"{escape(why)}",
            soft_wrap=True,
        )
    gone = [e for e in entries if e.action == "delete"]
    freed = size_text(sum(e.size for e in gone))
    kept = sum(1 for e in entries if e.action == "keep")
    if dry_run:
        out.print(f"Dry run: {len(gone)} backups ({freed}) would be deleted, {kept} kept.")
    else:
        out.print(f"{len(gone)} backups deleted ({freed} freed), {kept} kept.")


@backups.command(name="list")
@click.argument("plan_file", metavar="PLAN")
def backups_list(plan_file: str) -> None:
    """List the plan's complete backups, newest first."""
    from ..api import backup_root, list_backups

    plan = load_plan_file(plan_file)
    found = list_backups(plan)
    if not found:
        out.print(f"No backups in {escape(str(backup_root(plan)))}", soft_wrap=True)
        return
    table = Table(title=f"backups of {escape(plan.name)} in {escape(str(backup_root(plan)))}")
    for column in ("id", "created", "target", "files", "size"):
        table.add_column(
            column, no_wrap=True, justify="right" if column in "files size" else "left"
        )
    for item in found:
        target = item.manifest.get("target", {})
        method = f" ({target['method']})" if target.get("method") else ""
        table.add_row(
            escape(item.id),
            escape(item.created_at[:19].replace("T", " ")),
            escape(f"{target.get('kind', '?')}{method}"),
            str(item.files),
            size_text(item.total_bytes),
        )
    print_table(out, table)


@click.command(name="rollback")
@click.argument("plan_file", metavar="PLAN")
@click.option("--backup", "backup_id", metavar="ID", help="The backup to use (default: newest).")
@click.option("--sources", is_flag=True, help="Also put the source files back.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_TRUST_UNSIGNED
@target_option
def rollback_command(
    plan_file: str,
    backup_id: str | None,
    sources: bool,
    yes: bool,
    trust_unsigned: bool,
    target_override: str | None,
) -> None:
    """Bring the target (and with --sources the source files) back to a backup."""
    from ..api import BackupError, find_backup

    plan = load_plan_file(plan_file, target_override)
    if not yes:
        try:
            folder = find_backup(plan, backup_id)
        except BackupError as exc:
            fail(exc)
            raise
        what = "the target and the source files" if sources else "the target"
        click.confirm(
            f"Replace {what} of plan {plan.name!r} with backup {folder.name}? "
            "Everything written since that backup is lost",
            abort=True,
            err=True,
        )
    result = run(
        lambda cancel: rollback(
            plan,
            backup_id=backup_id,
            restore_sources=sources,
            emit=_progress,
            cancel=cancel,
            trust_unsigned=trust_unsigned,
        )
    )
    out.print(f"[green]Rolled back[/] {escape(result.target)} to backup {escape(result.backup_id)}")
    for line in result.restored + result.sources:
        out.print(f"  restored: {escape(line)}", soft_wrap=True)
    for line in result.renamed:
        out.print(f"  renamed back: {escape(line)}", soft_wrap=True)
    for line in result.proof:
        out.print(f"  proof: {escape(line)}", soft_wrap=True)
    if result.rolled_back_runs:
        out.print(f"  rolled back runs: {escape(', '.join(result.rolled_back_runs))}")
    if result.run_id:
        out.print(f"Rollback journaled as run {escape(result.run_id)}; `ferry runs` lists it.")
    if result.report_path:
        out.print(f"Report: {escape(result.report_path)}", soft_wrap=True)
