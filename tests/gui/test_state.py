"""The wizard's own state (ferry_gui.state) is Qt-free: it imports and works without PySide6,
and the wizard's attributes are views of it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ferry_gui.state
from ferry import load_plan
from ferry.api import demo_source

STATE = Path(ferry_gui.state.__file__)


def test_the_state_module_imports_no_qt() -> None:
    tree = ast.parse(STATE.read_text(encoding="utf-8"))
    imported = [
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [name for name in imported if name.startswith(("PySide6", "qasync"))]


def test_the_state_works_where_pyside6_cannot_be_imported(tmp_path: Path) -> None:
    plan_file = tmp_path / "ferry.toml"
    plan_file.write_text((demo_source() / "ferry.toml").read_text(encoding="utf-8"))
    code = (
        "import sys\n"
        "sys.modules['PySide6'] = None  # any import of it now fails\n"
        "from pathlib import Path\n"
        "from ferry import load_plan\n"
        "from ferry_gui.state import WizardState\n"
        "state = WizardState()\n"
        "path = Path(sys.argv[1])\n"
        "state.open_plan(load_plan(path), path)\n"
        "state.backup_skipped = True\n"
        "state.save_plan()\n"
        "assert state.workspace == path.parent and state.target is not None\n"
        "assert 'PySide6.QtCore' not in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(plan_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_new_plan_forgets_the_previous_session(tmp_path: Path) -> None:
    state = ferry_gui.state.WizardState()
    plan = load_plan(demo_source() / "ferry.toml")
    state.open_plan(plan, tmp_path / "a.toml")
    state.backup_skipped = True
    state.open_plan(plan, tmp_path / "b.toml")
    assert state.backup_skipped is False
    assert state.plan_path == tmp_path / "b.toml"


def test_the_wizard_reads_its_state(qtbot: object) -> None:
    from ferry_gui.wizard import FerryWizard

    wizard = FerryWizard()
    qtbot.addWidget(wizard)  # type: ignore[attr-defined]
    wizard.backup_skipped = True
    assert wizard.state.backup_skipped is True
    wizard.state.plan_path = Path("x.toml")
    assert wizard.plan_path == Path("x.toml")
