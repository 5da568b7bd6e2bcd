"""The Finish page names Ferry's log file and "Save log…" copies it where the operator says."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ferry.safety.logfile import setup_logging
from ferry_gui.wizard import FerryWizard, PageId


def test_save_log_copies_the_log_file(
    qtbot: Any, wizard: FerryWizard, tmp_path: Path, ferry_log_dir: str
) -> None:
    setup_logging()
    logging.getLogger("ferry.test").info("a line for support")
    for handler in logging.getLogger("ferry").handlers:
        handler.flush()
    log = Path(ferry_log_dir) / "ferry.log"
    wizard.setStartId(PageId.FINISH)
    wizard.restart()
    page = wizard.finish_page

    assert page.log_label.text() == f"Log file: {log}"
    assert page.save_log_button.isEnabled()
    assert page.save_log(tmp_path / "support.log")
    assert (tmp_path / "support.log").read_bytes() == log.read_bytes()
    assert b"ferry.test: a line for support" in log.read_bytes()
