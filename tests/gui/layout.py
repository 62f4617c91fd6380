"""What a user would call a broken layout, found in a widget tree.

:func:`layout_problems` lists, for one top-level window: the window reaching
past the screen's free area; any visible control lying (partly) outside its
parent; any label, button, check box, tab, combo box, column header or table
cell whose text does not fit (Qt clips or elides it). Scrolled content is
allowed to be larger than its viewport: that is what scrolling is for.

:func:`accessibility_problems` lists the visible controls a screen reader
could not name (checked through QAccessible, as assistive technology reads
them).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QCalendarWidget,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTabBar,
    QTableWidget,
    QTextEdit,
    QToolButton,
    QTreeWidget,
    QWidget,
)

SLACK = 1
"""Pixels of rounding a layout may be off by."""


def _name(widget: QWidget) -> str:
    text = ""
    if isinstance(widget, QLabel | QAbstractButton):
        text = widget.text()
    label = widget.objectName() or type(widget).__name__
    return f"{label} {text[:40]!r}" if text else label


def _scrolled(widget: QWidget) -> bool:
    """Inside a scroll area's viewport: it may be larger than what shows."""
    parent = widget.parentWidget()
    grand = parent.parentWidget() if parent is not None else None
    return isinstance(grand, QAbstractScrollArea) and parent is grand.viewport()


def _internal(widget: QWidget) -> bool:
    """Parts of Qt's own composite widgets, which lay themselves out."""
    ancestor = widget.parentWidget()
    while ancestor is not None:
        if isinstance(ancestor, QCalendarWidget | QAbstractSpinBox | QComboBox):
            return True
        ancestor = ancestor.parentWidget()
    return False


def _text_problems(widget: QWidget) -> list[str]:
    out = []
    width, height = widget.width(), widget.height()
    if isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull():
        if widget.wordWrap():
            need = widget.heightForWidth(width)
            if need > height + SLACK:
                out.append(f"{_name(widget)} cut: needs {need} px of height, has {height}")
        elif widget.sizeHint().width() > width + SLACK:
            need = widget.sizeHint().width()
            out.append(f"{_name(widget)} cut: needs {need} px, has {width}")
    elif isinstance(widget, QAbstractButton) and widget.text():
        shows_text = not (
            isinstance(widget, QToolButton)
            and widget.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
        )
        if shows_text and widget.sizeHint().width() > width + SLACK:
            need = widget.sizeHint().width()
            out.append(f"{_name(widget)} cut: needs {need} px, has {width}")
    elif isinstance(widget, QComboBox) and widget.currentText():
        need = widget.fontMetrics().horizontalAdvance(widget.currentText()) + 24
        if need > width + SLACK:
            out.append(f"{_name(widget)} text {widget.currentText()[:40]!r} cut ({need} > {width})")
    elif isinstance(widget, QTabBar):
        for i in range(widget.count()):
            if widget.tabRect(i).width() + SLACK < widget.tabSizeHint(i).width() or not (
                widget.rect().contains(widget.tabRect(i))
            ):
                out.append(f"tab {widget.tabText(i)!r} cut")
    elif isinstance(widget, QHeaderView) and widget.orientation() == Qt.Orientation.Horizontal:
        model = widget.model()
        for i in range(widget.count()):
            if widget.isSectionHidden(i):
                continue
            title = str(model.headerData(i, Qt.Orientation.Horizontal) or "")
            need = widget.sectionSizeHint(i)  # the title with the style's margins
            if title and widget.sectionSize(i) + SLACK < need:
                out.append(f"column {title!r} cut ({widget.sectionSize(i)} < {need})")
    elif isinstance(widget, QTableWidget | QTreeWidget):
        out += _cell_problems(widget)
    if isinstance(widget, QAbstractItemView) and widget.horizontalScrollBar().isVisible():
        out.append(f"{_name(widget)} does not fit: its columns scroll sideways")
    return out


def _cell_problems(view: QTableWidget | QTreeWidget) -> list[str]:
    """A cell whose text the view elides or clips (an email cut in two, say)."""
    out = []
    if view.textElideMode() != Qt.TextElideMode.ElideNone and isinstance(view, QTreeWidget):
        return out  # a list that elides on purpose shows the whole text in its detail
    metrics = view.fontMetrics()
    if isinstance(view, QTableWidget):
        cells = [
            (view.item(r, c), view.columnWidth(c))
            for r in range(view.rowCount())
            for c in range(view.columnCount())
        ]
    else:
        cells = [
            (view.topLevelItem(r), view.columnWidth(0)) for r in range(view.topLevelItemCount())
        ]
    for item, column in cells:
        if item is None:
            continue
        text = item.text() if isinstance(view, QTableWidget) else item.text(0)
        icon = item.icon() if isinstance(view, QTableWidget) else item.icon(0)
        need = (
            metrics.horizontalAdvance(text)
            + (view.iconSize().width() + 8 if not icon.isNull() else 0)
            + 8
        )
        if text and need > column + SLACK and not view.wordWrap():
            out.append(f"cell {text[:40]!r} cut ({column} < {need})")
    return out


def layout_problems(top: QWidget) -> list[str]:
    """Everything in ``top`` that lies outside its parent or does not fit its text."""
    out = []
    screen = top.screen().availableGeometry()
    frame = top.frameGeometry()
    if not screen.contains(frame):
        out.append(f"the window {_rect(frame)} reaches past the screen {_rect(screen)}")
    if top.minimumSizeHint().width() > screen.width() or (
        top.minimumSizeHint().height() > screen.height()
    ):
        out.append(f"the window cannot shrink to the screen ({top.minimumSizeHint()})")
    for widget in top.findChildren(QWidget):
        if widget.isWindow() or not widget.isVisibleTo(top) or _internal(widget):
            continue
        parent = widget.parentWidget()
        if parent is None or widget.width() <= 0 or widget.height() <= 0:
            continue
        if not _scrolled(widget):
            allowed = parent.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK)
            if not allowed.contains(widget.geometry()):
                out.append(
                    f"{_name(widget)} at {_rect(widget.geometry())} lies outside its parent "
                    f"{_name(parent)} {_rect(parent.rect())}"
                )
        if _on_screen(widget, top):
            out += _text_problems(widget)
    return out


def _on_screen(widget: QWidget, top: QWidget) -> bool:
    """Shown in the window, not scrolled away (text scrolled out of view is not cut)."""
    ancestor = widget.parentWidget()
    rect = QRect(widget.mapTo(top, widget.rect().topLeft()), widget.size())
    while ancestor is not None and ancestor is not top:
        if isinstance(ancestor, QScrollArea):
            view = QRect(
                ancestor.viewport().mapTo(top, ancestor.viewport().rect().topLeft()),
                ancestor.viewport().size(),
            )
            if not view.intersects(rect):
                return False
        ancestor = ancestor.parentWidget()
    return True


def _rect(r: QRect) -> str:
    return f"{r.width()}×{r.height()}+{r.x()}+{r.y()}"


INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QPlainTextEdit,
    QTextEdit,
    QTabBar,
)


def accessibility_problems(top: QWidget) -> list[str]:
    """Visible controls without an accessible name (what a screen reader says)."""
    out = []
    for widget in [top, *top.findChildren(QWidget)]:
        if (not widget.isVisibleTo(top) and widget is not top) or _internal(widget):
            continue
        interactive = isinstance(widget, INTERACTIVE) or (
            widget.focusPolicy() != Qt.FocusPolicy.NoFocus
            and type(widget).__module__.startswith("calsync_desktop")
        )
        if not interactive or isinstance(widget, QHeaderView) or _scrolled_scrollbar(widget):
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        name = interface.text(QAccessible.Text.Name) if interface is not None else ""
        if not name.strip():
            out.append(f"{type(widget).__name__} {widget.objectName()!r} has no accessible name")
    return out


def _scrolled_scrollbar(widget: QWidget) -> bool:
    # Qt's own line edit inside a spin box or combo box is named by its owner
    parent = widget.parentWidget()
    return isinstance(widget, QLineEdit) and isinstance(parent, QAbstractSpinBox | QComboBox)
