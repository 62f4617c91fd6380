"""Runs syncs for accounts and turns what goes wrong into account states and
plain-language explanations (SPEC §4 Faults, §6 Troubleshooting)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from calsync_desktop.accounts.base import Account, AccountState
from calsync_desktop.accounts.kinds import KINDS, kind_module
from calsync_desktop.providers.base import (
    BadCredentials,
    CalendarProvider,
    CertificateUntrusted,
    MalformedResponse,
    NeedsSignIn,
    NotACalendarService,
    ProviderError,
    RateLimited,
    ServerError,
    TimedOut,
    Unreachable,
)
from calsync_desktop.store import AccountBusy, StoreUnavailable
from calsync_desktop.store.journal import Journal, no_such_run
from calsync_desktop.store.resync import forget_sync
from calsync_desktop.sync.engine import Confirm, Progress, SyncEngine, SyncResult
from calsync_desktop.sync.undo import Undo, UndoPlan, UndoRefused, UndoResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Explanation:
    problem: str
    fix: str


_EXPLANATIONS: list[tuple[type[ProviderError], Explanation]] = [
    (
        BadCredentials,
        Explanation(
            # the article's wording, exactly
            "Failed to validate access to the server with your credentials, "
            "please review your details",
            "Check the username and password with your IT contact, or try to log in to the "
            "Office 365 portal or Outlook on the web with them.",
        ),
    ),
    (
        NeedsSignIn,
        Explanation(
            "Your sign-in for this calendar has expired or was changed, so syncing is paused. "
            "Nothing was deleted.",
            "Sign in again: Settings › Integrations › Edit (for Exchange, enter the new password).",
        ),
    ),
    (
        CertificateUntrusted,
        Explanation(
            "The server's security certificate is not trusted by this computer.",
            "If your company uses its own certificates, ask IT for the CA certificate file and "
            "choose it in Settings › Advanced › CA bundle.",
        ),
    ),
    (
        TimedOut,
        Explanation(
            "The server did not answer in time.",
            "Check your network connection; the next sync tries again by itself.",
        ),
    ),
    (
        Unreachable,
        Explanation(
            "The server cannot be reached.",
            "Check your network connection and the server address; the next sync tries again.",
        ),
    ),
    (
        NotACalendarService,
        Explanation(
            "The address answers, but it is not a calendar service.",
            "Check the server URL. For Exchange it usually ends in /EWS/Exchange.asmx.",
        ),
    ),
    (
        RateLimited,
        Explanation(
            "The calendar service asked calsync to slow down.",
            "Nothing to do: the sync continues later by itself.",
        ),
    ),
    (
        ServerError,
        Explanation(
            "The calendar service had a problem of its own.",
            "Nothing to do: the next sync tries again.",
        ),
    ),
    (
        MalformedResponse,
        Explanation(
            "The calendar service sent an answer that could not be read.",
            "The next sync tries again. If it keeps happening, copy the diagnostic report for "
            "your IT contact.",
        ),
    ),
]


_SIGN_IN_EXPLANATION = next(e for cls, e in _EXPLANATIONS if cls is NeedsSignIn)


# what to do when the error came outside a sync (signing in, adding an account,
# listing calendars): no next sync will try again by itself
_TRY_AGAIN = "Check your network connection and the server address, then try again."
_LATER = "Try again in a few minutes."
_OUTSIDE_SYNC: list[tuple[type[ProviderError], str]] = [
    (Unreachable, _TRY_AGAIN),  # TimedOut too
    (RateLimited, _LATER),
    (ServerError, _LATER),
    (MalformedResponse, _LATER),
]


def explain(error: BaseException, outside_sync: bool = False) -> Explanation:
    """What went wrong and what to do, in a user's words; ``outside_sync``: the
    error came while signing in or adding an account, not in a sync."""
    own_fix = getattr(error, "fix", "")  # the error's own advice, when it has one
    if outside_sync and not own_fix:
        own_fix = next((fix for cls, fix in _OUTSIDE_SYNC if isinstance(error, cls)), "")
    for cls, explanation in _EXPLANATIONS:
        if isinstance(error, cls):
            if own_fix:
                explanation = Explanation(explanation.problem, own_fix)
            # an unreachable server's own message only says the same again
            if cls in (NeedsSignIn, BadCredentials, Unreachable, TimedOut) or not str(error):
                return explanation
            return Explanation(f"{explanation.problem} ({error})", explanation.fix)
    return Explanation(
        f"The sync failed: {error}",
        own_fix
        or "Try Sync now; if it keeps failing, copy the diagnostic report from Troubleshooting.",
    )


def _fix_for(problem: str) -> str:
    """The fix for a stored ``last_error`` (the problem text :func:`explain` gave)."""
    for _, explanation in _EXPLANATIONS:
        if problem.startswith(explanation.problem):
            return explanation.fix
    return "Try Sync now; if it keeps failing, copy the diagnostic report from Troubleshooting."


def _cause(problem: str) -> str:
    """The general problem of an explanation, without its details in brackets."""
    for _, explanation in _EXPLANATIONS:
        if problem.startswith(explanation.problem):
            return explanation.problem
    return problem


def _local(moment: datetime) -> str:
    """A time as this computer's clock shows it (a window passes its own format)."""
    return f"on {moment.astimezone():%Y-%m-%d} at {moment.astimezone():%H:%M}"


SIGN_IN = "sign_in"
"""The action of a check that is fixed by signing in again."""


@dataclass(frozen=True)
class Check:
    """One line of Troubleshooting: ``ok`` None means not known. ``action``
    names what fixes it when a window can do it in one click (``sign_in``)."""

    name: str
    ok: bool | None
    explanation: str
    fix: str = ""
    action: str = ""


OpenProvider = Callable[[Account], CalendarProvider]


class SyncRunner:
    """Syncs accounts one at a time each, and keeps their state.

    ``open_provider`` defaults to the account kind's module; tests and the GUI
    may pass their own.
    """

    def __init__(
        self,
        services,
        open_provider: OpenProvider | None = None,
        progress: Progress | None = None,
        confirm: Confirm | None = None,
        lock_wait: float = 300.0,
    ):
        self.services = services
        self.lock_wait = lock_wait  # seconds to wait for another computer's sync of an account
        self._open = open_provider or (
            lambda account: kind_module(account.kind).open_provider(account, services)
        )
        self.progress = progress
        self.confirm = confirm
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, account_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(account_id, threading.Lock())

    def runnable_accounts(self) -> list[Account]:
        if self.services.store.get_setting("sync.paused", False):
            return []
        return [
            a
            for a in self.services.store.list_accounts()
            if not a.paused and a.state is not AccountState.NEEDS_SIGN_IN
        ]

    def sync_all(self) -> dict[str, SyncResult]:
        return {a.id: self.sync_account(a.id) for a in self.runnable_accounts()}

    def sync_account(
        self, account_id: str, trigger: str = "sync now", from_scratch: bool = False
    ) -> SyncResult:
        """One sync of one account; never raises for service failures.
        ``trigger`` says what started it (the history names it). ``from_scratch``
        first forgets the account's sync state and links: the sync then lists
        both sides whole and links them again by SPEC §4's evidence (SPEC §9)."""
        store = self.services.store
        with self._lock(account_id):
            try:
                account = store.get_account(account_id)
            except StoreUnavailable as lost:
                return SyncResult(errors=[str(lost)])
            if account is None:
                raise KeyError(account_id)
            done = SyncResult()  # what the run did before an error that ends it
            try:
                # on a team server, another computer of the same member may be
                # syncing this account: the database's lock lets one at a time
                with store.account_lock(account_id, self.lock_wait, account.name):
                    if from_scratch:
                        forget_sync(store, account_id)
                        account = store.get_account(account_id)
                        trigger = "from scratch"
                    result = self._run(account, trigger, done)
            except AccountBusy as busy:
                log.info("Sync of %s not run: %s", account.name, busy)
                return SyncResult(errors=[str(busy)])
            except StoreUnavailable as lost:
                # the team server went away: what was written there is committed,
                # the rest was rolled back, and the next sync goes on from there
                log.warning("Sync of %s stopped: %s", account.name, lost)
                return SyncResult(errors=[str(lost)])
            except ProviderError as error:
                return self._failed(account_id, error, done)
            log.info("Synced %s: %s", account.name, result.describe())
            return result

    def undo_run(
        self, run_id: int, dry_run: bool = False, stop: threading.Event | None = None
    ) -> tuple[UndoPlan, UndoResult | None]:
        """Undo the history's run ``run_id`` (SPEC §9), or with ``dry_run`` only
        plan it: the plan (what goes back, what is left alone) and the result
        (None for a dry run). Holds the account as a sync does; the
        mass-deletion guard asks through ``confirm``. Raises
        :class:`~calsync_desktop.sync.undo.UndoRefused` for a run that cannot
        be undone, the provider's errors as they come, and
        :class:`~calsync_desktop.providers.base.Cancelled` when ``stop`` is
        set while a dry run plans (the window's Cancel of the preview)."""
        store = self.services.store
        record = Journal(store).run(run_id)
        account = store.get_account(record.account_id) if record is not None else None
        if record is None:
            raise UndoRefused(no_such_run(store, run_id))
        if account is None:
            raise UndoRefused(f"The account of run {run_id} was removed; it cannot be undone.")
        with (
            self._lock(account.id),
            store.account_lock(account.id, self.lock_wait, account.name),
        ):
            provider = self._open(account)
            try:
                undo = Undo(
                    store,
                    account,
                    provider,
                    clock=self.services.clock,
                    confirm=self.confirm,
                    stop=stop if dry_run else None,  # an undo that writes runs to its end
                )
                plan = undo.plan(run_id)
                return plan, None if dry_run else undo.apply(plan)
            finally:
                provider.close()

    def _run(self, account: Account, trigger: str, result: SyncResult) -> SyncResult:
        provider = self._open(account)
        try:
            engine = SyncEngine(
                self.services.store,
                account,
                provider,
                clock=self.services.clock,
                progress=self.progress,
                confirm=self.confirm,
                trigger=trigger,
            )
            return engine.run(result)
        finally:
            provider.close()

    def _failed(
        self, account_id: str, error: ProviderError, done: SyncResult | None = None
    ) -> SyncResult:
        """The account's state after ``error`` ended its run; the result is
        ``done`` (what the run did before) with the error's explanation."""
        store = self.services.store
        account = store.get_account(account_id)
        explanation = explain(error)
        account.state = (
            AccountState.NEEDS_SIGN_IN if isinstance(error, NeedsSignIn) else AccountState.ERROR
        )
        account.last_error = explanation.problem
        store.update_account(account)
        log.warning("Sync of %s failed: %s", account.name, explanation.problem)
        done = done or SyncResult()
        done.errors.append(explanation.problem)
        return done

    def check_account(
        self, account_id: str, when: Callable[[datetime], str] = _local
    ) -> list[Check]:
        """Live checks for Troubleshooting: credentials, server, sign-in state, last sync.

        One cause is one failing check: an expired sign-in is reported once,
        with the sign-in as its action, not again as the state and the last
        sync. ``when(moment)`` writes a time the way the caller shows times.
        """
        account = self.services.store.get_account(account_id)
        checks: list[Check] = []
        try:
            provider = self._open(account)
            try:
                email = provider.account_email()
                calendars = provider.list_calendars()
            finally:
                provider.close()
        except NeedsSignIn as error:
            e = explain(error)
            checks.append(Check("Server reachable", True, "The server answered."))
            checks.append(Check("Credentials valid", False, e.problem, e.fix, SIGN_IN))
        except ProviderError as error:
            e = explain(error)
            checks.append(Check("Server reachable", False, e.problem, e.fix))
            checks.append(
                Check(
                    "Credentials valid",
                    None,
                    "Cannot be checked while the server is not reachable.",
                )
            )
        else:
            checks.append(Check("Server reachable", True, "The server answered."))
            checks.append(Check("Credentials valid", True, f"Signed in as {email}."))
            if (
                account.calendar_id
                and calendars
                and account.calendar_id not in {c.id for c in calendars}
                and account.calendar_id not in ("primary", "")
            ):
                checks.append(
                    Check(
                        "Calendar",
                        False,
                        "The calendar chosen for sync no longer exists.",
                        "Edit the account and choose another calendar.",
                    )
                )
        sign_in_reported = any(c.action == SIGN_IN for c in checks)
        if account.state is AccountState.NEEDS_SIGN_IN and not sign_in_reported:
            checks.append(
                Check(
                    "Sign-in",
                    False,
                    _SIGN_IN_EXPLANATION.problem,
                    _SIGN_IN_EXPLANATION.fix,
                    SIGN_IN,
                )
            )
            sign_in_reported = True
        elif (
            account.kind in KINDS
            and KINDS[account.kind].signs_in_with_token
            and not sign_in_reported
        ):
            checks.append(Check("Sign-in", True, "The sign-in token is valid."))
        reported = {_cause(c.explanation) for c in checks if c.ok is False}
        if sign_in_reported:
            reported.add(_SIGN_IN_EXPLANATION.problem)
        if (
            account.last_sync is None
            and account.last_error
            and _cause(account.last_error) in reported
        ):
            checks.append(Check("Last sync", None, "This account has not synced yet."))
        elif account.last_sync is None and account.last_error:
            # the first sync failed: say why and what to do, not "not synced yet"
            checks.append(
                Check(
                    "Last sync",
                    False,
                    f"The first sync failed: {account.last_error}",
                    _fix_for(account.last_error),
                )
            )
        elif account.last_sync is None:
            checks.append(Check("Last sync", None, "This account has not synced yet."))
        elif account.last_error and _cause(account.last_error) in reported:
            # the cause is already above: say only how far the sync got
            checks.append(
                Check(
                    "Last sync", None, f"The last sync that worked was {when(account.last_sync)}."
                )
            )
        elif account.last_error:
            checks.append(
                Check(
                    "Last sync",
                    False,
                    f"Had a problem: {account.last_error} The last sync that worked was "
                    f"{when(account.last_sync)}.",
                )
            )
        else:
            checks.append(Check("Last sync", True, f"Succeeded {when(account.last_sync)}."))
        return checks
