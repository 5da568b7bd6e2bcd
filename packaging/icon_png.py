"""Render the SVG application icon to a PNG with Qt (for the Windows .ico and the macOS .icns,
which PyInstaller converts from a PNG when Pillow is installed)."""

from __future__ import annotations

import sys
from pathlib import Path


def render_png(svg: Path, png: Path, size: int = 512) -> Path:
    """Draw ``svg`` on a transparent ``size`` x ``size`` image and save it as ``png``."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    png.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(png)):
        raise OSError(f"cannot write {png}")
    return png


if __name__ == "__main__":  # python icon_png.py ICON.svg OUT.png
    print(render_png(Path(sys.argv[1]), Path(sys.argv[2])))
