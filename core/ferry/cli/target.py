"""``--target URL|PROFILE``: the option of every command that opens a plan's target (its own
module so the command modules share it without importing :mod:`ferry.cli.command` early)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def target_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--target URL|PROFILE`` (as ``target_override``) to ``command``."""
    return click.option(
        "--target",
        "target_override",
        metavar="URL|PROFILE",
        help="Use this target for this run instead of the plan's: a URL (no password) or a "
        "saved connection profile (`ferry profiles`). The plan file is not changed.",
    )(command)
