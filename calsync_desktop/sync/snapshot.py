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
organizer       (name, email) of another person's meeting,      remote → local
                or None (the user's own)
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

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
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
    organizer: tuple[str, str] | None = None
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
    if name in ("time", "organizer"):
        return tuple(value) if value is not None else None
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

    def to_row(self) -> StatusRow:
        return StatusRow(
            self.local_id, self.remote_id, self.version, self.snapshot.to_json(), self.local_seq
        )
