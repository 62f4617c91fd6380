"""The app's look on top of the platform style, and the colours its texts use.

:class:`PlainButtonsStyle` keeps the platform's style but drops the icons some
styles put on dialog buttons (a floppy disk on Save, a red cross on Cancel,
coloured balls on Yes and No): current desktops label those buttons with
words only. :func:`install` sets it once for the whole application.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QApplication,
    QDateEdit,
    QDateTimeEdit,
    QProxyStyle,
    QStyle,
    QStyleHintReturn,
    QStyleOption,
    QWidget,
)

ERROR_COLOUR = "#c01c28"
WARNING_COLOUR = "#9c6500"
"""Amber dark enough to read on a light background (warnings, never success)."""
OK_COLOUR = "#26a269"
NOTE_COLOUR = "#5e5c64"

ERROR_STYLE = f"color: {ERROR_COLOUR};"
WARN_STYLE = f"color: {WARNING_COLOUR};"
OK_STYLE = f"color: {OK_COLOUR};"
NOTE_STYLE = f"color: {NOTE_COLOUR};"


class PlainButtonsStyle(QProxyStyle):
    """The platform style without icons on dialog buttons."""

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget=None,
        data: QStyleHintReturn | None = None,
    ) -> int:
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 0
        return super().styleHint(hint, option, widget, data)


def install(app: QApplication) -> None:
    """Use :class:`PlainButtonsStyle` for ``app`` (once; the app owns the style)."""
    if not isinstance(app.style(), PlainButtonsStyle):
        app.setStyle(PlainButtonsStyle(app.style().name()))


class DateTimeField(QDateTimeEdit):
    """A date (and time) field Tab leaves at once, as in every calendar app:
    Left and Right move between day, month, year, hour and minute (Qt's own
    field makes Tab visit each of them first)."""

    def focusNextPrevChild(self, forward: bool) -> bool:
        return QWidget.focusNextPrevChild(self, forward)


class DateField(QDateEdit):
    """:class:`DateTimeField` for a date alone."""

    def focusNextPrevChild(self, forward: bool) -> bool:
        return QWidget.focusNextPrevChild(self, forward)
