"""Apply a plan: local-only actions in groups, remote writes in batches of what
the service takes in one request, each batch's local halves and links
committed together right after its remote results, then
the retries of what changed meanwhile, then the account's new sync state
(SPEC §4, Writes and Faults).

A crash at any point leaves a state the next run completes: an event created
remotely carries the local id and is re-linked, never duplicated; a group of
local writes rolls back whole and is redone, because the sync state is only
moved on at the very end.
"""

from __future__ import annotations

from calsync_desktop.accounts.base import AccountState
from calsync_desktop.providers.base import Create, NotFound, ProviderError
from calsync_desktop.sync.actions import Action, CreateLocally, DeleteRemotely
from calsync_desktop.sync.decide import decide
from calsync_desktop.sync.plan import Plan
from calsync_desktop.sync.run import SyncRun

IMPORT_CHUNK = 1000  # local-only writes between progress reports


def apply(run: SyncRun, plan: Plan) -> None:
    """Apply ``plan``'s actions and finish the run (the account's new state)."""
    store, account = run.store, run.account
    total = len(plan.actions)
    run.progress(0, total, "Syncing")
    run.send_invitations = (
        bool(store.get_setting("sync.send_invitations")) and account.first_sync_done
    )

    if run.journal is not None and plan.actions:
        run.journal.begin()  # outside the writes' transactions: they may roll back

    local_only = [a for a in plan.actions if a.local_only]
    remote = [a for a in plan.actions if not a.local_only]
    done = 0
    # the local writes commit together, once: a crash rolls them back, and
    # the next run (its sync state not yet advanced) redoes them
    with store.transaction():
        for start in range(0, len(local_only), IMPORT_CHUNK):
            group = local_only[start : start + IMPORT_CHUNK]
            CreateLocally.import_all(run, [a for a in group if isinstance(a, CreateLocally)])
            for action in group:
                if not isinstance(action, CreateLocally):
                    action.commit(run)
            done += len(group)
            run.progress(done, total, "Updating the Sales Calendar")

    # one request's writes at a time, their links committed right after it, so
    # a kill loses at most the links of the batch in flight (re-linked next run)
    batch = max(1, run.provider.write_batch_size)
    retry: list[Action] = []
    for start in range(0, len(remote), batch):
        chunk = remote[start : start + batch]
        writes = [a.write(run) for a in chunk]
        pairs = [(a, w) for a, w in zip(chunk, writes, strict=True) if w is not None]
        _log_conflicts(run, [a for a, _ in pairs])
        results = run.provider.write([w for _, w in pairs]) if pairs else []
        run.created_remote = run.created_remote or any(
            r.ok and isinstance(r.write, Create) for r in results
        )
        # the remote writes are done; their local halves commit together
        # (a crash before this commit is repaired by re-linking on local ids)
        with store.transaction():
            for action, write in zip(chunk, writes, strict=True):
                if write is None:
                    action.commit(run, None)
            for (action, _), outcome in zip(pairs, results, strict=True):
                if action.must_retry(outcome):
                    retry.append(action)  # changed or deleted meanwhile
                else:
                    action.commit(run, outcome)
        done += len(chunk)
        run.progress(min(done, total), total, f"Writing to {account.name}")

    for action in retry:  # changed meanwhile: fetch, merge and try once more
        _retry(run, action)
    finish(run, plan, advance=True)
    run.progress(total, total, "Done")


def _retry(run: SyncRun, action: Action) -> None:
    """Fetch the item again, merge afresh and write once more."""
    store = run.store
    try:
        event = run.provider.get(action.remote_id)
    except NotFound:
        event = None
    local = store.get_appointment(action.local_id)
    seq = store.appointment_seqs([action.local_id]).get(action.local_id, 0)
    fresh = decide(
        run,
        action.local_id,
        local,
        seq,
        event,
        action.link,
        tombstone=local is None and isinstance(action, DeleteRemotely),
        remote_deleted=event is None,
    )
    if fresh is None:
        return
    write = fresh.write(run)
    if write is None:
        fresh.commit(run, None)
        return
    _log_conflicts(run, [fresh])
    (outcome,) = run.provider.write([write])
    fresh.commit(run, outcome)


def _log_conflicts(run: SyncRun, actions: list[Action]) -> None:
    """The values these writes overwrite on the service, having lost a conflict,
    go to the conflict log before the writes: a crash before their local halves
    commit loses nothing silently (the next run finds both sides alike)."""
    with run.store.transaction():
        for action in actions:
            action.log_conflicts(run)


def _state_past_own_writes(run: SyncRun, state: str | None) -> str | None:
    """The sync state to keep after this run's remote writes.

    The state listed at the start predates them, and some services (Exchange)
    never report deleting an item created after a state. So list once more:
    when that listing holds only the echo of our own writes, its state is
    kept; anything else is left for the next run to list again.
    """
    if not run.created_remote or state is None or run.provider.reports_deleted_new_events:
        return state
    try:
        after = run.provider.changes(run.scope.window, state)
    except ProviderError:
        return state
    linked = run.store.status_for_remote(run.account.id, [e.remote_id for e in after.events])
    only_echo = not after.deleted and all(
        e.remote_id in linked and linked[e.remote_id].version == e.version and not e.cancelled
        for e in after.events
    )
    return after.state if only_echo else state


def _update_skipped(run: SyncRun, plan: Plan) -> None:
    """Replace the skipped-log entries of the items the run looked at; an item
    whose entries are the same as before keeps them as they were (and their
    date: when it was first skipped)."""
    entries, seen = [], set()
    for e in [*plan.skipped, *run.frozen.values(), *run.late_skipped]:
        key = (e.item_id, e.side, e.reason)
        if key not in seen:
            seen.add(key)
            entries.append(e)
    touched = set(plan.touched) | {e.item_id for e in entries}

    def grouped(items) -> dict[str, list]:
        out: dict[str, list] = {}
        for e in items:
            if e.item_id in touched:
                out.setdefault(e.item_id, []).append((e.side, e.item, e.reason, e.frozen))
        return {k: sorted(v) for k, v in out.items()}

    new, old = grouped(entries), grouped(run.skipped_before)
    same = {i for i in touched if new.get(i) == old.get(i)}
    run.store.update_skipped(
        run.account.id, touched - same, [e for e in entries if e.item_id not in same]
    )


def finish(run: SyncRun, plan: Plan, advance: bool) -> None:
    """End the run: the account's new sync state, change counter and state,
    and the skipped log of the items the run looked at."""
    store = run.store
    account = store.get_account(run.account.id) or run.account
    # what the provider learnt meanwhile (server version, sign-in method)
    account.settings = {**account.settings, **run.account.settings}
    if advance:
        if run.reread:
            pass  # events the service sent unreadably are listed again next run
        elif not run.keep_remote_state or not account.sync_state:
            account.sync_state = _state_past_own_writes(run, plan.changes.state)
        # an item whose push failed stays "changed" for the next run; the
        # sync's own writes are not changes, edits made meanwhile are
        account.local_seq = plan.seq_at_start
        for seq in store.seqs_since(plan.seq_at_start):
            if seq not in run.own_seqs:
                break
            account.local_seq = seq
        if run.failed_local_seq is not None:
            account.local_seq = min(account.local_seq, run.failed_local_seq)
        account.first_sync_done = True
        account.last_sync = run.clock()
        account.state = AccountState.OK if not run.result.errors else AccountState.ERROR
        account.last_error = "; ".join(run.result.errors[:3])
    store.remember_ical_uids(run.learnt_uids)
    _update_skipped(run, plan)
    store.update_account(account)
    run.account = account
    if run.journal is not None:
        run.journal.end("done" if advance else "stopped", run.result.counts)
