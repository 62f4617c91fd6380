"""Connecting calendar accounts; see :mod:`calsync_desktop.accounts.base`."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from calsync_desktop.accounts.base import SECRET_NAMES, Account, AccountState, PendingAccount
from calsync_desktop.accounts.kinds import KINDS

if TYPE_CHECKING:
    from calsync_desktop.services import Services


def save_account(
    services: Services,
    pending: PendingAccount,
    calendar_id: str = "",
    sync_all_private: bool | None = False,
    name: str | None = None,
) -> Account:
    """Save a signed-in or validated account: settings in the store, secrets in the keyring.

    Adding the same account and calendar again updates the existing one instead
    of creating a second, so nothing syncs twice. ``sync_all_private`` None
    keeps what the existing account has (a new one: off), so that signing in
    again never turns "Sync all appointments as private" off unasked.
    """
    existing = next(
        (
            a
            for a in services.store.list_accounts()
            if (a.kind, a.email.lower(), a.calendar_id)
            == (pending.kind, pending.email.lower(), calendar_id)
        ),
        None,
    )
    account = existing or Account(
        id=str(uuid.uuid4()),
        kind=pending.kind,
        name=name or pending.email,
        email=pending.email,
        calendar_id=calendar_id,
    )
    # secrets first: without a keyring nothing is saved at all
    for key, value in pending.secrets.items():
        services.secrets.set(account.id, key, value)
    account.settings = dict(pending.settings)
    if sync_all_private is not None:
        account.sync_all_private = sync_all_private
    account.state = AccountState.OK
    account.last_error = ""  # signed in again: the problem it had is not its state now
    account.paused = False
    if existing is None:
        services.store.add_account(account)
    else:
        services.store.update_account(account)
    return account


def default_account_id(store) -> str | None:
    """The account new appointments go to: Settings' choice, else the first one."""
    accounts = store.list_accounts()
    chosen = store.get_setting("app.default_account")
    if chosen and any(a.id == chosen for a in accounts):
        return chosen
    return accounts[0].id if accounts else None


def remove_account(services: Services, account_id: str, keep_appointments: bool = True) -> None:
    """Forget an account and its secrets (the usual ones, and every secret field
    its kind declares); remote calendars are left as they are."""
    account = services.store.get_account(account_id)
    names = set(SECRET_NAMES)
    if account is not None and account.kind in KINDS:
        names |= {f.name for f in KINDS[account.kind].fields if f.secret}
    services.store.remove_account(account_id, keep_appointments)
    for name in sorted(names):
        services.secrets.delete(account_id, name)
