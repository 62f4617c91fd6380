"""The merge fields of one side, and the snapshot both sides agreed on (SPEC §4).

Both sides of a link are reduced to the same :class:`Fields`, in the Sales
Calendar's form, so the three-way merge compares like with like:

==============  ==============================================  ===============
field           value                                           direction
==============  ==============================================  ===============
contents        text                                            both ways
location        text                                            both ways
time            (start UTC ISO, end UTC ISO)                    both ways
private         bool                                            both ways (§5)
participants    ((name, email), ...) (with an email only)       local → remote
statuses        {email: status}                                 remote → local
rrule           RRULE text or None                              local → remote
exdates         (UTC ISO, ...) deleted occurrences              both ways
overrides       {original UTC ISO: (contents, location,         both ways
                start, end)}
show_as         free, tentative, busy, oof, workingElsewhere    both ways (§10)
join_url        the online meeting's link, or ""                remote → local
organizer       (name, email, guests may modify it) of another  remote → local
                person's meeting, or None (the user's own)
my_response     the user's answer: none, accepted, tentative,   both ways (§10: pushed
                declined                                        as a response)
==============  ==============================================  ===============

A snapshot written before show-as and the meeting fields existed reads them
as their defaults (busy, no link, the user's own, no answer): what the Sales
Calendar holds after the migration that added them, so the first sync after
it fills them from the service and writes nothing to the service.

A :class:`Snapshot` holds both sides' fields as they were when the item last
synced; a :class:`LinkStatus` is one item's status row with its snapshot typed. The
snapshot is stored as JSON, ``{"local": {field: value}, "remote": {...}}``:
the shape status rows have always had, so rows written before these types
existed read unchanged (lists become tuples on reading).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from calsync_desktop.store import StatusRow

TWO_WAY = (
    "contents",
    "location",
    "time",
    "private",
    "exdates",
    "overrides",
    "show_as",
    "my_response",
)
LOCAL_TO_REMOTE = ("participants", "rrule")
REMOTE_TO_LOCAL = ("statuses", "join_url", "organizer")
ALL_FIELDS = TWO_WAY + LOCAL_TO_REMOTE + REMOTE_TO_LOCAL

Override = tuple[str, str, str, str]
"""An edited occurrence: contents, location, start and end (UTC ISO)."""


@dataclass(frozen=True, slots=True)
class Fields:
    """One side's merge fields, in the Sales Calendar's form (values compare
    equal exactly when a person would call them the same)."""

    contents: str = ""
    location: str = ""
    time: tuple[str, str] | None = None
    private: bool = False
    participants: tuple[tuple[str, str], ...] = ()
    statuses: Mapping[str, str] = field(default_factory=dict)
    rrule: str | None = None
    exdates: tuple[str, ...] = ()
    overrides: Mapping[str, Override] = field(default_factory=dict)
    show_as: str = "busy"
    join_url: str = ""
    organizer: tuple[str, str, bool] | None = None
    my_response: str = "none"

    def get(self, name: str) -> Any:
        """The value of the field called ``name``."""
        return getattr(self, name)

    def with_values(self, values: Mapping[str, Any]) -> Fields:
        """These fields with some replaced (values in any JSON-like form)."""
        return replace(self, **{k: _normalised(k, v) for k, v in values.items()})

    def to_json(self) -> dict[str, Any]:
        # an initial sync stores two of these per event: the names come from a
        # cache (dataclasses.fields() is slow) and only tuple-valued fields convert
        out: dict[str, Any] = {}
        for name in _names(type(self)):
            value = getattr(self, name)
            convert = _TO_JSON.get(name)
            out[name] = value if convert is None else convert(value)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fields:
        """Fields from their stored form; unknown keys are ignored, missing ones
        take their empty value."""
        known = _names(cls)
        return cls(**{k: _normalised(k, v) for k, v in data.items() if k in known})

    def texts(self) -> tuple[str, str]:
        """These fields as JSON text twice, each value encoded once for both:
        as a snapshot stores them (``json.dumps(self.to_json(),
        sort_keys=True)``) and compact, as the sync history stores them (the
        empty values and the defaults left out, ``ensure_ascii=False``).

        Built from the values directly: an initial sync stores both for every
        event, and the dict plus the JSON encoder cost several times this."""
        return _texts(self)


# --------------------------------------------------------------------------- text

_STORED = json.JSONEncoder(sort_keys=True).encode
_COMPACT = json.JSONEncoder(ensure_ascii=False).encode


def _same_compact(stored: str, sorted_keys: bool = False) -> bool:
    """Whether a value's stored text is its compact text too: nothing was
    escaped to ASCII (every \\u escape is taken for one), and no mapping of
    more than one key was sorted."""
    return "\\u" not in stored and not sorted_keys


def _text(value: Any, name: str) -> tuple[str, str]:
    """A value's stored and compact text (any value, by the JSON encoder)."""
    convert = _TO_JSON.get(name)
    stored = _STORED(value if convert is None else convert(value))
    several_keys = isinstance(value, Mapping) and len(value) > 1
    if _same_compact(stored, several_keys):
        return stored, stored
    if isinstance(value, Mapping):
        value = dict(value)
    return stored, _COMPACT(value)


def _str_text(value: Any, name: str) -> tuple[str, str]:
    if type(value) is not str:
        return _text(value, name)
    stored = encode_basestring_ascii(value)
    return stored, stored if "\\u" not in stored else encode_basestring(value)


def _pair_text(value: Any, name: str) -> tuple[str, str]:
    """A pair of strings (a time, an organiser, a participant)."""
    if type(value) is not tuple or len(value) != 2:
        return _text(value, name)
    a, b = value
    if type(a) is not str or type(b) is not str:
        return _text(value, name)
    stored = f"[{encode_basestring_ascii(a)}, {encode_basestring_ascii(b)}]"
    if "\\u" not in stored:
        return stored, stored
    return stored, f"[{encode_basestring(a)}, {encode_basestring(b)}]"


def _people_text(people: Any) -> tuple[str, str]:
    if type(people) is tuple and len(people) == 1 and type(people[0]) is tuple:
        stored, compact = _pair_text(people[0], "participant")
        return f"[{stored}]", f"[{compact}]"
    return _text(people, "participants")


def _statuses_text(statuses: Any) -> tuple[str, str]:
    if type(statuses) is dict and len(statuses) == 1:
        ((key, value),) = statuses.items()
        if type(key) is str and type(value) is str:
            stored = f"{{{encode_basestring_ascii(key)}: {encode_basestring_ascii(value)}}}"
            if "\\u" not in stored:
                return stored, stored
    return _text(statuses, "statuses")


#: the text of the values most fields hold (the defaults), by value
_COMMON = {"": ('""', '""'), "busy": ('"busy"', '"busy"'), "none": ('"none"', '"none"')}
_EMPTY = ("[]", "[]")
_NONE = ("null", "null")


def _texts(f: Fields) -> tuple[str, str]:
    """See :meth:`Fields.texts`: the keys of the stored text in sorted order,
    those of the compact text in the order of the fields."""
    common = _COMMON.get
    contents = _str_text(f.contents, "contents")
    location = _str_text(f.location, "location")
    time = _NONE if f.time is None else _pair_text(f.time, "time")
    private = f.private
    private_s = "true" if private is True else "false" if private is False else _STORED(private)
    people = f.participants
    participants = _EMPTY if people == () else _people_text(people)
    statuses = _statuses_text(f.statuses) if f.statuses else ("{}", "{}")
    rrule = _NONE if f.rrule is None else _str_text(f.rrule, "rrule")
    exdates = _EMPTY if f.exdates == () else _text(f.exdates, "exdates")
    overrides = _text(f.overrides, "overrides") if f.overrides else ("{}", "{}")
    show_as = (type(f.show_as) is str and common(f.show_as)) or _str_text(f.show_as, "show_as")
    join_url = (type(f.join_url) is str and common(f.join_url)) or _str_text(f.join_url, "join_url")
    organizer = _NONE if f.organizer is None else _pair_text(f.organizer, "organizer")
    my_response = (type(f.my_response) is str and common(f.my_response)) or _str_text(
        f.my_response, "my_response"
    )
    stored = (
        f'{{"contents": {contents[0]}, "exdates": {exdates[0]}, "join_url": {join_url[0]}, '
        f'"location": {location[0]}, "my_response": {my_response[0]}, '
        f'"organizer": {organizer[0]}, "overrides": {overrides[0]}, '
        f'"participants": {participants[0]}, "private": {private_s}, "rrule": {rrule[0]}, '
        f'"show_as": {show_as[0]}, "statuses": {statuses[0]}, "time": {time[0]}}}'
    )
    parts = []
    if f.contents:
        parts.append('"contents": ' + contents[1])
    if f.location:
        parts.append('"location": ' + location[1])
    if f.time is not None:
        parts.append('"time": ' + time[1])
    if private:
        parts.append('"private": true')
    if people:
        parts.append('"participants": ' + participants[1])
    if f.statuses:
        parts.append('"statuses": ' + statuses[1])
    if f.rrule:
        parts.append('"rrule": ' + rrule[1])
    if f.exdates:
        parts.append('"exdates": ' + exdates[1])
    if f.overrides:
        parts.append('"overrides": ' + overrides[1])
    if f.show_as != "busy":
        parts.append('"show_as": ' + show_as[1])
    if f.join_url:
        parts.append('"join_url": ' + join_url[1])
    if f.organizer is not None:
        parts.append('"organizer": ' + organizer[1])
    if f.my_response != "none":
        parts.append('"my_response": ' + my_response[1])
    return stored, "{" + ", ".join(parts) + "}"


@cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _list_or_none(value):
    return list(value) if value is not None else None


_TO_JSON = {
    "time": _list_or_none,
    "organizer": _list_or_none,
    "participants": lambda value: [list(p) for p in value],
    "exdates": list,
    "overrides": lambda value: {k: list(v) for k, v in value.items()},
    "statuses": dict,
}
"""How a field's value is stored when it is not stored as it is (JSON has no tuples)."""


def _normalised(name: str, value: Any) -> Any:
    """A field's value in the one form :class:`Fields` compares (JSON gives lists)."""
    if name == "time":
        return tuple(value) if value is not None else None
    if name == "organizer":
        # kept before whether guests may modify it was: (name, email), they may not
        return None if value is None else (*value[:2], bool(value[2:] and value[2]))
    if name == "participants":
        return tuple(tuple(p) for p in value or ())
    if name == "exdates":
        return tuple(value or ())
    if name == "overrides":
        return {k: tuple(v) for k, v in (value or {}).items()}
    if name == "statuses":
        return dict(value or {})
    if name == "private":
        return bool(value)
    return value


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Both sides' fields as they were when the item last synced."""

    local: Fields
    remote: Fields

    @classmethod
    def agreed(cls, fields_: Fields) -> Snapshot:
        """A snapshot in which both sides hold ``fields_``."""
        return cls(fields_, fields_)

    def to_json(self) -> dict[str, Any]:
        local = self.local.to_json()
        # one side held twice (an import's) is converted once and shared
        remote = local if self.remote is self.local else self.remote.to_json()
        return {"local": local, "remote": remote}

    def texts(self) -> tuple[str, str]:
        """The snapshot as a status row stores it (``json.dumps(self.to_json(),
        sort_keys=True)``), and its local side as the sync history stores it
        (:meth:`Fields.texts`: an import's journal entry holds what its link
        holds, encoded once for both)."""
        local, compact = self.local.texts()
        # one side held twice (an import's) is encoded once
        remote = local if self.remote is self.local else self.remote.texts()[0]
        return f'{{"local": {local}, "remote": {remote}}}', compact

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(
            Fields.from_json(data.get("local") or {}), Fields.from_json(data.get("remote") or {})
        )


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """An appointment linked to its remote event for one account, as last synced.

    ``version`` is the event's version then; ``local_seq`` the appointment's
    change counter right after that sync wrote it (a different counter now
    means the appointment was edited since).
    """

    local_id: str
    remote_id: str
    version: str
    snapshot: Snapshot
    local_seq: int

    @classmethod
    def from_row(cls, row: StatusRow) -> LinkStatus:
        return cls(
            row.local_id,
            row.remote_id or "",
            row.version,
            Snapshot.from_json(row.snapshot),
            row.local_seq,
        )

    def to_row(self, stored: str | None = None) -> StatusRow:
        """The status row to store (``stored``: the snapshot's text, when the
        caller has it from :meth:`Snapshot.texts`)."""
        if stored is None:
            stored = self.snapshot.texts()[0]
        return StatusRow(self.local_id, self.remote_id, self.version, stored, self.local_seq)
