"""Exchange writes: CreateItem / UpdateItem / DeleteItem in batches, then occurrences.

Each batch carries at most :data:`BATCH` items and the change keys read
(NeverOverwrite: a stale key is ErrorIrresolvableConflict); a series' deleted
and edited occurrences are then applied by instance index.
"""

from __future__ import annotations

from collections.abc import Sequence

from exchangelib import (
    Attendee,
    Body,
    CalendarItem,
    EWSTimeZone,
    Mailbox,
)
from exchangelib.items import SEND_AND_SAVE_COPY, AcceptItem, DeclineItem, TentativelyAcceptItem
from exchangelib.properties import ItemId, OccurrenceItemId, ReferenceItemId

from calsync_desktop.model import MyResponse, Recurrence
from calsync_desktop.providers.base import (
    AlreadyExists,
    CertificateUntrusted,
    ChangedMeanwhile,
    Create,
    Delete,
    EventDraft,
    NeedsSignIn,
    NotFound,
    ProviderError,
    RemoteEvent,
    Respond,
    Update,
    Write,
    WriteResult,
    whole_batch,
)
from calsync_desktop.providers.ews.mapping import (
    LOCAL_ID_FIELD,
    ews_time,
    ews_to_rrule,
    rrule_to_ews,
    show_as_word,
    utc,
)
from calsync_desktop.providers.ews.wire import BATCH, SEND_TO_ALL, SEND_TO_NONE, translate
from calsync_desktop.providers.kit.contents import join_contents, split_contents
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, put_back
from calsync_desktop.providers.kit.rrule import occurrence_starts

# The response object that sends each answer (types.xsd NonEmptyArrayOfResponseObjectsType).
ANSWER_ITEMS = {
    MyResponse.ACCEPTED: AcceptItem,
    MyResponse.TENTATIVE: TentativelyAcceptItem,
    MyResponse.DECLINED: DeclineItem,
}


class ExchangeWrites:
    """The writing side of :class:`ExchangeProvider`: CreateItem / UpdateItem /
    DeleteItem in batches of :data:`BATCH` with change keys, then a series'
    deleted and edited occurrences by instance index."""

    @whole_batch
    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        results: dict[int, WriteResult] = {}
        creates = [(i, w) for i, w in enumerate(writes) if isinstance(w, Create)]
        updates = [(i, w) for i, w in enumerate(writes) if isinstance(w, Update)]
        deletes = [(i, w) for i, w in enumerate(writes) if isinstance(w, Delete)]
        answers = [(i, w) for i, w in enumerate(writes) if isinstance(w, Respond)]
        for group, handler in (
            (creates, self._creates),
            (updates, self._updates),
            (deletes, self._deletes),
            (answers, self._answers),
        ):
            if not group:
                continue
            try:
                results.update(handler(group))
            except ProviderError as error:
                if error.transient or isinstance(error, NeedsSignIn | CertificateUntrusted):
                    raise
                for i, w in group:
                    results.setdefault(i, WriteResult(w, None, error))
        return [results[i] for i in range(len(writes))]

    def _answers(self, group: list[tuple[int, Respond]]) -> dict[int, WriteResult]:
        """Answers to meetings someone else organises, each a response object
        (AcceptItem, TentativelyAcceptItem, DeclineItem) naming the calendar item,
        sent by CreateItem with MessageDisposition SendAndSaveCopy: never an
        UpdateItem of the meeting. The attendee's own copy (show-as) is updated
        first when asked. A declined meeting is in Deleted Items afterwards: its
        result has no event."""
        account, _ = self._ready()
        out: dict[int, WriteResult] = {}
        for i, write in group:
            version = write.version
            if write.own_copy is not None:
                (done,) = self._updates([(i, write.own_copy)]).values()
                if not done.ok:
                    out[i] = WriteResult(write, None, done.error)
                    continue
                version = done.event.version if done.event is not None else version
            reply = ANSWER_ITEMS[write.response](
                account=account,
                reference_item_id=ReferenceItemId(id=write.remote_id, changekey=version),
            )
            try:
                sent = self._call(
                    lambda reply=reply: reply.send(message_disposition=SEND_AND_SAVE_COPY)
                )
                # exchangelib hands a refused item back as an exception among its results
                for outcome in sent if isinstance(sent, list) else [sent]:
                    if isinstance(outcome, Exception):
                        raise translate(outcome)
            except ProviderError as error:
                out[i] = WriteResult(write, None, error)
                continue
            try:
                out[i] = WriteResult(write, self.get(write.remote_id))
            except NotFound:
                out[i] = WriteResult(write, None)  # declined: moved to Deleted Items
            except ProviderError as error:
                out[i] = WriteResult(write, None, error)
        return out

    def _calendar_item(self, draft: EventDraft, **extra) -> CalendarItem:
        account, folder = self._ready()
        tz = EWSTimeZone(draft.timezone) if draft.timezone else EWSTimeZone("UTC")
        item = CalendarItem(
            account=account,
            folder=folder,
            subject=draft.subject[:255],
            body=Body(draft.body) if draft.body else None,
            location=draft.location or None,
            start=ews_time(draft.start, tz),
            end=ews_time(draft.end, tz),
            is_all_day=False,
            sensitivity="Private" if draft.private else "Normal",
            legacy_free_busy_status=show_as_word(draft.show_as, account.version),
            required_attendees=[
                Attendee(
                    mailbox=Mailbox(email_address=p.email, name=p.name or None),
                    response_type="Unknown",
                )
                for p in draft.attendees
                if p.email
            ]
            or None,
            recurrence=rrule_to_ews(draft.recurrence.rrule, draft.start, draft.timezone)
            if draft.recurrence
            else None,
            **extra,
        )
        return item

    def _creates(self, group: list[tuple[int, Create]]) -> dict[int, WriteResult]:
        account, folder = self._ready()
        out: dict[int, WriteResult] = {}
        existing = self._find_local_ids([w.draft.local_id for _, w in group])
        pending: list[tuple[int, Create, CalendarItem]] = []
        seen: set[str] = set()
        for i, w in group:
            lid = w.draft.local_id
            if lid in existing or lid in seen:
                out[i] = WriteResult(
                    w,
                    None,
                    AlreadyExists(
                        "The appointment is on the Exchange calendar already.", existing.get(lid)
                    ),
                )
                continue
            try:
                item = self._calendar_item(w.draft, **{LOCAL_ID_FIELD: lid})
            except ProviderError as error:
                out[i] = WriteResult(w, None, error)
                continue
            except (ValueError, TypeError) as exc:
                out[i] = WriteResult(w, None, translate(exc))
                continue
            seen.add(lid)
            pending.append((i, w, item))
        for send in (False, True):
            batch = [p for p in pending if p[1].send_invitations is send]
            for j in range(0, len(batch), BATCH):
                chunk = batch[j : j + BATCH]
                created = self._call(
                    lambda chunk=chunk, send=send: account.bulk_create(
                        folder=folder,
                        items=[p[2] for p in chunk],
                        send_meeting_invitations=SEND_TO_ALL if send else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
                refetch = []
                for (i, w, _), result in zip(chunk, created, strict=True):
                    if isinstance(result, Exception):
                        out[i] = WriteResult(w, None, translate(result))
                        continue
                    rec = w.draft.recurrence
                    if rec is not None and (rec.exdates or rec.overrides):
                        refetch.append((i, w, result.id))
                        continue
                    out[i] = WriteResult(
                        w, self._event_from_draft(result.id, result.changekey, w.draft)
                    )
                for i, w, remote_id in refetch:
                    out[i] = self._finish_series(w, remote_id, send)
        return out

    def _finish_series(self, write: Create | Update, remote_id: str, send: bool) -> WriteResult:
        """Apply a draft's deleted and edited occurrences to the series just written."""
        try:
            self._apply_occurrences(remote_id, write.draft, send)
            return WriteResult(write, self.get(remote_id))
        except ProviderError as error:
            return WriteResult(write, None, error)

    def _apply_occurrences(self, master_id: str, draft: EventDraft, send: bool) -> None:
        account, _ = self._ready()
        rec = draft.recurrence
        if rec is None:
            return
        current = self.get(master_id)
        have_deleted = set(current.recurrence.exdates) if current.recurrence else set()
        have_overrides = {
            o.original_start: o
            for o in (current.recurrence.overrides if current.recurrence else ())
        }
        starts = occurrence_starts(rec.rrule, draft.start, draft.timezone)
        index = {s: n for n, s in enumerate(starts, start=1)}
        to_delete = [
            OccurrenceItemId(id=master_id, instance_index=index[utc(d)])
            for d in rec.exdates
            if utc(d) in index and utc(d) not in have_deleted
        ]
        # exceptions the draft does not override follow the series (kit/occurrences.py)
        back = put_back(
            have_overrides.values(),
            rec,
            join_contents(draft.subject, draft.body),
            draft.location,
            draft.end - draft.start,
        )
        edits = [
            o
            for o in (*rec.overrides, *back)
            if utc(o.original_start) in index
            and utc(o.original_start) not in rec.exdates
            and have_overrides.get(utc(o.original_start)) != o
        ]
        if edits:
            occ_ids = [
                OccurrenceItemId(id=master_id, instance_index=index[utc(o.original_start)])
                for o in edits
            ]
            occurrences = self._get_items(occ_ids, ["subject"])
            updates = []
            for o, occ in zip(edits, occurrences, strict=True):
                if isinstance(occ, Exception):
                    raise translate(occ)
                subject, body = split_contents(o.contents)
                tz = EWSTimeZone(draft.timezone)
                target = CalendarItem(
                    account=account,
                    id=occ.id,
                    changekey=occ.changekey,
                    subject=subject,
                    body=Body(body) if body else None,
                    location=o.location or None,
                    start=ews_time(o.start, tz),
                    end=ews_time(o.end, tz),
                )
                updates.append((target, ["subject", "body", "location", "start", "end"]))
            for result in self._call(
                lambda: list(
                    account.bulk_update(
                        items=updates,
                        conflict_resolution="AlwaysOverwrite",
                        send_meeting_invitations_or_cancellations=SEND_TO_ALL
                        if send
                        else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
            ):
                if isinstance(result, Exception):
                    raise translate(result)
        if to_delete:
            for result in self._call(
                lambda: list(
                    account.bulk_delete(
                        ids=to_delete,
                        send_meeting_cancellations=SEND_TO_ALL if send else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
            ):
                if isinstance(result, Exception) and not isinstance(translate(result), NotFound):
                    raise translate(result)

    def _event_from_draft(self, remote_id: str, version: str, draft: EventDraft) -> RemoteEvent:
        """The event just created, without reading it back: the fields as
        Exchange will report them (the rule in the converter's canonical form)."""
        recurrence = draft.recurrence
        if recurrence is not None:
            canonical = ews_to_rrule(
                rrule_to_ews(recurrence.rrule, draft.start, draft.timezone),
                draft.start,
                draft.timezone,
            )
            recurrence = Recurrence(canonical, recurrence.exdates, recurrence.overrides)
        return RemoteEvent(
            remote_id=remote_id,
            version=version,
            subject=draft.subject[:255],
            start=draft.start,
            end=draft.end,
            timezone=draft.timezone,
            body=draft.body,
            location=draft.location,
            private=draft.private,
            attendees=tuple(p for p in draft.attendees if p.email),
            recurrence=recurrence,
            local_id=draft.local_id,
        )

    def _updates(self, group: list[tuple[int, Update]]) -> dict[int, WriteResult]:
        account, _ = self._ready()
        out: dict[int, WriteResult] = {}
        pending = []
        for i, w in group:
            names = []
            for f in w.fields:
                names += {
                    "subject": ["subject"],
                    "body": ["body"],
                    "location": ["location"],
                    "time": ["start", "end"],
                    "private": ["sensitivity"],
                    "show_as": ["legacy_free_busy_status"],
                    "attendees": ["required_attendees"],
                    "recurrence": ["recurrence"],
                }.get(f, [])
            try:
                item = self._calendar_item(w.draft)
            except ProviderError as error:
                out[i] = WriteResult(w, None, error)
                continue
            except (ValueError, TypeError) as exc:
                out[i] = WriteResult(w, None, translate(exc))
                continue
            item._id = ItemId(w.remote_id, w.version)
            pending.append((i, w, item, sorted(set(names))))
        for send in (False, True):
            batch = [p for p in pending if p[1].send_invitations is send]
            for j in range(0, len(batch), BATCH):
                chunk = batch[j : j + BATCH]
                with_fields = [p for p in chunk if p[3]]
                results = iter(
                    self._call(
                        lambda with_fields=with_fields, send=send: list(
                            account.bulk_update(
                                items=[(p[2], p[3]) for p in with_fields],
                                conflict_resolution="NeverOverwrite",
                                send_meeting_invitations_or_cancellations=SEND_TO_ALL
                                if send
                                else SEND_TO_NONE,
                                chunk_size=BATCH,
                            )
                        )
                    )
                    if with_fields
                    else []
                )
                done = []
                for i, w, _, names in chunk:
                    if not names:
                        done.append((i, w))
                        continue
                    result = next(results)
                    if isinstance(result, Exception):
                        out[i] = WriteResult(w, None, translate(result))
                    else:
                        if SERIES_FIELDS & w.fields and w.draft.recurrence:
                            try:
                                self._apply_occurrences(w.remote_id, w.draft, send)
                            except ProviderError as error:
                                out[i] = WriteResult(w, None, error)
                                continue
                        done.append((i, w))
                fetched = {e.remote_id: e for e in self._fetch([w.remote_id for _, w in done])}
                for i, w in done:
                    event = fetched.get(w.remote_id)
                    out[i] = WriteResult(
                        w, event, None if event else NotFound("The appointment no longer exists.")
                    )
        return out

    def _deletes(self, group: list[tuple[int, Delete]]) -> dict[int, WriteResult]:
        account, _ = self._ready()
        out: dict[int, WriteResult] = {}
        # Exchange ignores change keys on DeleteItem, so check them first (one GetItem per 100).
        current = self._get_items([ItemId(w.remote_id) for _, w in group], ["subject"])
        ok = []
        for (i, w), item in zip(group, current, strict=True):
            if isinstance(item, Exception):
                out[i] = WriteResult(w, None, translate(item))
            elif w.version and item.changekey != w.version:
                out[i] = WriteResult(
                    w,
                    None,
                    ChangedMeanwhile(
                        "The appointment was changed on the Exchange server meanwhile."
                    ),
                )
            else:
                ok.append((i, w))
        for send in (False, True):
            batch = [p for p in ok if p[1].send_invitations is send]
            if not batch:
                continue
            results = self._call(
                lambda batch=batch, send=send: list(
                    account.bulk_delete(
                        ids=[ItemId(w.remote_id, w.version or None) for _, w in batch],
                        send_meeting_cancellations=SEND_TO_ALL if send else SEND_TO_NONE,
                        chunk_size=BATCH,
                    )
                )
            )
            for (i, w), result in zip(batch, results, strict=True):
                error = translate(result) if isinstance(result, Exception) else None
                out[i] = WriteResult(w, None, error)
        return out
