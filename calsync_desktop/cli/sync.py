"""``calsync sync [--account NAME] [--dry-run] [--yes-delete | --restore-deleted]``
and ``calsync sync --from-scratch --account NAME``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from calsync_desktop.accounts.base import Account, AccountState
from calsync_desktop.accounts.kinds import KINDS
from calsync_desktop.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STOPPED,
    Commands,
    UsageError,
    add_account_option,
    find_account,
    print_json,
    quote,
)
from calsync_desktop.cli.kinds import add_hint, installed_module
from calsync_desktop.providers.base import ProviderError
from calsync_desktop.services import Services
from calsync_desktop.sync.engine import Decision, MassDeletionGuard, Plan, SyncResult
from calsync_desktop.sync.preview import describe_result, plan_clauses, plan_sync
from calsync_desktop.sync.runner import Explanation, SyncRunner, explain
from calsync_desktop.words import count


def _calendar_elsewhere(account: Account, module, services: Services) -> bool:
    # A calendar that lives only in the process that made it (the test kind):
    # syncing a fresh, empty one would look like everything was deleted remotely.
    return KINDS[account.kind].process_local and not module.calendar_exists(account, services)


def _guard_view(guard: MassDeletionGuard) -> dict[str, Any]:
    return {
        "reason": guard.reason,
        "in_scope": guard.in_scope,
        "delete_locally": guard.local_deletions,
        "delete_remotely": guard.remote_deletions,
    }


def _print_guard(guard: MassDeletionGuard, account: Account, dry_run: bool) -> None:
    verb = "would stop" if dry_run else "stopped"
    print(f"  The sync {verb} before deleting anything: {guard.reason}")
    for side, titles in (
        ("the Sales Calendar", guard.local_deletions),
        (account.name, guard.remote_deletions),
    ):
        if not titles:
            continue
        print(f"  To be deleted from {side} ({len(titles)}):")
        for title in titles[:20]:
            print(f"    - {title}")
        if len(titles) > 20:
            print(f"    … and {len(titles) - 20} more")
    name = quote(account.name)
    print(f"  To delete them: calsync sync --account {name} --yes-delete")
    print(f"  To bring them back instead: calsync sync --account {name} --restore-deleted")


@dataclass
class _AccountRun:
    """One account's part of ``calsync sync``: a note why it was left out, or
    the plan (dry run), or the result, or why planning failed."""

    account: Account
    note: str = ""
    plan: Plan | None = None
    result: SyncResult | None = None
    failure: Explanation | None = None

    @property
    def code(self) -> int:
        if self.failure or (self.result and self.result.errors):
            return EXIT_FAILED
        guard = (self.plan and self.plan.guard) or (self.result and self.result.stopped)
        return EXIT_STOPPED if guard else EXIT_OK

    def view(self, services: Services) -> dict[str, Any]:
        view: dict[str, Any] = {"account": self.account.name, "id": self.account.id}
        if self.note:
            view["note"] = self.note
        if self.failure:
            view.update(errors=[self.failure.problem], fix=self.failure.fix)
        if self.plan:
            view.update(
                plan=self.plan.summary(),
                skipped=len(self.plan.skipped),
                guard=_guard_view(self.plan.guard) if self.plan.guard else None,
            )
        if self.result:
            r = self.result
            after = services.store.get_account(self.account.id)
            view.update(
                summary=describe_result(r, self.account.name),
                counts=r.counts,
                conflicts=r.conflicts,
                skipped=r.skipped,
                errors=r.errors,
                stopped=r.stopped,
                guard=_guard_view(r.guard) if r.guard else None,
                state=after.state.value if after else None,
            )
        return view

    def print(self, services: Services) -> None:
        name = self.account.name
        if self.note:
            print(f"{name}: {self.note}")
        elif self.failure:
            print(f"{name}: {self.failure.problem}")
            print(f"  {self.failure.fix}")
        elif self.plan:
            print(f"{name} (dry run, nothing written): {plan_clauses(self.plan.summary(), name)}")
            if self.plan.skipped:
                print(f"  {count(len(self.plan.skipped), 'item')} would be skipped")
            if self.plan.guard:
                _print_guard(self.plan.guard, self.account, dry_run=True)
        elif self.result:
            print(f"{name}: {describe_result(self.result, name)}")
            if self.result.stopped and self.result.guard:
                _print_guard(self.result.guard, self.account, dry_run=False)
            for error in self.result.errors:
                print(f"  error: {error}")
            after = services.store.get_account(self.account.id)
            if after and after.state is AccountState.NEEDS_SIGN_IN:
                print(f"  Sign in again: calsync accounts add {self.account.kind} …")


def _targets(
    args: argparse.Namespace, services: Services, runner: SyncRunner
) -> tuple[list[Account], list[str]]:
    """The accounts to sync, and notes on the ones left out."""
    if args.account:
        return [find_account(services, args.account)], []
    store = services.store
    if store.get_setting("sync.paused", False):
        return [], ["Sync is paused (settings sync.paused)."]
    notes = []
    for a in store.list_accounts():
        if a.paused:
            notes.append(f"{a.name}: paused; not synced")
        elif a.state is AccountState.NEEDS_SIGN_IN:
            notes.append(f"{a.name}: needs sign-in; not synced")
    return runner.runnable_accounts(), notes


def cmd_sync(args: argparse.Namespace, services: Services) -> int:
    def confirm(guard: MassDeletionGuard) -> Decision:
        if args.yes_delete:
            return Decision.APPLY
        if args.restore_deleted:
            return Decision.RESTORE
        return Decision.STOP

    runner = SyncRunner(services, confirm=confirm)
    if args.from_scratch and not args.account:
        raise UsageError("--from-scratch needs --account NAME.")
    if args.from_scratch and args.dry_run:
        raise UsageError("--from-scratch cannot be a dry run.")
    accounts, notes = _targets(args, services, runner)
    runs = []
    for account in accounts:
        run = _AccountRun(account)
        runs.append(run)
        module = installed_module(account.kind)
        if module is None:
            run.note = f"this installation cannot sync {account.kind} accounts"
        elif _calendar_elsewhere(account, module, services):
            run.note = "a local test calendar exists only inside the app that made it; not synced"
        elif args.dry_run:
            try:
                run.plan = plan_sync(
                    services.store,
                    account,
                    module.open_provider(account, services),
                    services.clock,
                )
            except ProviderError as error:
                run.failure = explain(error)
        else:
            run.result = runner.sync_account(account.id, from_scratch=args.from_scratch)
    codes = {run.code for run in runs}
    code = EXIT_FAILED if EXIT_FAILED in codes else max(codes, default=EXIT_OK)
    if args.json:
        print_json(
            {
                "dry_run": args.dry_run,
                "accounts": [run.view(services) for run in runs],
                "notes": notes,
            }
        )
        return code
    for note in notes:
        print(note)
    if not accounts and not notes:
        print(f"No calendar accounts to sync. Add one with: calsync accounts add {add_hint()}")
    for run in runs:
        run.print(services)
    return code


def register(commands: Commands) -> None:
    sync = commands.add(
        "sync",
        help="sync now, headless, and print a summary",
        description="Syncs every account that is not paused and does not need a sign-in, "
        "or the one named (which syncs even when paused).",
    )
    add_account_option(sync)
    sync.add_argument(
        "--dry-run", action="store_true", help="print what the sync would do; change nothing"
    )
    guard = sync.add_mutually_exclusive_group()
    guard.add_argument(
        "--yes-delete",
        action="store_true",
        help="apply deletions even when the mass-deletion guard would stop",
    )
    guard.add_argument(
        "--restore-deleted",
        action="store_true",
        help="when the guard trips, bring the deleted appointments back instead",
    )
    sync.add_argument(
        "--from-scratch",
        action="store_true",
        help="forget the account's sync state and links, list both sides whole and link "
        "them again (nothing that exists on both sides is created again); needs --account",
    )
    sync.set_defaults(func=cmd_sync)
