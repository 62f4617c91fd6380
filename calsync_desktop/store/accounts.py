"""Accounts (the calendars a user syncs with) and the user's settings."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select, update

from calsync_desktop.accounts.base import Account, AccountState
from calsync_desktop.store import schema as t
from calsync_desktop.store.core import StoreCore, _chunks

SETTING_DEFAULTS = {
    "profile.name": "",
    "profile.email": "",
    "sync.interval_minutes": 5,
    "sync.send_invitations": False,
    "app.start_at_login": False,
    "app.notifications": True,
    "advanced.client_secrets_file": "",
    "advanced.ca_bundle": "",
    "app.default_account": "",
    # the sync history's retention (store/journal.py: Retention)
    "history.days": 30,
    "history.max_changes": 100_000,
}

SYNC_INTERVAL_MINUTES = (1, 240)
"""The sync interval's range, the same in Settings and ``calsync settings``
(the app's timer holds no more than about 24 days)."""


class AccountsAndSettings(StoreCore):
    """The accounts and settings of a :class:`calsync_desktop.store.Store`."""

    def get_setting(self, key: str, default=None):
        st = t.settings.c
        row = self._read(select(st.value).where(st.owner == self.owner, st.key == key)).first()
        if row is None:
            return SETTING_DEFAULTS.get(key, default) if default is None else default
        return json.loads(row[0])

    def set_setting(self, key: str, value) -> None:
        with self.transaction() as conn:
            encoded = json.dumps(value)
            st = t.settings.c
            if not conn.execute(
                update(t.settings)
                .where(st.owner == self.owner, st.key == key)
                .values(value=encoded)
            ).rowcount:
                conn.execute(insert(t.settings).values(owner=self.owner, key=key, value=encoded))

    def _account_row(self, account: Account) -> dict:
        return {
            "owner": self.owner,
            "kind": account.kind,
            "name": account.name,
            "email": account.email,
            "calendar_id": account.calendar_id,
            "settings": json.dumps(account.settings, sort_keys=True),
            "sync_all_private": account.sync_all_private,
            "state": account.state.value,
            "last_sync": account.last_sync,
            "last_error": account.last_error,
            "sync_state": account.sync_state,
            "local_seq": account.local_seq,
            "first_sync_done": account.first_sync_done,
            "paused": account.paused,
        }

    @staticmethod
    def _account(r) -> Account:
        return Account(
            id=r.id,
            kind=r.kind,
            name=r.name,
            email=r.email,
            calendar_id=r.calendar_id,
            settings=json.loads(r.settings),
            sync_all_private=bool(r.sync_all_private),
            state=AccountState(r.state),
            last_sync=r.last_sync,
            last_error=r.last_error,
            sync_state=r.sync_state,
            local_seq=r.local_seq,
            first_sync_done=bool(r.first_sync_done),
            paused=bool(r.paused),
        )

    def add_account(self, account: Account) -> Account:
        with self.transaction() as conn:
            conn.execute(insert(t.accounts).values(id=account.id, **self._account_row(account)))
        return account

    def update_account(self, account: Account) -> Account:
        with self.transaction() as conn:
            conn.execute(
                update(t.accounts)
                .where(t.accounts.c.id == account.id)
                # the owner stays: setting it (a parent key column) would make
                # SQLite look through every row that refers to the account
                .values(**{k: v for k, v in self._account_row(account).items() if k != "owner"})
            )
        return account

    def get_account(self, account_id: str) -> Account | None:
        row = self._read(select(t.accounts).where(t.accounts.c.id == account_id)).first()
        return self._account(row) if row else None

    def find_account(self, name_or_id: str) -> Account | None:
        for account in self.list_accounts():
            if name_or_id in (account.id, account.name, account.email):
                return account
        return None

    def list_accounts(self) -> list[Account]:
        rows = self._read(select(t.accounts).order_by(t.accounts.c.name)).all()
        return [self._account(r) for r in rows]

    def remove_account(self, account_id: str, keep_appointments: bool = True) -> None:
        """Forget an account. Its synced appointments stay in the Sales Calendar
        (unlinked) unless ``keep_appointments`` is False. Nothing remote changes."""
        with self.transaction() as conn:
            if not keep_appointments:
                ids = (
                    conn.execute(
                        select(t.sync_status.c.local_id).where(
                            t.sync_status.c.account_id == account_id
                        )
                    )
                    .scalars()
                    .all()
                )
                for chunk in _chunks(list(ids)):
                    conn.execute(delete(t.appointments).where(t.appointments.c.id.in_(chunk)))
                self._next_seq()
            for table in (t.sync_status, t.tombstones, t.skipped, t.conflicts):
                conn.execute(delete(table).where(table.c.account_id == account_id))
            conn.execute(
                update(t.appointments)
                .where(t.appointments.c.account_id == account_id)
                .values(account_id=None)
            )
            conn.execute(delete(t.accounts).where(t.accounts.c.id == account_id))
