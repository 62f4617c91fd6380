"""The Office 365 provider: listing, series assembly and writes over Graph.

:class:`GraphProvider` lists with ``calendarView/delta`` (the delta link and the
occurrences seen per series are the opaque sync state), fetches changed series
masters, and writes through ``$batch`` with ``If-Match`` on the change key,
then a second pass for a series' deleted and edited occurrences. HTTP is in
``wire.py``, field names in ``mapping.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import requests

from calsync_desktop.model import Recurrence
from calsync_desktop.providers.base import (
    AlreadyExists,
    Backoff,
    CalendarInfo,
    CalendarProvider,
    ChangeSet,
    Create,
    Delete,
    EventDraft,
    InvalidEvent,
    MalformedResponse,
    ProviderError,
    RemoteEvent,
    Respond,
    SyncStateExpired,
    TimeWindow,
    Write,
    WriteResult,
    whole_batch,
)
from calsync_desktop.providers.graph.mapping import (
    ANSWER_ACTIONS,
    EXPAND_LOCAL_ID,
    FIELDS,
    LOCAL_ID_PROPERTY,
    draft_body,
    local_id_of,
    parse_stamp,
    patch_occurrence,
    to_remote_event,
)
from calsync_desktop.providers.graph.wire import (
    BATCH_SIZE,
    DEFAULT_ENDPOINT,
    PAGE_SIZE,
    TIMEOUT,
    GraphWire,
    TokenSource,
    raise_for,
)
from calsync_desktop.providers.kit.contents import join_contents
from calsync_desktop.providers.kit.occurrences import SERIES_FIELDS, put_back
from calsync_desktop.providers.kit.reading import Readings

log = logging.getLogger(__package__)  # one logger for the whole provider


WINDOW_SLACK = timedelta(days=7)  # how far the horizon may move before listing again


@dataclass
class _State:
    """The sync state: the delta link, and the occurrence ids seen per series
    (calendarView delta reports a deleted series only by its occurrences' ids)."""

    delta: str
    series: dict[str, list[str]]
    end: str = ""  # the window's end the delta link follows (ISO, UTC)
    #: the immutable id of each meeting someone else organises, by its REST id:
    #: declined in Outlook, it moves to Deleted Items, where only that id finds it
    meetings: dict[str, str] = field(default_factory=dict)

    def dump(self) -> str:
        data = {"v": 1, "delta": self.delta, "end": self.end, "series": self.series}
        if self.meetings:
            data["meetings"] = self.meetings
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> _State:
        try:
            data = json.loads(text)
            series = {k: list(v) for k, v in data.get("series", {}).items()}
            meetings = {str(k): str(v) for k, v in data.get("meetings", {}).items()}
            return cls(str(data["delta"]), series, str(data.get("end", "")), meetings)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SyncStateExpired("The saved Office 365 sync state cannot be read.") from exc

    def master_of(self) -> dict[str, str]:
        return {occ: master for master, occs in self.series.items() for occ in occs}


class GraphProvider(GraphWire, CalendarProvider):
    """One calendar of an Office 365 mailbox, through Microsoft Graph v1.0.

    Promises: real HTTPS with certificate checks (``ca_bundle`` adds trust for a
    corporate proxy; verification is never switched off); at most 20 calls per
    ``$batch``; a nothing-changed :meth:`changes` costs one request; every
    service error leaves as a :class:`ProviderError`, with no token or private
    content in its message.
    """

    kind = "office365"
    write_batch_size = BATCH_SIZE

    def __init__(
        self,
        token_source: TokenSource,
        calendar_id: str = "",
        endpoint: str = DEFAULT_ENDPOINT,
        ca_bundle: str | None = None,
        backoff: Backoff | None = None,
        session: requests.Session | None = None,
        timeout: float = TIMEOUT,
        page_size: int = PAGE_SIZE,
    ):
        self._token_source = token_source
        self._token: str | None = None
        self.calendar_id = calendar_id
        self.endpoint = endpoint.rstrip("/")
        self.backoff = backoff or Backoff()
        self.session = session or requests.Session()
        # Passed on each request: requests lets REQUESTS_CA_BUNDLE override a
        # session's verify, which would drop the CA bundle the user chose.
        self._verify: str | bool = ca_bundle or True
        self.timeout = timeout
        self.page_size = page_size
        self._email: str | None = None

    def __repr__(self) -> str:
        return f"<GraphProvider {self.endpoint} calendar={self.calendar_id or 'default'}>"

    # ------------------------------------------------------------------ HTTP

    def account_email(self) -> str:
        if self._email is None:
            me = self._get("/me", {"$select": "mail,userPrincipalName"})
            self._email = me.get("mail") or me.get("userPrincipalName") or ""
        return self._email

    def list_calendars(self) -> list[CalendarInfo]:
        out = []
        for page in self._pages("/me/calendars", {"$select": "id,name,isDefaultCalendar,canEdit"}):
            for item in page.get("value") or ():
                out.append(
                    CalendarInfo(
                        item["id"],
                        item.get("name") or "Calendar",
                        primary=bool(item.get("isDefaultCalendar")),
                        can_write=bool(item.get("canEdit", True)),
                    )
                )
        return out

    def get(self, remote_id: str) -> RemoteEvent:
        item = self._get(f"/me/events/{quote(remote_id, safe='')}", self._full_params())
        return to_remote_event(item)

    def _full_params(self) -> dict:
        return {"$select": FIELDS, "$expand": f"exceptionOccurrences,{EXPAND_LOCAL_ID}"}

    def _full_request(self, remote_id: str) -> dict:
        params = self._full_params()
        query = "&".join(f"{k}={quote(v, safe=',()=$')}" for k, v in params.items())
        return {"method": "GET", "url": f"/me/events/{quote(remote_id, safe='')}?{query}"}

    def find_by_local_id(self, local_id: str) -> RemoteEvent | None:
        flt = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{LOCAL_ID_PROPERTY}' "
            f"and ep/value eq '{local_id.replace(chr(39), chr(39) * 2)}')"
        )
        page = self._get(f"{self._calendar_path()}/events", {"$filter": flt, "$select": "id"})
        for item in page.get("value") or ():
            return self.get(item["id"])
        return None

    def changes(
        self, window: TimeWindow, state: str | None, *, local_ids: bool = True
    ) -> ChangeSet:
        if state is None:
            return self._full_listing(window, local_ids)
        saved = _State.load(state)
        # A delta link follows the window it was made for. Once the horizon has
        # moved on by a week, list again so new days ahead are followed too.
        end = parse_stamp(saved.end)
        if end is None or window.end > end + WINDOW_SLACK:
            raise SyncStateExpired("The Office 365 sync window has moved on; listing again.")
        return self._incremental(saved)

    def _delta_round(self, first: str, params: dict | None) -> tuple[list[dict], list[str], str]:
        changed: list[dict] = []
        removed: list[str] = []
        link = None
        for page in self._pages(first, params):
            for item in page.get("value") or ():
                if "@removed" in item:
                    removed.append(item["id"])
                else:
                    changed.append(item)
            link = page.get("@odata.deltaLink") or link
        if not link:
            raise MalformedResponse("Office 365 ended a change listing without a delta link.")
        return changed, removed, link

    def _full_listing(self, window: TimeWindow, local_ids: bool) -> ChangeSet:
        span = {
            "startDateTime": window.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": window.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        instances, _, link = self._delta_round(f"{self._calendar_path()}/calendarView/delta", span)
        # The delta function takes no $expand, so the local ids stamped on events
        # come from calendarView, a second pass over the window (ids only); not
        # needed when the Sales Calendar holds nothing they could link (a first
        # sync into an empty one), nor for events calsync created (transactionId).
        stamped: dict[str, str] = {}
        if local_ids:
            params = {**span, "$select": "id", "$expand": EXPAND_LOCAL_ID}
            for page in self._pages(f"{self._calendar_path()}/calendarView", params):
                for item in page.get("value") or ():
                    found = local_id_of(item)
                    if found:
                        stamped[item["id"]] = found
        series: dict[str, list[str]] = {}
        events: list[RemoteEvent] = []
        readings = Readings("Office 365")
        for item in instances:
            master = item.get("seriesMasterId")
            if master:
                series.setdefault(master, []).append(item["id"])
                continue
            event = readings.read(item["id"], lambda i=item: to_remote_event(i))
            if event is not None:
                events.append(_with_local_id(event, stamped.get(item["id"])))
        masters, gone = self._fetch(list(series), readings)
        events.extend(masters)
        for master_id in gone:
            series.pop(master_id, None)
        end = window.end.astimezone(UTC).isoformat()
        state = _State(link, series, end, self._meeting_ids(events, {})).dump()
        return ChangeSet(events, [], state, True, readings.unreadable)

    def _incremental(self, state: _State) -> ChangeSet:
        changed, removed, link = self._delta_round(state.delta, None)
        series = {k: list(v) for k, v in state.series.items()}
        if not changed and not removed:
            same = _State(link, series, state.end, state.meetings).dump()
            return ChangeSet([], [], same, complete=False)
        master_of = state.master_of()
        singles: dict[str, dict] = {}
        masters: list[str] = []
        read_again: list[str] = []
        for item in changed:
            master = item.get("seriesMasterId")
            if master:
                if item["id"] not in series.setdefault(master, []):
                    series[master].append(item["id"])
                masters.append(master)
            else:
                singles[item["id"]] = item  # listed twice: the later page is newer
        for rid in removed:
            master = master_of.get(rid)
            if master:
                series[master] = [o for o in series.get(master, []) if o != rid]
                masters.append(master)
            else:
                # Deleted, or moved out of the window: only a read tells which.
                read_again.append(rid)
        # A changed single instance is in the delta page whole (with its local id
        # when calsync made it: its transactionId), so only series masters (for
        # their exceptions) and removed ids are read again. The echo of this
        # app's own writes then costs the delta pages alone; the planner drops
        # it by change key.
        readings = Readings("Office 365")
        events = [
            event
            for rid, item in singles.items()
            if rid not in masters
            and (event := readings.read(rid, lambda i=item: to_remote_event(i))) is not None
        ]
        fetched, gone = self._fetch(list(dict.fromkeys(read_again + masters)), readings)
        events.extend(fetched)
        for master_id in gone:
            series.pop(master_id, None)
        meetings = self._meeting_ids(events, state.meetings)
        declined = self._declined(gone, meetings)
        for rid in gone:
            meetings.pop(rid, None)
        new_state = _State(link, series, state.end, meetings).dump()
        return ChangeSet(
            events, gone, new_state, False, readings.unreadable, declined=frozenset(declined)
        )

    def _meeting_ids(self, events: Sequence[RemoteEvent], known: dict[str, str]) -> dict[str, str]:
        """``known`` with the immutable ids of the listed meetings someone else
        organises that it lacks (one ``translateExchangeIds`` for up to 1000)."""
        out = dict(known)
        new = [e.remote_id for e in events if not e.organizer_is_self and e.remote_id not in out]
        for start in range(0, len(new), 1000):
            answer = self._send(
                "POST",
                "/me/translateExchangeIds",
                body={
                    "inputIds": new[start : start + 1000],
                    "sourceIdType": "restId",
                    "targetIdType": "restImmutableEntryId",
                },
            )
            for result in (answer.body or {}).get("value") or ():
                if isinstance(result, dict) and result.get("targetId"):
                    out[str(result.get("sourceId"))] = str(result["targetId"])
        return out

    def _declined(self, gone: Sequence[str], meetings: dict[str, str]) -> set[str]:
        """The UIDs of the gone meetings that the user declined: in Deleted
        Items, where Outlook moves a declined meeting, read by immutable id."""
        asked = [rid for rid in gone if rid in meetings]
        reads = [
            {
                "method": "GET",
                "url": f"/me/events/{quote(meetings[rid], safe='')}"
                "?$select=iCalUId,isOrganizer,responseStatus",
                "headers": {"Prefer": 'IdType="ImmutableId"'},
            }
            for rid in asked
        ]
        uids = set()
        for answer in self._batch(reads) if reads else []:
            if answer.status != 200 or not isinstance(answer.body, dict):
                continue  # deleted for good: not declined
            body = answer.body
            response = (body.get("responseStatus") or {}).get("response")
            if response == "declined" and not body.get("isOrganizer", True) and body.get("iCalUId"):
                uids.add(str(body["iCalUId"]))
        return uids

    def _fetch(
        self, ids: Sequence[str], readings: Readings | None = None
    ) -> tuple[list[RemoteEvent], list[str]]:
        """Full events (series assembled) for ids, in batches; and the ids that are
        gone. With ``readings``, an event that cannot be read is set aside there."""
        events: list[RemoteEvent] = []
        gone: list[str] = []
        answers = self._batch([self._full_request(i) for i in ids]) if ids else []
        for rid, answer in zip(ids, answers, strict=True):
            if answer.status == 404:
                gone.append(rid)
                continue
            raise_for(answer)
            if not isinstance(answer.body, dict):
                raise MalformedResponse("Office 365 sent an answer that cannot be read.")
            body = answer.body
            if readings is None:
                events.append(to_remote_event(body))
            elif (event := readings.read(rid, lambda body=body: to_remote_event(body))) is not None:
                events.append(event)
        return events, gone

    # ------------------------------------------------------------------ writes

    @whole_batch
    def write(self, writes: Sequence[Write]) -> list[WriteResult]:
        answers_at = [n for n, w in enumerate(writes) if isinstance(w, Respond)]
        if not answers_at:
            return self._write_edits(writes)
        edits_at = [n for n in range(len(writes)) if n not in answers_at]
        results: list[WriteResult | None] = [None] * len(writes)
        for n, result in zip(
            edits_at, self._write_edits([writes[n] for n in edits_at]), strict=True
        ):
            results[n] = result
        answered = self._answer([writes[n] for n in answers_at])
        for n, result in zip(answers_at, answered, strict=True):
            results[n] = result
        return [r for r in results if r is not None]

    def _answer(self, writes: Sequence[Respond]) -> list[WriteResult]:
        """Answers to meetings someone else organises, sent as responses (never a
        PATCH of the meeting): read each meeting (the organiser's own cannot be
        answered; ``sendResponse`` only where the organiser asked for one), set
        the attendee's own copy first when asked, ``POST .../accept``,
        ``/tentativelyAccept`` or ``/decline``, then read it back. A declined
        meeting is in Deleted Items then: its result has no event."""
        results: dict[int, WriteResult] = {}
        reads = self._batch([self._full_request(w.remote_id) for w in writes])
        asked: dict[int, bool] = {}
        for k, (write, read) in enumerate(zip(writes, reads, strict=True)):
            try:
                raise_for(read)
                if (read.body or {}).get("isOrganizer", True):
                    raise InvalidEvent(
                        "This is your own appointment on Office 365: there is no invitation "
                        "to answer."
                    )
                asked[k] = bool((read.body or {}).get("responseRequested", True))
            except ProviderError as error:
                results[k] = WriteResult(write, None, error)
        copies = [k for k in asked if writes[k].own_copy is not None]
        for k, done in zip(
            copies, self._write_edits([writes[k].own_copy for k in copies]), strict=True
        ):
            if not done.ok:
                results[k] = WriteResult(writes[k], None, done.error)
        todo = [k for k in asked if k not in results]
        posts = [
            {
                "method": "POST",
                "url": f"/me/events/{quote(writes[k].remote_id, safe='')}/"
                f"{ANSWER_ACTIONS[writes[k].response]}",
                "headers": {"Content-Type": "application/json"},
                "body": {"sendResponse": writes[k].send_invitations and asked[k]},
            }
            for k in todo
        ]
        sent = []
        for k, answer in zip(
            todo, self._batch(posts, keep_going=False) if posts else [], strict=True
        ):
            try:
                raise_for(answer)
                sent.append(k)
            except ProviderError as error:
                results[k] = WriteResult(writes[k], None, error)
        backs = self._batch([self._full_request(writes[k].remote_id) for k in sent]) if sent else []
        for k, back in zip(sent, backs, strict=True):
            if back.status == 404:
                results[k] = WriteResult(writes[k], None)  # declined: moved to Deleted Items
                continue
            try:
                raise_for(back)
                results[k] = WriteResult(writes[k], to_remote_event(back.body or {}))
            except ProviderError as error:
                results[k] = WriteResult(writes[k], None, error)
        return [results[k] for k in range(len(writes))]

    def _write_edits(self, writes: Sequence[Write]) -> list[WriteResult]:
        requests_ = [self._write_request(w) for w in writes]
        answers = self._batch(requests_, keep_going=False) if writes else []
        results: list[WriteResult] = []
        series: list[int] = []
        for index, (write, answer) in enumerate(zip(writes, answers, strict=True)):
            try:
                if isinstance(write, Create) and answer.status == 200:
                    # transactionId matched an event made before: link, don't duplicate.
                    raise AlreadyExists(
                        "This appointment is already on the Office 365 calendar.",
                        remote_id=(answer.body or {}).get("id"),
                    )
                raise_for(answer)
                if isinstance(write, Delete):
                    results.append(WriteResult(write, None))
                    continue
                event = _with_local_id(to_remote_event(answer.body or {}), write.draft.local_id)
                results.append(WriteResult(write, event))
                if _needs_occurrence_pass(write):
                    series.append(index)
            except ProviderError as error:
                results.append(WriteResult(write, None, error))
        if series:
            self._write_occurrences(results, series)
        return results

    def _write_request(self, write: Write) -> dict:
        if isinstance(write, Create):
            return {
                "method": "POST",
                "url": f"{self._calendar_path()}/events",
                "headers": {"Content-Type": "application/json"},
                "body": draft_body(write.draft),
            }
        path = f"/me/events/{quote(write.remote_id, safe='')}"
        headers = {"If-Match": f'W/"{write.version}"'} if write.version else {}
        if isinstance(write, Delete):
            return {"method": "DELETE", "url": path, "headers": headers}
        return {
            "method": "PATCH",
            "url": path,
            "headers": {**headers, "Content-Type": "application/json"},
            "body": draft_body(write.draft, write.fields),
        }

    def _write_occurrences(self, results: list[WriteResult], indexes: list[int]) -> None:
        """Deleted and moved occurrences of the series just written.

        Graph keeps them as cancelled occurrences and exceptions of the master:
        read the master (its exceptions carry their ids) and, for occurrences
        to delete or move, the instances around them; then delete, patch or
        restore the occurrences that differ from the draft; then read the
        master again for the result. Three or four rounds of ``$batch``.
        """
        reads: list[dict] = []
        where: dict[int, tuple[int, int | None]] = {}
        for i in indexes:
            write = results[i].write
            master_id = results[i].event.remote_id
            rec = write.draft.recurrence
            assert rec is not None
            where[i] = (len(reads), None)
            reads.append(self._full_request(master_id))
            moments = [*rec.exdates, *(o.original_start for o in rec.overrides)]
            if moments:
                lo = min(moments) - timedelta(days=1)
                hi = max(moments) + timedelta(days=1) + (write.draft.end - write.draft.start)
                span = (
                    f"startDateTime={lo.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
                    f"&endDateTime={hi.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}&$top=1000"
                    "&$select=id,originalStart,type"
                )
                where[i] = (len(reads) - 1, len(reads))
                reads.append(
                    {
                        "method": "GET",
                        "url": f"/me/events/{quote(master_id, safe='')}/instances?{span}",
                    }
                )
        answers = self._batch(reads)
        ops: list[tuple[int, dict]] = []
        for i in indexes:
            m, n = where[i]
            try:
                raise_for(answers[m])
                if n is not None:
                    raise_for(answers[n])
            except ProviderError as error:
                results[i] = WriteResult(results[i].write, None, error)
                continue
            master = answers[m].body or {}
            by_original: dict[datetime, str] = {}
            listed = [*(answers[n].body or {}).get("value", ())] if n is not None else []
            for item in listed + list(master.get("exceptionOccurrences") or ()):
                original = parse_stamp(item.get("originalStart"))
                if original is not None:
                    by_original[original.astimezone(UTC)] = item["id"]
            ops.extend(
                (i, op) for op in self._occurrence_ops(results[i].write.draft, master, by_original)
            )
        if ops:
            for (i, _), answer in zip(ops, self._batch([op for _, op in ops]), strict=True):
                if answer.status >= 400 and results[i].ok:
                    try:
                        raise_for(answer)
                    except ProviderError as error:
                        results[i] = WriteResult(results[i].write, None, error)
        finals = [i for i in indexes if results[i].ok]
        for i, answer in zip(
            finals,
            self._batch([self._full_request(results[i].event.remote_id) for i in finals]),
            strict=True,
        ):
            try:
                raise_for(answer)
                event = _with_local_id(
                    to_remote_event(answer.body), results[i].write.draft.local_id
                )
                results[i] = WriteResult(results[i].write, event)
            except ProviderError as error:
                results[i] = WriteResult(results[i].write, None, error)

    @staticmethod
    def _occurrence_ops(draft: EventDraft, master: dict, by_original: dict) -> list[dict]:
        """The requests that make the series' occurrences match the draft."""
        rec = draft.recurrence
        assert rec is not None
        current = to_remote_event(master)
        have = current.recurrence or Recurrence(rec.rrule)
        ops: list[dict] = []

        def target(moment: datetime, what: str) -> str | None:
            found = by_original.get(moment.astimezone(UTC))
            if found is None:
                log.info("A %s occurrence is not in the Office 365 series; skipped", what)
            return found

        for moment in sorted(set(rec.exdates) - set(have.exdates)):
            occurrence = target(moment, "deleted")
            if occurrence:
                ops.append({"method": "DELETE", "url": f"/me/events/{quote(occurrence, safe='')}"})
        # Graph cannot bring a deleted occurrence back; an EXDATE dropped locally stays.
        wanted = {o.original_start: o for o in rec.overrides if o.original_start not in rec.exdates}
        duration = draft.end - draft.start
        contents = join_contents(draft.subject, draft.body)
        for back in put_back(have.overrides, rec, contents, draft.location, duration):
            occurrence = target(back.original_start, "restored")
            if occurrence:
                ops.append(patch_occurrence(occurrence, back, draft.timezone))
        existing = {o.original_start: o for o in have.overrides}
        for original, override in sorted(wanted.items()):
            if existing.get(original) == override:
                continue
            occurrence = target(original, "moved")
            if occurrence:
                ops.append(patch_occurrence(occurrence, override, draft.timezone))
        return ops

    def close(self) -> None:
        self.session.close()


# --------------------------------------------------------------------------- errors


def _needs_occurrence_pass(write: Write) -> bool:
    if isinstance(write, Delete):
        return False
    rec = write.draft.recurrence
    if rec is None:
        return False
    if isinstance(write, Create):
        return bool(rec.exdates or rec.overrides)
    # An update that names the rule also settles its exceptions (added or dropped);
    # one of what the series says brings the exceptions it does not override along.
    return bool(SERIES_FIELDS & write.fields)


def _with_local_id(event: RemoteEvent, local_id: str | None) -> RemoteEvent:
    if local_id is None or event.local_id == local_id:
        return event
    return replace(event, local_id=local_id)
