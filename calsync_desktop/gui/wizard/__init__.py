"""The setup wizard (SPEC §2): choose a calendar, sign in or enter the account's
details, pick the options, see what the first sync will do, then run it.

Every call that talks to a server runs in the background (see
:mod:`calsync_desktop.gui.background`) on a Store connection of the wizard's
own; nothing is saved before the user confirms on the summary page.

Layout: ``shell.py`` is the wizard (its pages in order, saving, the first
sync); one module per page: ``choose.py``, ``sign_in.py``, ``details.py`` (with
``fields.py``, the form both build from the registry), ``first_sync.py``
(options, summary, sync); ``common.py`` what they share.
"""

from __future__ import annotations

from calsync_desktop.gui.wizard.common import (
    BAD_CREDENTIALS,
    PAGE_CHOOSE,
    PAGE_DETAILS,
    PAGE_FOR,
    PAGE_OPTIONS,
    PAGE_SIGN_IN,
    PAGE_SUMMARY,
    PAGE_SYNC,
    failure_message,
)
from calsync_desktop.gui.wizard.shell import AccountWizard

__all__ = [
    "BAD_CREDENTIALS",
    "PAGE_CHOOSE",
    "PAGE_DETAILS",
    "PAGE_FOR",
    "PAGE_OPTIONS",
    "PAGE_SIGN_IN",
    "PAGE_SUMMARY",
    "PAGE_SYNC",
    "AccountWizard",
    "failure_message",
]
