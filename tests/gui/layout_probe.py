"""Open every window and dialog on a screen of a given size and scale, and
print what does not fit, as JSON (run by ``test_layout.py`` in a process of
its own, since Qt reads the screen and the scale factor once, at start).

    QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json QT_SCALE_FACTOR=2 \\
        python tests/gui/layout_probe.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication


def main() -> int:
    from calsync_desktop.accounts.base import MemorySecrets
    from calsync_desktop.gui import style
    from calsync_desktop.gui.app import CalsyncApp
    from calsync_desktop.gui.autostart import Autostart
    from calsync_desktop.services import Services
    from calsync_desktop.sync.engine import Decision
    from tests.gui.layout import accessibility_problems, layout_problems
    from tests.gui.windows import NOW, TZ, demo, states

    qt_app = QApplication(sys.argv[:1])
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))
    style.install(qt_app)
    home = Path(tempfile.mkdtemp(prefix="calsync-layout-"))
    services = Services.create(
        home=home, secrets=MemorySecrets(), env={"CALSYNC_TEST_CALENDAR": "1"}, clock=lambda: NOW
    )
    made = demo(services)
    app = CalsyncApp(
        services,
        tz=TZ,
        decide=lambda guard: Decision.STOP,
        watch_network=False,
        autostart=Autostart(
            ["calsync-desktop"], platform="linux", env={"XDG_CONFIG_HOME": str(home)}
        ),
    )
    app.wizard_options["show_test_kind"] = True
    app.start(sync_at_start=False)
    screen = qt_app.primaryScreen()
    report = {
        "screen": [screen.availableGeometry().width(), screen.availableGeometry().height()],
        "ratio": screen.devicePixelRatio(),
        "states": {},
    }
    shots = os.environ.get("CALSYNC_PROBE_SHOTS")  # to look at what was checked
    for name, top in states(app, made):
        if shots:
            top.grab().save(str(Path(shots) / f"{name}.png"))
        report["states"][name] = {
            "layout": layout_problems(top),
            "accessibility": accessibility_problems(top),
            "size": [top.frameGeometry().width(), top.frameGeometry().height()],
        }
    app.shutdown()
    services.store.close()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
