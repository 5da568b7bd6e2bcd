"""The wizard's own state, Qt-free (tested without PySide6): the plan being worked on, where it
lives, and what each step found or did.

The pages read and fill it through the wizard (``wizard.plan`` is ``wizard.state.plan``);
what is Qt (the settings holding the recent plans, the error dialog) stays in the wizard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ferry import FerryError, Plan, save_plan
from ferry.api import (
    Backup,
    CheckReport,
    CutoverResult,
    RollbackResult,
    SyncResult,
    VerifyResult,
)
from ferry.plan import TargetSpec
from ferry.results import RunResult


@dataclass
class WizardState:
    """One session of the wizard: a plan, and what was done with it so far."""

    plan: Plan | None = None
    plan_path: Path | None = None
    #: the backup this session took (Backup page, or the engine's own before migrating)
    backup: Backup | None = None
    #: the operator chose to migrate without a backup
    backup_skipped: bool = False
    check_report: CheckReport | None = None
    preview_result: RunResult | None = None
    run_result: RunResult | None = None
    verify_result: VerifyResult | None = None
    rollback_result: RollbackResult | None = None
    #: the "Keep in sync" loop's cycles (Migrate page), once it stopped
    sync_result: SyncResult | None = None
    #: the last cutover (Cutover page) that ran to a verdict
    cutover_result: CutoverResult | None = None

    def open_plan(self, plan: Plan, path: Path) -> None:
        """A new plan: forget everything done with the previous one."""
        self.plan, self.plan_path = plan, path
        self.backup = None
        self.backup_skipped = False
        self.check_report = self.preview_result = self.run_result = None
        self.verify_result = None
        self.rollback_result = None
        self.sync_result = None
        self.cutover_result = None

    @property
    def workspace(self) -> Path | None:
        """The folder holding the plan (its backups, reports and new SQLite target)."""
        return self.plan_path.parent if self.plan_path is not None else None

    @property
    def target(self) -> TargetSpec | None:
        """The plan's target, as the Connect page last set it."""
        return self.plan.target if self.plan is not None else None

    def save_plan(self) -> None:
        """Write the plan back to its file (after the Connect page changed the target); the
        preview shown no longer matches it. Raises FerryError when the file cannot be written
        (the preview is forgotten all the same)."""
        if self.plan is None or self.plan_path is None:
            return
        try:
            save_plan(self.plan, self.plan_path)
        except OSError as exc:
            raise FerryError(
                f"cannot write the plan {self.plan_path}: {exc.strerror or exc}"
            ) from None
        finally:
            self.preview_result = None


class InState:
    """A wizard attribute kept in its :class:`WizardState` (``wizard.plan`` is
    ``wizard.state.plan``), so pages and tests keep reading ``wizard.plan``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, wizard: object, owner: type | None = None) -> object:
        if wizard is None:
            return self
        return getattr(wizard.state, self.name)  # type: ignore[attr-defined]

    def __set__(self, wizard: object, value: object) -> None:
        setattr(wizard.state, self.name, value)  # type: ignore[attr-defined]
