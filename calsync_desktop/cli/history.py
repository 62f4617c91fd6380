"""``calsync history [--account NAME]``, ``calsync history show RUN`` and
``calsync undo RUN [--dry-run]``: the sync history and undoing a run (SPEC §9).

The work is done by :mod:`calsync_desktop.sync.undo` (through
:meth:`SyncRunner.undo_run`, as the window's worker does) and the words are
:mod:`calsync_desktop.sync.history_words` (Settings › History shows the same);
this module only reads the arguments and prints. Private appointments show as "Private appointment"
with their time only.
"""

from __future__ import annotations

import argparse
from typing import Any

from calsync_desktop.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STOPPED,
    Commands,
    UsageError,
    add_account_option,
    chosen_account_id,
    field_json,
    iso,
    local_zone_name,
    logged_value,
    print_json,
    when,
    zone,
)
from calsync_desktop.cli.kinds import installed_module
from calsync_desktop.services import Services
from calsync_desktop.store import AccountBusy
from calsync_desktop.store.journal import Journal, Retention, RunRecord, no_such_run
from calsync_desktop.sync.engine import Decision, MassDeletionGuard
from calsync_desktop.sync.history import GONE, Change, field_values
from calsync_desktop.sync.history_words import (
    change_heading,
    change_rows,
    change_words,
    counts_text,
    field_words,
    item_words,
    preview_lines,
    side_words,
    state_words,
    trigger_words,
    undone_lines,
)
from calsync_desktop.sync.runner import SyncRunner
from calsync_desktop.sync.undo import UndoItem, UndoRefused, UndoResult, title_of
from calsync_desktop.words import count


def _account_name(services: Services, account_id: str) -> str:
    account = services.store.get_account(account_id)
    return account.name if account else "(removed account)"


def _run_view(services: Services, r: RunRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "account": _account_name(services, r.account_id),
        "account_id": r.account_id,
        "trigger": r.trigger,
        "started": iso(r.started),
        "finished": iso(r.finished),
        "state": r.state,
        "counts": r.counts,
        "undoes": r.undoes,
        "undone_by": r.undone_by,
    }


def cmd_history(args: argparse.Namespace, services: Services) -> int:
    runs = Journal(services.store).runs(chosen_account_id(args, services))
    if args.json:
        print_json([_run_view(services, r) for r in runs])
        return EXIT_OK
    if not runs:
        days = Retention.of(services.store).days
        print(f"No sync has changed anything yet (the history keeps {count(days, 'day')}).")
        return EXIT_OK
    tz = zone(local_zone_name(services.env))
    print(f"{count(len(runs), 'sync run')} that changed something, newest first:")
    for r in runs:
        name = _account_name(services, r.account_id)
        counts = counts_text(r, name)
        trigger = trigger_words(r.trigger)
        print(f"  {r.id:>5}  {when(r.started, tz)}  {name} ({trigger}): {counts}{state_words(r)}")
    print("Details: calsync history show RUN; to put a run's changes back: calsync undo RUN")
    return EXIT_OK


def _change_view(c: Change, account: str) -> dict[str, Any]:
    return {
        "appointment_id": c.local_id,
        "appointment": title_of(c),
        "kind": c.kind,
        "what": change_words(c, account),
        "sides": c.sides,
        "remote_id": c.remote_id,
        "version_before": c.version_before,
        "version_after": c.version_after,
        "private": c.private,
        "fields": [
            {"side": side, "field": name, "before": _json(name, old), "after": _json(name, new)}
            for side, name, old, new in field_values(c)
        ],
    }


def _json(name: str, value: Any) -> Any:
    return None if value is GONE else field_json(name, value)


def _find_run(services: Services, run_id: int) -> RunRecord:
    record = Journal(services.store).run(run_id)
    if record is None:
        raise UsageError(no_such_run(services.store, run_id))
    return record


def cmd_show(args: argparse.Namespace, services: Services) -> int:
    record = _find_run(services, args.run)
    changes = [Change.from_entry(e) for e in Journal(services.store).entries(record.id)]
    name = _account_name(services, record.account_id)
    if args.json:
        views = [_change_view(c, name) for c in changes]
        print_json({**_run_view(services, record), "changes": views})
        return EXIT_OK
    tz = zone(local_zone_name(services.env))
    started = when(record.started, tz)
    trigger = trigger_words(record.trigger)
    print(f"Run {record.id}: {name}, {started} ({trigger}){state_words(record)}")
    if not changes:
        print("  It changed nothing.")
    for c in changes:
        print(f"  {change_heading(c, name)}")
        for side, field, old, new in change_rows(c):
            old, new = logged_value(field, old, tz), logged_value(field, new, tz)
            print(f"      {field_words(field)} ({side_words(side, name)}): {old} → {new}")
    return EXIT_OK


# --------------------------------------------------------------------------- undo


def _item_view(i: UndoItem, account: str) -> dict[str, Any]:
    return {
        "appointment_id": i.change.local_id,
        "appointment": i.title,
        "kind": i.change.kind,
        "local": i.local,
        "remote": i.remote,
        "left_alone": i.left_alone or None,
        "what": item_words(i, account),
    }


def _print_guard(guard: MassDeletionGuard, run_id: int) -> None:
    print(f"  The undo stopped before deleting anything: {guard.reason}")
    print(f"  To delete them: calsync undo {run_id} --yes-delete")
    print(f"  To keep them and put back the rest: calsync undo {run_id} --keep-deleted")


def _runner(args: argparse.Namespace, services: Services, record: RunRecord) -> SyncRunner:
    account = services.store.get_account(record.account_id)
    if account is None:
        raise UsageError(f"The account of run {record.id} was removed; it cannot be undone.")
    module = installed_module(account.kind)
    if module is None:
        raise UsageError(f"This installation cannot reach {account.kind} accounts.")

    def confirm(guard: MassDeletionGuard) -> Decision:
        if args.yes_delete:
            return Decision.APPLY
        if args.keep_deleted:
            return Decision.RESTORE
        return Decision.STOP

    return SyncRunner(
        services, open_provider=lambda a: module.open_provider(a, services), confirm=confirm
    )


def _result_view(result: UndoResult, account: str) -> dict[str, Any]:
    return {
        "run": result.run_id,
        "counts": result.counts,
        "stopped": result.stopped,
        "left_alone": [_item_view(i, account) for i in result.left_alone],
        "errors": result.errors,
    }


def cmd_undo(args: argparse.Namespace, services: Services) -> int:
    record = _find_run(services, args.run)
    runner = _runner(args, services, record)
    name = _account_name(services, record.account_id)
    try:
        plan, result = runner.undo_run(record.id, dry_run=args.dry_run)
    except (UndoRefused, AccountBusy) as refused:
        raise UsageError(str(refused)) from None
    if result is None:  # a dry run
        if args.json:
            print_json(
                {
                    "dry_run": True,
                    "run": record.id,
                    "put_back": [_item_view(i, name) for i in plan.put_back],
                    "left_alone": [_item_view(i, name) for i in plan.left_alone],
                    "guard": plan.guard.reason if plan.guard else None,
                }
            )
        else:
            print("\n".join(preview_lines(plan, name)))
        return EXIT_STOPPED if plan.guard else EXIT_OK
    if args.json:
        print_json(_result_view(result, name))
    elif result.stopped:
        print("\n".join(preview_lines(plan, name, guard=False)))
        _print_guard(plan.guard, record.id)
    else:
        print("\n".join(undone_lines(result, record.id, name)))
        if result.run_id is not None:  # else it put nothing back
            print(f"To have it back as the run left it: calsync undo {result.run_id}")
    if result.stopped:
        return EXIT_STOPPED
    return EXIT_FAILED if result.errors else EXIT_OK


def register(commands: Commands) -> None:
    history = commands.add(
        "history",
        help="the sync runs that changed something, and what each changed",
        description="Lists the runs the history keeps (30 days unless the setting "
        "history.days says otherwise), newest first. Private appointments "
        "show as 'Private appointment' with their time only.",
    )
    add_account_option(history)
    history.set_defaults(func=cmd_history)
    actions = commands.actions(history, required=False)
    show = actions.add("show", help="what one run changed, field by field, on both sides")
    show.add_argument("run", type=int, metavar="RUN", help="the run's number")
    show.set_defaults(func=cmd_show)

    undo = commands.add(
        "undo",
        help="put both sides back as they were before a sync run",
        description="Every appointment the run changed goes back on both sides, unless it "
        "changed again since (those are listed and left alone). The undo is a run of its "
        "own and can itself be undone. It sends no invitation mails.",
    )
    undo.add_argument("run", type=int, metavar="RUN", help="the run's number (calsync history)")
    undo.add_argument(
        "--dry-run", action="store_true", help="print what would be put back; change nothing"
    )
    guard = undo.add_mutually_exclusive_group()
    guard.add_argument(
        "--yes-delete", action="store_true", help="delete even when the deletion warning stops"
    )
    guard.add_argument(
        "--keep-deleted",
        action="store_true",
        help="when the deletion warning stops, keep what would be deleted and put back the rest",
    )
    undo.set_defaults(func=cmd_undo)
