"""The PySide6 desktop app: tray, setup wizard, Sales Calendar window, dialogs
and the QThread sync worker. The only package that imports Qt; start at
:mod:`calsync_desktop.gui.app`, the composition root."""
