"""The form of an account kind's fields, built from the registry's :class:`Field`
entries (presets, secrets, notes), shared by the sign-in and details pages."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from calsync_desktop.accounts.kinds import Field, Preset
from calsync_desktop.gui.wizard.common import FittedNote


class FieldsForm(QWidget):
    """The form rows of an account kind's fields (the registry's :class:`Field` s
    with ``on_form``): ``edits`` by field name, ``values()`` what was entered."""

    def __init__(
        self,
        fields: tuple[Field, ...],
        parent: QWidget | None = None,
        presets: tuple[Preset, ...] = (),
    ):
        super().__init__(parent)
        self.edits: dict[str, QLineEdit] = {}
        self.presets = presets
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.preset: QComboBox | None = None
        self.advice: FittedNote | None = None
        if presets:
            # a well-known service fills in its address and says what password it takes
            self.preset = QComboBox()
            self.preset.setObjectName("preset")
            self.preset.setAccessibleName("Service")
            self.preset.addItem("Choose your service…")
            for preset in presets:
                self.preset.addItem(preset.label)
            form.addRow("Service", self.preset)
            self.advice = FittedNote("")
            self.advice.setObjectName("preset-advice")
            self.advice.hide()
            form.addRow("", self.advice)
            self.preset.currentIndexChanged.connect(self._preset_chosen)
        for field in fields:
            edit = QLineEdit(field.default or "")
            edit.setPlaceholderText(field.placeholder)
            edit.setAccessibleName(field.accessible or field.label)
            if field.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.edits[field.name] = edit
            form.addRow(field.label, edit)
            if field.example:
                example = FittedNote(field.example)
                example.setObjectName(f"example-{field.name}")
                form.addRow("", example)

    def _preset_chosen(self, index: int) -> None:
        assert self.advice is not None
        if index <= 0:
            self.advice.hide()
            return
        preset = self.presets[index - 1]
        for name, value in preset.values.items():
            if name in self.edits:
                self.edits[name].setText(value)
        self.advice.setText(preset.advice)
        self.advice.setVisible(bool(preset.advice))

    def values(self) -> dict[str, str]:
        # a password is taken as typed; other details without stray spaces
        return {
            name: edit.text()
            if edit.echoMode() == QLineEdit.EchoMode.Password
            else edit.text().strip()
            for name, edit in self.edits.items()
        }


def replace_form(slot: QVBoxLayout, old: FieldsForm, new: FieldsForm) -> FieldsForm:
    slot.replaceWidget(old, new)
    old.deleteLater()
    return new
