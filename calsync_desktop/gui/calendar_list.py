"""The calendar list beside the view: whose colour is whose, and what is shown.

A model/view pair built to grow:

- :class:`CalendarEntry` is one calendar: a key, a name, a colour, whether it
  can be edited. ``key`` names it everywhere: ``account:<id>`` for one of the
  user's calendar accounts, ``local`` for appointments that belong to no
  account.
- A *section* is anything with ``key``, ``title`` and ``entries()`` (see
  :class:`CalendarSection`). :class:`AccountsSection` is "My calendars". A
  team Sales Calendar adds a "Colleagues" section the same way, with entries
  keyed by colleague (:class:`ColleaguesSection`, ``member:<role>``);
  nothing else here changes. :func:`sections_for` picks them for a store.
- :class:`CalendarList` is the Qt model: one top-level row per section, one
  checkable row per entry. Unticking an entry hides its appointments; the
  hidden keys are kept in the ``app.hidden_calendars`` setting, so the
  choice survives a restart. It also answers "which colour has key K" for
  the calendar views.
- :class:`CalendarListView` draws each entry's check box in the entry's
  colour (filled when shown, an outline when hidden).

The calendar model asks :meth:`CalendarList.key_for` which entry an
appointment belongs to; a section may claim appointments of its own (a
colleague's, say) by giving ``key_for(appointment)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QObject, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

LOCAL_KEY = "local"
"""The entry of appointments that belong to no calendar account."""
HIDDEN_SETTING = "app.hidden_calendars"
COLOURS_SETTING = "app.account_colours"
"""{account id: index into ACCOUNT_COLOURS}: an account keeps its colour when
others are added, renamed or removed."""
LOCAL_COLOUR = QColor("#6a5acd")
ACCOUNT_COLOURS = tuple(
    QColor(c) for c in ("#3584e4", "#2ec27e", "#e66100", "#c061cb", "#e01b24", "#1c71d8", "#986a44")
)
MEMBER_PREFIX = "member:"
COLLEAGUE_COLOURS_SETTING = "app.colleague_colours"
"""{member role: index into COLLEAGUE_COLOURS}, kept like the accounts' colours."""
COLLEAGUE_COLOURS = tuple(
    QColor(c) for c in ("#0b8f8f", "#d6336c", "#8f6a00", "#5e5ce6", "#5f8700", "#b5179e", "#3d7fa6")
)


class Role:
    """The list's own data roles."""

    KEY = Qt.ItemDataRole.UserRole + 20
    COLOUR = Qt.ItemDataRole.UserRole + 21
    SECTION = Qt.ItemDataRole.UserRole + 22
    READ_ONLY = Qt.ItemDataRole.UserRole + 23


def account_key(account_id: str) -> str:
    return f"account:{account_id}"


def appointment_key(appointment: Any) -> str:
    """The entry an appointment of the user's own belongs to: its account's, else ``local``."""
    account_id = getattr(appointment, "account_id", None)
    return account_key(account_id) if account_id else LOCAL_KEY


def member_key(role: str) -> str:
    """The entry of a colleague's calendar (their database role)."""
    return f"{MEMBER_PREFIX}{role}"


def assign_colours(
    account_ids: Sequence[str], saved: dict[str, int], palette: int = len(ACCOUNT_COLOURS)
) -> dict[str, int]:
    """Colour indexes for ``account_ids``: the saved ones kept, each new account
    the first colour no other account uses (colours repeat past the palette)."""
    result = {a: saved[a] for a in account_ids if isinstance(saved.get(a), int)}
    for account_id in account_ids:
        if account_id in result:
            continue
        used = set(result.values())
        free = [i for i in range(palette) if i not in used]
        result[account_id] = free[0] if free else len(result) % palette
    return result


def _remembered_colours(store, setting: str, ids: Sequence[str], palette: int) -> dict[str, int]:
    saved = store.get_setting(setting, None) or {}
    indexes = assign_colours(ids, saved, palette)
    if indexes != saved:
        store.set_setting(setting, indexes)
    return indexes


@dataclass(frozen=True)
class CalendarEntry:
    """One calendar in the list. ``detail`` says more (an address, an account
    kind) in the tooltip; ``read_only`` entries are shown but not editable."""

    key: str
    name: str
    colour: QColor
    detail: str = ""
    read_only: bool = False


class CalendarSection(Protocol):
    """A group of entries under a title ("My calendars", "Colleagues").

    ``key_for(appointment)`` is optional: return the key of the entry an
    appointment belongs to when this section owns it, else None. A section
    with ``claims_all = True`` is the fallback, asked after the others.
    """

    key: str
    title: str

    def entries(self) -> list[CalendarEntry]: ...


class SettingsStore(Protocol):
    def get_setting(self, key: str, default: Any = None) -> Any: ...

    def set_setting(self, key: str, value: Any) -> None: ...


class AccountsSection:
    """ "My calendars": each calendar account in its colour, and the appointments
    that belong to no account ("Sales Calendar only")."""

    key = "mine"
    title = "My calendars"
    claims_all = True
    """Every appointment no other section claims is the user's own."""

    def __init__(
        self, store, kind_label: Callable[[str], str] | None = None, title: str | None = None
    ):
        self.store = store
        self.kind_label = kind_label or (lambda kind: kind)
        if title:
            self.title = title

    def entries(self) -> list[CalendarEntry]:
        accounts = self.store.list_accounts()
        ids = [a.id for a in accounts]
        indexes = _remembered_colours(self.store, COLOURS_SETTING, ids, len(ACCOUNT_COLOURS))
        out = []
        for account in accounts:
            name = account.name or account.email
            detail = self.kind_label(account.kind)
            if account.email and account.email != name:
                detail = f"{account.email} · {detail}"
            colour = ACCOUNT_COLOURS[indexes[account.id] % len(ACCOUNT_COLOURS)]
            out.append(CalendarEntry(account_key(account.id), name, colour, detail))
        out.append(
            CalendarEntry(
                LOCAL_KEY,
                "Sales Calendar only",
                LOCAL_COLOUR,
                "Appointments that belong to no calendar account and are not synced",
            )
        )
        return out

    def key_for(self, appointment: Any) -> str:
        return appointment_key(appointment)


class ColleaguesSection:
    """ "Colleagues" on a team Sales Calendar: each other member in a colour of
    their own, read-only. Claims the appointments the team view says are a
    colleague's (anything with ``owner`` and ``mine`` false)."""

    key = "colleagues"
    title = "Colleagues"

    def __init__(self, store):
        self.store = store

    def entries(self) -> list[CalendarEntry]:
        members = [m for m in self.store.team_members() if m.role != self.store.owner]
        roles = [m.role for m in members]
        indexes = _remembered_colours(
            self.store, COLLEAGUE_COLOURS_SETTING, roles, len(COLLEAGUE_COLOURS)
        )
        return [
            CalendarEntry(
                member_key(m.role),
                m.name,
                COLLEAGUE_COLOURS[indexes[m.role] % len(COLLEAGUE_COLOURS)],
                m.email,
                read_only=True,
            )
            for m in members
        ]

    def key_for(self, item: Any) -> str | None:
        owner = getattr(item, "owner", None)
        if owner and not getattr(item, "mine", True):
            return member_key(owner)
        return None


def sections_for(store, kind_label: Callable[[str], str] | None = None) -> list:
    """The calendar list of a Sales Calendar: one's own accounts, and on a team
    server "My calendar" and the colleagues."""
    if not getattr(store, "is_team", False):
        return [AccountsSection(store, kind_label)]
    return [AccountsSection(store, kind_label, title="My calendar"), ColleaguesSection(store)]


class CalendarList(QStandardItemModel):
    """Sections of calendars with a colour and a show/hide check box each.

    ``visibilityChanged`` after the user showed or hid an entry;
    ``entriesChanged`` after :meth:`refresh` rebuilt the list (names or
    colours may have changed).
    """

    visibilityChanged = Signal()
    entriesChanged = Signal()

    def __init__(
        self,
        settings: SettingsStore,
        sections: Sequence[CalendarSection] = (),
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.settings = settings
        self.sections: list[CalendarSection] = list(sections)
        self._entries: dict[str, CalendarEntry] = {}
        saved = settings.get_setting(HIDDEN_SETTING, None) or []
        self._hidden: set[str] = {str(k) for k in saved}
        self._building = False
        self.refresh()

    def use(self, settings: SettingsStore, sections: Sequence[CalendarSection]) -> None:
        """Another Sales Calendar: its own sections and its own hidden entries."""
        self.settings = settings
        self.sections = list(sections)
        saved = settings.get_setting(HIDDEN_SETTING, None) or []
        self._hidden = {str(k) for k in saved}
        self.refresh()

    # ---------------------------------------------------------------- sections

    def add_section(self, section: CalendarSection, before: str | None = None) -> None:
        """Add a section (after the others, or before the one keyed ``before``)."""
        keys = [s.key for s in self.sections]
        position = keys.index(before) if before in keys else len(keys)
        self.sections.insert(position, section)
        self.refresh()

    def remove_section(self, key: str) -> None:
        self.sections = [s for s in self.sections if s.key != key]
        self.refresh()

    def refresh(self) -> None:
        """Rebuild every section's rows from its entries (names, colours, new
        accounts); what is hidden stays hidden."""
        self._building = True
        try:
            self.clear()
            self._entries = {}
            bold = QFont()
            bold.setBold(True)
            for section in self.sections:
                head = QStandardItem(section.title)
                head.setData(section.key, Role.SECTION)
                head.setFlags(Qt.ItemFlag.ItemIsEnabled)
                head.setFont(bold)
                head.setData(section.title, Qt.ItemDataRole.AccessibleTextRole)
                for entry in section.entries():
                    self._entries[entry.key] = entry
                    head.appendRow(self._item(entry))
                self.appendRow(head)
        finally:
            self._building = False
        self.entriesChanged.emit()

    def refresh_if_changed(self) -> bool:
        """Rebuild only when a section's entries changed (an account added
        elsewhere, say, by the command line); True when it did."""
        wanted = [_signature(e) for section in self.sections for e in section.entries()]
        if wanted == [_signature(e) for e in self._entries.values()]:
            return False
        self.refresh()
        return True

    def _item(self, entry: CalendarEntry) -> QStandardItem:
        item = QStandardItem(entry.name)
        item.setData(entry.key, Role.KEY)
        item.setData(entry.colour, Role.COLOUR)
        item.setData(entry.read_only, Role.READ_ONLY)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )
        item.setCheckState(
            Qt.CheckState.Unchecked if entry.key in self._hidden else Qt.CheckState.Checked
        )
        tip = entry.name + (f"\n{entry.detail}" if entry.detail else "")
        if entry.read_only:
            tip += "\nRead-only"
        item.setToolTip(tip)
        return item

    # ---------------------------------------------------------------- entries

    def entries(self) -> list[CalendarEntry]:
        return list(self._entries.values())

    def entry(self, key: str) -> CalendarEntry | None:
        return self._entries.get(key)

    def colour(self, key: str) -> QColor:
        entry = self._entries.get(key)
        return entry.colour if entry else LOCAL_COLOUR

    def name(self, key: str) -> str:
        entry = self._entries.get(key)
        return entry.name if entry else ""

    def key_for(self, appointment: Any) -> str:
        """The entry ``appointment`` belongs to: the first section that claims it
        (sections that claim everything, like "My calendars", are asked last)."""
        ordered = sorted(self.sections, key=lambda s: bool(getattr(s, "claims_all", False)))
        for section in ordered:
            claim = getattr(section, "key_for", None)
            key = claim(appointment) if claim else None
            if key is not None and key in self._entries:
                return key
        return appointment_key(appointment)

    # ---------------------------------------------------------------- visibility

    def is_visible(self, key: str) -> bool:
        return key not in self._hidden

    def hidden_keys(self) -> set[str]:
        return set(self._hidden)

    def set_visible(self, key: str, visible: bool) -> None:
        index = self.index_of(key)
        if index.isValid():
            state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
            self.setData(index, state.value, Qt.ItemDataRole.CheckStateRole)
        else:
            self._set_hidden(key, not visible)

    def index_of(self, key: str) -> QModelIndex:
        for row in range(self.rowCount()):
            head = self.item(row)
            for child in range(head.rowCount()):
                if head.child(child).data(Role.KEY) == key:
                    return head.child(child).index()
        return QModelIndex()

    def setData(self, index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        done = super().setData(index, value, role)
        if done and role == Qt.ItemDataRole.CheckStateRole and not self._building:
            key = index.data(Role.KEY)
            if key:
                shown = Qt.CheckState(value) == Qt.CheckState.Checked
                self._set_hidden(key, not shown)
        return done

    def _set_hidden(self, key: str, hidden: bool) -> None:
        if (key in self._hidden) == hidden:
            return
        if hidden:
            self._hidden.add(key)
        else:
            self._hidden.discard(key)
        self.settings.set_setting(HIDDEN_SETTING, sorted(self._hidden))
        self.visibilityChanged.emit()

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.AccessibleTextRole and index.data(Role.KEY):
            shown = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked.value
            name = super().data(index, Qt.ItemDataRole.DisplayRole)
            return f"{name}, {'shown' if shown else 'hidden'}"
        return super().data(index, role)


def _signature(entry: CalendarEntry) -> tuple:
    return (entry.key, entry.name, entry.colour.name(), entry.detail, entry.read_only)


class CalendarListDelegate(QStyledItemDelegate):
    """Draws an entry's check box in the entry's colour: filled with a white
    tick when shown, an outline in the colour when hidden."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        colour = index.data(Role.COLOUR)
        if not isinstance(colour, QColor):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else None
        box = (
            style.subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, opt, opt.widget)
            if style
            else QRect(opt.rect.left() + 4, opt.rect.top() + 4, 16, 16)
        )
        checked = opt.checkState == Qt.CheckState.Checked
        # the style draws the row and the text; the check box is ours
        opt.features &= ~QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
        text_left = box.right() + 6
        opt.rect = QRect(text_left, opt.rect.top(), opt.rect.right() - text_left, opt.rect.height())
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        side = min(box.width(), box.height(), 16)
        square = QRect(0, 0, side, side)
        square.moveCenter(box.center())
        if checked:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(square, 3, 3)
            pen = QPen(QColor("#ffffff"), max(1.6, side / 8))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPolyline(
                [_pt(square, 0.22, 0.52), _pt(square, 0.42, 0.72), _pt(square, 0.78, 0.30)]
            )
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(colour, 2))
            painter.drawRoundedRect(square.adjusted(1, 1, -1, -1), 3, 3)
        if opt.state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(opt.palette.highlight().color(), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(square.adjusted(-2, -2, 2, 2), 4, 4)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), 24))


def _pt(rect: QRect, fx: float, fy: float) -> QPointF:
    """The point at fractions (fx, fy) of ``rect``."""
    return QPointF(rect.left() + rect.width() * fx, rect.top() + rect.height() * fy)


class CalendarListView(QTreeView):
    """The calendar list: section titles with their calendars, each with a
    check box in its colour. Space (or a click on the box) shows or hides one."""

    def __init__(self, model: CalendarList, parent: QWidget | None = None):
        super().__init__(parent)
        self.setModel(model)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setItemsExpandable(False)
        self.setIndentation(8)
        self.setUniformRowHeights(True)
        self.setItemDelegate(CalendarListDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFrameShape(QTreeView.Shape.NoFrame)
        self.setAccessibleName("Calendars")
        self.setToolTip("")
        self.viewport().setAutoFillBackground(False)
        model.modelReset.connect(self.expandAll)
        model.rowsInserted.connect(lambda *_: self.expandAll())
        model.entriesChanged.connect(self.expandAll)
        self.expandAll()

    def keyPressEvent(self, event) -> None:
        index = self.currentIndex()
        if (
            event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select)
            and index.isValid()
            and index.data(Role.KEY)
        ):
            checked = index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked.value
            state = Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked
            self.model().setData(index, state.value, Qt.ItemDataRole.CheckStateRole)
            return
        super().keyPressEvent(event)
