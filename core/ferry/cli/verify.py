"""``ferry verify PLAN [--json]``: compare the sources (after the plan's transforms) with the
target and print a table per table spec, the assertions and a verdict.

Exit codes: 0 PASS; 7 FAIL (a difference, a missing row, an orphan or a failing assertion);
otherwise the usual ones of ``ferry`` (3 invalid plan, 4 source, 5 target, 130 cancelled).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click
from rich import box
from rich.markup import escape
from rich.table import Table

from .common import ProgressView, load_plan_file, out, run
from .table import print_table
from .target import target_option

if TYPE_CHECKING:
    from rich.console import Console

    from ..api import VerifyResult
    from ..events import Event

#: exit code of a verification that ran and found the target does not match
EXIT_FAIL = 7
_MAX_PROBLEMS_SHOWN = 10


def register(cli: click.Group) -> None:
    """Add ``verify`` to the ``ferry`` command group."""
    cli.add_command(verify_command)


def _badge(verdict: str) -> str:
    return "[bold green]PASS[/]" if verdict == "PASS" else "[bold red]FAIL[/]"


@click.command(name="verify")
@click.argument("plan_file", metavar="PLAN")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@target_option
def verify_command(plan_file: str, as_json: bool, target_override: str | None) -> None:
    """Compare the sources, after the plan's transforms, with the target (read only).

    Exit code 0 on PASS, 7 on FAIL.
    """
    from ..api import verify
    from ..events import RunWarning

    class _View(ProgressView):
        """Progress bars only: warnings are listed with the result."""

        def __call__(self, event: Event) -> None:
            if not isinstance(event, RunWarning):
                super().__call__(event)

    plan = load_plan_file(plan_file, target_override)
    view = _View(as_json)
    with view.progress:
        result = run(lambda cancel: verify(plan, emit=view, cancel=cancel))
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
    else:
        print_result(result, out)
        if result.report_path:
            out.print(f"Report: {escape(result.report_path)}")
    if result.passed:
        # The seeds' own habit: after a verified run the legacy files become NAME.migrated
        # (plan switch [backup] rename_migrated); rollback gives them their names back.
        from ..api import mark_migrated

        for old, new in mark_migrated(plan):
            if not as_json:
                out.print(f"renamed {escape(str(old))} -> {escape(str(new))}")
    sys.exit(0 if result.passed else EXIT_FAIL)


def print_result(result: VerifyResult, console: Console) -> None:
    """The result as tables and a verdict line."""
    if result.tables:
        table = Table(
            title=f"verification of {escape(result.plan_name)}",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            caption="differ: rows that differ; sum: checksum of the compared rows",
        )
        table.add_column("table", overflow="fold")
        for name in (
            "expected",
            "target",
            "match",
            "differ",
            "missing",
            "extra",
            "reject",
            "kept",
            "orphan",
        ):
            table.add_column(name, justify="right", no_wrap=True)
        table.add_column("sum", no_wrap=True)
        table.add_column("verdict", no_wrap=True)
        for check in result.tables:
            label = escape(check.name)
            if check.source != check.name:
                label += f" [dim]← {escape(check.source)}[/]"
            table.add_row(
                label,
                str(check.expected_rows),
                str(check.target_rows),
                str(check.matched),
                _alert(check.mismatched),
                _alert(check.missing),
                str(check.extra),
                str(check.rejected),
                str(check.kept),
                _alert(check.orphans),
                _badge(check.checksum),
                _badge(check.verdict),
            )
        print_table(console, table)
    for check in result.tables:
        for item in check.mismatches[:_MAX_PROBLEMS_SHOWN]:
            style = "dim" if item["problem"].endswith("not a failure") else "red"
            console.print(
                f"  [{style}]{escape(check.name)} {escape(item['key'])}: "
                f"{escape(item['problem'])}[/]",
                soft_wrap=True,
            )
    if result.assertions:
        checks = Table(title="assertions", box=box.SIMPLE_HEAD)
        checks.add_column("assertion")
        checks.add_column("expected")
        checks.add_column("actual")
        checks.add_column("verdict")
        for assertion in result.assertions:
            actual = assertion.actual
            checks.add_row(
                escape(assertion.name),
                escape(f"{assertion.op} {assertion.expect!r}"),
                escape(actual if isinstance(actual, str) else repr(actual)),
                _badge(assertion.verdict),
            )
        print_table(console, checks)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    failed_tables = sum(t.verdict != "PASS" for t in result.tables)
    failed_checks = sum(a.verdict != "PASS" for a in result.assertions)
    summary = (
        f"{_count(len(result.tables), 'table')}, "
        f"{_count(len(result.assertions), 'assertion')} against {escape(result.target)}"
    )
    rejected = sum(t.rejected for t in result.tables)
    if result.passed and rejected:  # a PASS alone read as "every row is there"
        console.print(
            f"\n[bold white on green] PASS [/] {summary}: the target matches, but for the "
            f"{_count(rejected, 'source row')} the last run rejected: the target does not hold "
            "them as the source has them (a new row is missing, a changed one was left as it "
            "was; that run's report lists them; fix them and migrate again)."
        )
    elif result.passed:
        console.print(f"\n[bold white on green] PASS [/] {summary}: the target matches.")
    else:
        console.print(
            f"\n[bold white on red] FAIL [/] {summary}: {_count(failed_tables, 'table')} and "
            f"{_count(failed_checks, 'assertion')} failed."
        )


def _alert(count: int) -> str:
    return f"[bold red]{count}[/]" if count else "0"


__all__ = ["EXIT_FAIL", "print_result", "register", "verify_command"]


def _count(number: int, noun: str) -> str:
    """``1 table``, ``2 tables``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
