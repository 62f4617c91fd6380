"""Windows that fit the screen they open on, at any scale.

A window never opens larger than the screen's free area (the panels left
out): it takes its preferred size when there is room, else as much as there
is, and a window left on a screen that is gone or smaller comes back onto
this one. Everything scrolls or wraps inside instead.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

SCREEN_MARGIN = 24
"""Room left free around a window that would otherwise fill the whole screen."""


def fit_rect(wanted: QRect, area: QRect, margin: int = SCREEN_MARGIN) -> QRect:
    """``wanted`` moved and shrunk until it lies inside ``area`` (with ``margin``
    when it had to shrink)."""
    width = min(
        wanted.width(), max(1, area.width() - (margin if wanted.width() >= area.width() else 0))
    )
    height = min(
        wanted.height(),
        max(1, area.height() - (margin if wanted.height() >= area.height() else 0)),
    )
    rect = QRect(wanted.topLeft(), QSize(width, height))
    if rect.right() > area.right():
        rect.moveRight(area.right())
    if rect.bottom() > area.bottom():
        rect.moveBottom(area.bottom())
    if rect.left() < area.left():
        rect.moveLeft(area.left())
    if rect.top() < area.top():
        rect.moveTop(area.top())
    return rect


def available_area(widget: QWidget) -> QRect:
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def resize_within_screen(widget: QWidget, preferred: QSize) -> None:
    """``preferred``, or as much of the screen's free area as there is (centred
    on it when it had to shrink)."""
    area = available_area(widget)
    extra = widget.frameGeometry().size() - widget.geometry().size()
    wanted = QRect(0, 0, preferred.width() + extra.width(), preferred.height() + extra.height())
    wanted.moveCenter(area.center())
    rect = fit_rect(wanted, area)
    widget.resize(rect.width() - extra.width(), rect.height() - extra.height())
    if rect.size() != wanted.size():
        widget.move(rect.topLeft())
