"""Run-time hook replacing PyInstaller's ``pyi_rth_pyside6``.

The stock hook imports ``PySide6.QtCore`` at start-up (to write an embedded qt.conf that
PyPI wheels already provide themselves), which would load Qt into every headless ``ferry``
command. This one only points Qt at the bundled plugins; Qt loads when the wizard starts.
"""

import os
import sys


def _point_qt_at_bundle() -> None:
    base = getattr(sys, "_MEIPASS", os.path.dirname(sys.executable))
    qt = os.path.join(base, "PySide6")
    if sys.platform != "win32":  # the wheels keep Qt in PySide6/Qt except on Windows
        qt = os.path.join(qt, "Qt")
    # Set, not defaulted: a desktop's own QT_PLUGIN_PATH holds plugins built for another Qt.
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")


_point_qt_at_bundle()
