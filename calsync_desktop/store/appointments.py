"""Appointments in the store: writing them (with their participants and
occurrence overrides), reading them back whole, and what the sync asks of
them (what changed since a change counter).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from calsync_desktop.model import (
    Appointment,
    InviteStatus,
    Occurrence,
    OccurrenceOverride,
    Participant,
    Recurrence,
    occurrences,
    validate,
)
from calsync_desktop.store import schema as t
from calsync_desktop.store import views as v
from calsync_desktop.store.bulk import insert_many, insert_tuples
from calsync_desktop.store.core import _C, _SEQ_READ, StoreCore, _chunks
from calsync_desktop.store.errors import ConcurrentEdit, NotYours
from calsync_desktop.store.meetings import MEETING_COLUMNS, meeting_values
from calsync_desktop.store.meetings import meeting_fields as _meeting_fields
from calsync_desktop.store.meetings import meeting_row as _meeting_row

# statements built once: building SQLAlchemy statements costs more than running them
_A = t.appointments.c
_APPT_SEQ = select(_A.seq).where(_A.id == bindparam("b_id"))
_APPT_UPDATE = update(t.appointments).where(_A.id == bindparam("b_id"))
_APPT_INSERT = insert(t.appointments)
_PEOPLE_DELETE = delete(t.participants).where(t.participants.c.appointment_id == bindparam("b_id"))
_PEOPLE_INSERT = insert(t.participants)
_MOVED_DELETE = delete(t.overrides).where(t.overrides.c.appointment_id == bindparam("b_id"))
_MOVED_INSERT = insert(t.overrides)
_ANY_TOMBSTONE = select(t.tombstones.c.appointment_id).limit(1)
_TOMB_DELETE = delete(t.tombstones).where(t.tombstones.c.appointment_id == bindparam("b_id"))

#: what an Appointment is read from, in this order (the tables and the team views alike)
_APPOINTMENT_FIELDS = (
    "id",
    "contents",
    "start",
    "end",
    "timezone",
    "location",
    "all_day",
    "private",
    "rrule",
    "exdates",
    "created",
    "modified",
    "account_id",
    "ical_uid",
    # then the availability and meeting columns (store/meetings.py), read by name
    *MEETING_COLUMNS,
)
_APPOINTMENT_WIDTH = _APPOINTMENT_FIELDS.index("ical_uid") + 1  # the fields read by position
_MEETING_FIELDS = _APPOINTMENT_FIELDS[_APPOINTMENT_WIDTH:]
_INVITE_STATUS = {s.value: s for s in InviteStatus}  # a look-up costs a tenth of the enum's


def _appointment_columns(c) -> list:
    return [c[name] for name in _APPOINTMENT_FIELDS]


#: the columns an appointment is stored in, in the order of :func:`_row_values`
_ROW_COLUMNS = (
    "id",
    "owner",
    "contents",
    "location",
    "start",
    "end",
    "timezone",
    "all_day",
    "private",
    "rrule",
    "exdates",
    "last_end",
    "created",
    "modified",
    "account_id",
    "seq",
    "ical_uid",
    *MEETING_COLUMNS,
)


def _row_values(a: Appointment, seq: int, owner: str) -> tuple:
    """The values of :data:`_ROW_COLUMNS` of an appointment (as a tuple: an
    import stores thousands)."""
    recurrence = a.recurrence
    return (
        a.id,
        owner,
        a.contents,
        a.location,
        a.start,
        a.end,
        a.timezone,
        a.all_day,
        a.private,
        recurrence.rrule if recurrence else None,
        _exdates_json(recurrence),
        a.last_end(),
        a.created,
        a.modified,
        a.account_id,
        seq,
        a.ical_uid,
        *meeting_values(a),
    )


def _row(a: Appointment, seq: int, owner: str) -> dict:
    """An appointment's columns by name, its id aside."""
    row = dict(zip(_ROW_COLUMNS, _row_values(a, seq, owner), strict=True))
    del row["id"]
    return row


def _exdates_json(recurrence: Recurrence | None) -> str:
    """A series' deleted occurrences as stored (an import of thousands of
    single appointments encodes none)."""
    if recurrence is None or not recurrence.exdates:
        return "[]"
    return json.dumps([x.astimezone(UTC).isoformat() for x in recurrence.exdates])


def _people_rows(a: Appointment, owner: str) -> list[dict]:
    return [
        {
            "owner": owner,
            "appointment_id": a.id,
            "position": i,
            "name": p.name,
            "email": p.email,
            "status": p.status.value,
        }
        for i, p in enumerate(a.participants)
    ]


def _override_rows(a: Appointment, owner: str) -> list[dict]:
    return [
        {
            "owner": owner,
            "appointment_id": a.id,
            "original_start": o.original_start,
            "contents": o.contents,
            "location": o.location,
            "start": o.start,
            "end": o.end,
        }
        for o in (a.recurrence.overrides if a.recurrence else ())
    ]


def _iso(*times: datetime) -> tuple[str, ...]:
    return tuple(x.isoformat() for x in times)


def _appointment_json(a: Appointment) -> str:
    """An appointment as JSON text (what a tombstone remembers of it)."""
    rec = a.recurrence
    return json.dumps(
        {
            "id": a.id,
            "contents": a.contents,
            "location": a.location,
            "start": a.start.isoformat(),
            "end": a.end.isoformat(),
            "timezone": a.timezone,
            "all_day": a.all_day,
            "private": a.private,
            "participants": [[p.name, p.email, p.status.value] for p in a.participants],
            "rrule": rec.rrule if rec else None,
            "exdates": [x.isoformat() for x in rec.exdates] if rec else [],
            "overrides": [
                (o.original_start.isoformat(), o.contents, o.location, *_iso(o.start, o.end))
                for o in (rec.overrides if rec else ())
            ],
            "created": a.created.isoformat(),
            "modified": a.modified.isoformat(),
            "account_id": a.account_id,
            "ical_uid": a.ical_uid,
            **_meeting_row(a),
        }
    )


def _appointment_from_json(text_: str | None) -> Appointment | None:
    if not text_:
        return None
    d = json.loads(text_)
    when = datetime.fromisoformat
    recurrence = None
    if d["rrule"]:
        recurrence = Recurrence(
            d["rrule"],
            tuple(when(x) for x in d["exdates"]),
            tuple(
                OccurrenceOverride(when(o[0]), o[1], o[2], when(o[3]), when(o[4]))
                for o in d["overrides"]
            ),
        )
    return Appointment(
        id=d["id"],
        contents=d["contents"],
        start=when(d["start"]),
        end=when(d["end"]),
        timezone=d["timezone"],
        location=d["location"],
        all_day=d["all_day"],
        private=d["private"],
        participants=tuple(Participant(n, e, InviteStatus(s)) for n, e, s in d["participants"]),
        recurrence=recurrence,
        created=when(d["created"]),
        modified=when(d["modified"]),
        account_id=d["account_id"],
        ical_uid=d["ical_uid"],
        # a tombstone written before availability and meetings has none of them
        **_meeting_fields(d),
    )


class Appointments(StoreCore):
    """The appointments of a :class:`calsync_desktop.store.Store`."""

    def add_appointment(self, appointment: Appointment) -> Appointment:
        """Store a new appointment made by the user."""
        now = self.clock()
        appointment = appointment.with_changes(created=now, modified=now)
        self.save_appointment(appointment)
        return appointment

    def update_appointment(self, appointment: Appointment) -> Appointment:
        """Store the user's edit of an appointment."""
        if self.get_appointment(appointment.id) is None:
            self._refuse_if_a_colleagues(appointment.id)
            raise KeyError(appointment.id)
        appointment = appointment.with_changes(modified=self.clock())
        self.save_appointment(appointment)
        return appointment

    def save_appointment(self, appointment: Appointment, expect_seq: int | None = None) -> int:
        """Insert or replace an appointment as given; returns its new change counter.

        With ``expect_seq`` the write happens only if the appointment is still at
        that change counter (0: it must not exist), else :class:`ConcurrentEdit`:
        the sync never overwrites an edit made while it ran.
        """
        a = validate(appointment)
        with self.transaction() as conn:
            current = conn.execute(_APPT_SEQ, {"b_id": a.id}).scalar()
            if expect_seq is not None and (current or 0) != expect_seq:
                raise ConcurrentEdit(a.id)
            if current is None:
                self._refuse_if_a_colleagues(a.id)
            seq = self._next_seq()
            row = _row(a, seq, self.owner)
            if current is not None:
                if a.ical_uid is None:
                    del row["ical_uid"]  # an appointment built afresh keeps the UID it had
                conn.execute(_APPT_UPDATE, {"b_id": a.id, **row})
                conn.execute(_PEOPLE_DELETE, {"b_id": a.id})
                conn.execute(_MOVED_DELETE, {"b_id": a.id})
            else:
                conn.execute(_APPT_INSERT, {"id": a.id, **row})
                # an appointment that exists again is no longer deleted anywhere
                conn.execute(_TOMB_DELETE, {"b_id": a.id})
            if a.participants:
                conn.execute(_PEOPLE_INSERT, _people_rows(a, self.owner))
            if a.recurrence and a.recurrence.overrides:
                conn.execute(_MOVED_INSERT, _override_rows(a, self.owner))
        return seq

    def _refuse_if_a_colleagues(self, appointment_id: str) -> None:
        if not self.is_team:
            return
        owner = self._read(
            select(v.appointments.c.owner).where(v.appointments.c.id == appointment_id)
        ).scalar()
        if owner is not None and owner != self.owner:
            raise NotYours(appointment_id, owner)

    def insert_appointments(
        self, appointments: list[Appointment], *, validated: bool = False
    ) -> list[int]:
        """Insert new appointments in one go (the sync's import); returns their
        change counters in order. Each is validated first (unless the caller
        has: ``validated``, as the import that sets an invalid one aside);
        none is stored if one is invalid."""
        items = appointments if validated else [validate(a) for a in appointments]
        if not items:
            return []
        with self.transaction() as conn:
            self._next_seq()
            conn.execute(
                update(t.counters)
                .where(_C.owner == self.owner, _C.name == "seq")
                .values(value=_C.value + len(items) - 1)
            )
            top = conn.execute(_SEQ_READ, self._o).scalar_one()
            seqs = list(range(top - len(items) + 1, top + 1))
            owner = self.owner
            insert_tuples(
                conn,
                t.appointments,
                _ROW_COLUMNS,
                [_row_values(a, q, owner) for a, q in zip(items, seqs, strict=True)],
            )
            insert_many(conn, t.participants, [r for a in items for r in _people_rows(a, owner)])
            insert_many(
                conn,
                t.overrides,
                [r for a in items if a.recurrence for r in _override_rows(a, owner)],
            )
            # an appointment that exists again is no longer deleted anywhere
            if conn.execute(_ANY_TOMBSTONE).first() is not None:
                for chunk in _chunks([a.id for a in items]):
                    conn.execute(
                        delete(t.tombstones).where(t.tombstones.c.appointment_id.in_(chunk))
                    )
        return seqs

    def delete_appointment(
        self, appointment_id: str, tombstone: bool = True, expect_seq: int | None = None
    ) -> None:
        """Delete an appointment; linked ones leave a tombstone until the deletion
        syncs (the sync itself deletes with ``tombstone=False``)."""
        with self.transaction() as conn:
            if expect_seq is not None:
                current = conn.execute(
                    select(t.appointments.c.seq).where(t.appointments.c.id == appointment_id)
                ).scalar()
                if (current or 0) != expect_seq:
                    raise ConcurrentEdit(appointment_id)
            elif self.get_appointment(appointment_id) is None:
                self._refuse_if_a_colleagues(appointment_id)
            linked = (
                conn.execute(
                    select(t.sync_status.c.account_id).where(
                        t.sync_status.c.local_id == appointment_id
                    )
                )
                .scalars()
                .all()
            )
            if linked and tombstone:
                seq = self._next_seq()
                now = self.clock()
                gone = self.get_appointment(appointment_id)
                last = _appointment_json(gone) if gone is not None else None
                conn.execute(
                    insert(t.tombstones),
                    [
                        {
                            "owner": self.owner,
                            "account_id": acc,
                            "appointment_id": appointment_id,
                            "deleted_at": now,
                            "seq": seq,
                            "last_values": last,
                        }
                        for acc in linked
                    ],
                )
            else:
                self._next_seq()
            conn.execute(delete(t.appointments).where(t.appointments.c.id == appointment_id))

    def remember_ical_uids(self, uids: dict[str, str], replace: bool = False) -> None:
        """Record the iCalUID of appointments (id → UID) that have none yet (with
        ``replace``, whatever they had); not an edit (the change counter stays)."""
        if not uids:
            return
        which = [_A.id == bindparam("b_id")] + ([] if replace else [_A.ical_uid.is_(None)])
        with self.transaction() as conn:
            conn.execute(
                update(t.appointments).where(*which).values(ical_uid=bindparam("b_uid")),
                [{"b_id": k, "b_uid": v} for k, v in uids.items()],
            )

    def appointment_seqs(self, ids: Iterable[str]) -> dict[str, int]:
        """The change counter of each existing appointment among ``ids``."""
        out = {}
        for chunk in _chunks(list(ids)):
            rows = self._read(
                select(t.appointments.c.id, t.appointments.c.seq).where(
                    t.appointments.c.id.in_(chunk)
                )
            )
            out.update({r.id: r.seq for r in rows})
        return out

    def ids_with_ical_uids(self, uids: Iterable[str]) -> list[str]:
        """The ids of this store's own appointments that remember one of ``uids``."""
        out: list[str] = []
        for chunk in _chunks(list(uids)):
            rows = self._read(select(_A.id).where(_A.owner == self.owner, _A.ical_uid.in_(chunk)))
            out.extend(r.id for r in rows)
        return out

    def get_appointment(self, appointment_id: str) -> Appointment | None:
        found = self.get_appointments([appointment_id])
        return found.get(appointment_id)

    def get_appointments(self, ids: Iterable[str]) -> dict[str, Appointment]:
        ids = list(ids)
        rows = []
        for among in self._among(_A.id, ids):
            rows.extend(self._read(select(*_appointment_columns(_A)).where(among)))
        return {a.id: a for a in self._hydrate(rows)}

    def _hydrate(self, rows: list) -> list[Appointment]:
        people, moved = self._children(rows, t.participants, t.overrides)
        return [self._appointment(r, people, moved) for r in rows]

    def _children(self, rows: list, participants, overrides) -> tuple[dict, dict]:
        """The participants and occurrence overrides of appointment ``rows``, by
        appointment id, from the tables or the team views."""
        p, o = participants.c, overrides.c
        people: dict[str, list[Participant]] = {}
        moved: dict[str, list[OccurrenceOverride]] = {}
        for among in self._among(p.appointment_id, [r.id for r in rows]):
            for appointment_id, name, email, status in self._read(
                select(p.appointment_id, p.name, p.email, p.status)
                .where(among)
                .order_by(p.appointment_id, p.position)
            ):
                people.setdefault(appointment_id, []).append(
                    Participant(name, email, _INVITE_STATUS.get(status) or InviteStatus(status))
                )
        for among in self._among(o.appointment_id, [r.id for r in rows if r.rrule]):
            for appointment_id, original, contents, location, start, end in self._read(
                select(o.appointment_id, o.original_start, o.contents, o.location, o.start, o.end)
                .where(among)
                .order_by(o.original_start)
            ):
                moved.setdefault(appointment_id, []).append(
                    OccurrenceOverride(original, contents or "", location or "", start, end)
                )
        return people, moved

    @staticmethod
    def _appointment(r, people: dict, moved: dict, redacted: bool = False) -> Appointment:
        (
            id_,
            contents,
            start,
            end,
            timezone,
            location,
            all_day,
            private,
            rrule,
            exdates,
            created,
            modified,
            account_id,
            ical_uid,
        ) = r[:_APPOINTMENT_WIDTH]
        recurrence = None
        if rrule:
            recurrence = Recurrence(
                rrule,
                tuple(datetime.fromisoformat(x) for x in json.loads(exdates)),
                tuple(moved.get(id_, ())),
            )
        found = people.get(id_)
        return Appointment(
            id=id_,
            contents="" if redacted else contents,
            start=start,
            end=end,
            timezone=timezone,
            location="" if redacted else location,
            all_day=bool(all_day),
            private=bool(private),
            participants=tuple(found) if found else (),
            recurrence=recurrence,
            created=created or start,
            modified=modified or start,
            account_id=account_id,
            ical_uid=ical_uid,
            **_meeting_fields(dict(zip(_MEETING_FIELDS, r[_APPOINTMENT_WIDTH:], strict=False))),
        )

    def appointments_between(self, start: datetime, end: datetime) -> list[Appointment]:
        """Appointments (series whole) that may appear in [start, end)."""
        a = t.appointments.c
        rows = self._read(
            select(*_appointment_columns(a)).where(
                a.owner == self.owner, a.start < end, or_(a.last_end.is_(None), a.last_end > start)
            )
        ).all()
        return self._hydrate(rows)

    def occurrences_between(self, start: datetime, end: datetime) -> list[Occurrence]:
        """What the calendar shows in [start, end): series expanded, sorted by start."""
        out: list[Occurrence] = []
        for appointment in self.appointments_between(start, end):
            out.extend(occurrences(appointment, start, end))
        return sorted(out, key=lambda o: (o.start, o.end))

    def count_appointments(self) -> int:
        return self._read(select(func.count()).select_from(t.appointments)).scalar_one()

    def changed_since(self, seq: int) -> list[tuple[Appointment, int]]:
        """Appointments changed after change counter ``seq``, with their counter."""
        rows = self._read(
            select(*_appointment_columns(_A), _A.seq).where(_A.owner == self.owner, _A.seq > seq)
        ).all()
        seqs = {r.id: r.seq for r in rows}
        return [(a, seqs[a.id]) for a in self._hydrate(rows)]

    def seqs_since(self, seq: int) -> list[int]:
        """Change counters of the appointments changed after ``seq`` (cheap: no rows loaded)."""
        return list(
            self._read(
                select(_A.seq).where(_A.owner == self.owner, _A.seq > seq).order_by(_A.seq)
            ).scalars()
        )
