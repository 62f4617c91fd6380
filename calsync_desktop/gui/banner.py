"""A bar above the calendar that says something about the whole window (the
team server cannot be reached; a preview is on), with an optional button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from calsync_desktop.gui.icons import icon

WARNING_LOOK = "#banner-frame { background: #fdf0d5; border-bottom: 1px solid #e5c07b; }"
INFO_LOOK = "#banner-frame { background: #e3edf9; border-bottom: 1px solid #a9c4e8; }"


class Banner(QFrame):
    """Hidden until :meth:`show_message`; ``actionClicked`` when its button is."""

    actionClicked = Signal()

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner-frame")
        self.setAccessibleName(name)
        self.mark = QLabel()
        self.mark.setFixedWidth(18)
        self.text = QLabel()
        self.text.setObjectName(name)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton()
        self.button.clicked.connect(self.actionClicked)
        self.button.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_message(self, text: str, warning: bool = False, action: str = "") -> None:
        self.setStyleSheet(WARNING_LOOK if warning else INFO_LOOK)
        if warning:
            self.mark.setPixmap(icon("warning").pixmap(16, 16))
        else:
            self.mark.clear()
        self.mark.setVisible(warning)
        self.text.setText(text)
        self.button.setText(action)
        self.button.setAccessibleName(action)
        self.button.setVisible(bool(action))
        self.show()

    def clear(self) -> None:
        self.text.clear()
        self.hide()

    def message(self) -> str:
        """What it says while shown ("" when hidden)."""
        return "" if self.isHidden() else self.text.text()
