"""What a sync would do, before it does it, in a user's words.

One home for the first-sync preview (the command line's ``accounts add`` and
the wizard's summary page both show it) and for the wording of a plan and of
a finished first sync. Each action kind of a plan (the keys of
:meth:`Plan.summary`) is worded once, in :data:`WORDING`, in the three forms
the product needs:

- a clause for one line of terminal output ("create 3 in Work"),
- a sentence about what will happen ("3 appointment(s) will be copied from
  the Sales Calendar to Work"),
- a sentence about what happened ("3 appointment(s) copied to Work").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from calsync_desktop.accounts.base import Account, PendingAccount
from calsync_desktop.providers.base import CalendarProvider, ProviderError
from calsync_desktop.store import Store
from calsync_desktop.sync.engine import Plan, SyncEngine, SyncResult
from calsync_desktop.sync.runner import Explanation, explain
from calsync_desktop.words import count, noun, sentence


@dataclass(frozen=True)
class Wording:
    """How one kind of action reads: ``{n}`` is the count, ``{appointments}`` and
    ``{links}`` the count with its noun ("1 appointment", "3 links"),
    ``{account}`` the account."""

    clause: str
    will: str
    did: str


WORDING: dict[str, Wording] = {
    "link": Wording(
        "link {n} that exist on both sides",
        "{appointments} already on both sides will be linked, not copied twice",
        "{appointments} linked",
    ),
    "create locally": Wording(
        "create {n} in the Sales Calendar",
        "{appointments} will be copied from {account} to the Sales Calendar",
        "{appointments} copied to the Sales Calendar",
    ),
    "create remotely": Wording(
        "create {n} in {account}",
        "{appointments} will be copied from the Sales Calendar to {account}",
        "{appointments} copied to {account}",
    ),
    "update": Wording(
        "update {n}",
        "{appointments} will be updated",
        "{appointments} updated",
    ),
    "delete remotely": Wording(
        "delete {n} from {account}",
        "{appointments} will be deleted from {account}",
        "{appointments} deleted from {account}",
    ),
    "delete locally": Wording(
        "delete {n} from the Sales Calendar",
        "{appointments} will be deleted from the Sales Calendar",
        "{appointments} deleted from the Sales Calendar",
    ),
    "restore locally": Wording(
        "restore {n} in the Sales Calendar",
        "{appointments} will be restored in the Sales Calendar",
        "{appointments} restored in the Sales Calendar",
    ),
    "forget": Wording(
        "forget {links}",
        "{links} to appointments gone from both sides will be forgotten",
        "{links} forgotten",
    ),
}
"""The words for each action kind, in the order a person reads them."""

NOTHING_CLAUSE = "nothing (both sides agree)"
NOTHING_WILL = (
    "Nothing to copy: {account} has no appointments in the synced period (the last 30 days "
    "and the next two years), and the Sales Calendar has none that belong to it."
)
"""True also when the Sales Calendar holds appointments of other accounts: they
stay with those accounts."""
NOTHING_DID = "Nothing needed copying."


def _worded(counts: Mapping[str, int], account: str, form: str) -> list[str]:
    out = []
    for kind, wording in WORDING.items():
        if counts.get(kind):
            n = counts[kind]
            out.append(
                getattr(wording, form).format(
                    n=f"{n:,}",  # "3,000", as words.count writes it
                    appointments=count(n, "appointment"),
                    links=count(n, "link"),
                    account=account,
                )
            )
    # a kind this table does not know yet still shows, in the engine's own words
    out += [f"{kind} {n:,}" for kind, n in counts.items() if n and kind not in WORDING]
    return out


def plan_clauses(summary: Mapping[str, int], account: str) -> str:
    """A plan on one line: "create 1 in Work, link 2 that exist on both sides"."""
    return ", ".join(_worded(summary, account, "clause")) or NOTHING_CLAUSE


def plan_sentences(summary: Mapping[str, int], account: str) -> list[str]:
    """A plan as sentences, one per kind of action."""
    return _worded(summary, account, "will") or [NOTHING_WILL.format(account=account)]


def describe_result(result: SyncResult, account: str) -> str:
    """What a sync did, on one line, in the words of the history and the dry
    run ("1 appointment copied to Work; 1 conflict resolved")."""
    if result.stopped and result.guard:
        return f"Stopped before deleting: {result.guard.reason}"
    parts = ["; ".join(_worded(result.counts, account, "did")) or "nothing to do"]
    if result.conflicts:
        parts.append(f"{count(result.conflicts, 'conflict')} resolved")
    if result.skipped:
        parts.append(f"{count(result.skipped, 'item')} skipped")
    if result.errors:
        parts.append(count(len(result.errors), "error"))
    return "; ".join(parts)


def describe_first_sync(result: SyncResult, account: str) -> str:
    """What a first sync did, in a user's words, with the items it left out."""
    text = sentence("; ".join(_worded(result.counts, account, "did") or [NOTHING_DID]))
    if result.skipped:
        text += (
            f" {count(result.skipped, 'item')} {noun(result.skipped, 'was')} left out "
            "(all-day, older than 30 days, …): see Troubleshooting › Skipped items."
        )
    return text


# --------------------------------------------------------------------------- planning


def plan_sync(
    store: Store, account: Account, provider: CalendarProvider, clock: Callable[[], datetime]
) -> Plan:
    """What a sync of ``account`` would do, writing nothing; closes ``provider``."""
    try:
        return SyncEngine(store, account, provider, clock=clock).plan()
    finally:
        provider.close()


def draft_account(
    pending: PendingAccount, calendar_id: str = "", sync_all_private: bool = False
) -> Account:
    """The account ``pending`` becomes once saved, for a preview before saving."""
    return Account(
        id="preview",
        kind=pending.kind,
        name=pending.email,
        email=pending.email,
        calendar_id=calendar_id,
        settings=dict(pending.settings),
        sync_all_private=sync_all_private,
    )


@dataclass(frozen=True)
class Preview:
    """A first sync's plan in counts, or why it could not be made."""

    summary: dict[str, int] | None
    skipped: int = 0
    error: ProviderError | None = None

    @property
    def problem(self) -> Explanation | None:
        """Why there is no plan, and what to do, in a user's words."""
        return explain(self.error) if self.error is not None else None

    def sentences(self, account: str) -> list[str]:
        return plan_sentences(self.summary or {}, account)

    def clauses(self, account: str) -> str:
        return plan_clauses(self.summary or {}, account)


def preview_first_sync(
    store: Store,
    account: Account,
    open_provider: Callable[[], CalendarProvider],
    clock: Callable[[], datetime],
) -> Preview:
    """What the first sync of ``account`` will do. A service that fails gives a
    preview with its problem, never an exception: the account can still be saved."""
    try:
        plan = plan_sync(store, account, open_provider(), clock)
    except ProviderError as error:
        return Preview(None, error=error)
    return Preview(plan.summary(), len(plan.skipped))
