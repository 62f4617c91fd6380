"""Guards the PySide6 pin in pyproject.toml.

PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every call of a
method that returns nothing (``QPainter.setPen``, ``QWidget.setStyleSheet``, …);
after a few thousand calls the interpreter aborts with "deallocating None". The
calendar view makes that many calls in seconds, so such a build must never be
installed. (From 3.12 on, ``None`` is immortal and the count does not move.)
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QColor, QImage, QPainter, QPen


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_methods_keep_the_reference_count_of_none(qapp):
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    pen = QPen(QColor("#000000"))
    before = sys.getrefcount(None)
    for _ in range(500):
        painter.setPen(pen)
    after = sys.getrefcount(None)
    painter.end()
    assert abs(after - before) < 50, "this PySide6 build leaks references to None"
