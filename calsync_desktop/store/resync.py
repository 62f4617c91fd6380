"""Resync from scratch (SPEC §9): an account forgets its sync state and links.

What stays: the appointments, their remembered iCalUIDs, the pending
deletions (tombstones) and the history. The next sync of the account then
lists both sides whole and links them again by SPEC §4's evidence, as a
first sync does: nothing that exists on both sides is created again.
"""

from __future__ import annotations

from sqlalchemy import delete

from calsync_desktop.store import Store
from calsync_desktop.store import schema as t


def forget_sync(store: Store, account_id: str) -> int:
    """Forget the sync state and every link of one account; how many links went."""
    with store.transaction() as conn:
        gone = conn.execute(
            delete(t.sync_status).where(t.sync_status.c.account_id == account_id)
        ).rowcount
        account = store.get_account(account_id)
        if account is None:
            raise KeyError(account_id)
        account.sync_state = None
        account.local_seq = 0
        account.first_sync_done = False
        store.update_account(account)
    return gone
