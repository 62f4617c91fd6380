"""The merge fields' two stored texts, built straight from the values
(:meth:`Fields.texts`): a link's snapshot exactly as ``json.dumps(...,
sort_keys=True)`` wrote it, and the sync history's compact form exactly as the
journal wrote it field by field through the JSON encoder, for any value; and
an initial sync stores both so, on a SQLite file and a team PostgreSQL
database alike."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from calsync_desktop.model import Participant
from calsync_desktop.store import schema as t
from calsync_desktop.store.links import snapshot_text
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.history import fields_json
from calsync_desktop.sync.snapshot import Fields, Snapshot

from .harness import Harness
from .test_history import last_run

# any text: accents, quotes, control characters, lone surrogates
text = st.text(st.characters(blacklist_categories=()), max_size=6)
keys = st.one_of(st.sampled_from(["b@x.example", "a@x.example", "ü@x.example"]), text)
pair = st.tuples(text, text)
fields = st.builds(
    Fields,
    contents=st.one_of(st.just(""), text),
    location=st.one_of(st.just(""), text),
    time=st.one_of(st.none(), pair),
    private=st.booleans(),
    participants=st.lists(pair, max_size=3).map(tuple),
    statuses=st.dictionaries(
        keys, st.sampled_from(["accepted", "needsAction", "declined", "é"]), max_size=3
    ),
    rrule=st.one_of(st.none(), st.just(""), text),
    exdates=st.lists(text, max_size=2).map(tuple),
    overrides=st.dictionaries(keys, st.tuples(text, text, text, text), max_size=2),
    show_as=st.one_of(st.sampled_from(["busy", "free", "oof"]), text),
    join_url=st.one_of(st.just(""), text),
    organizer=st.one_of(st.none(), pair),
    my_response=st.one_of(st.sampled_from(["none", "accepted"]), text),
)


def journal_text(f: Fields) -> str:
    """The journal's form as it was always written: the fields that are not
    empty or their default, in this order, through the JSON encoder."""
    out: dict = {}
    if f.contents:
        out["contents"] = f.contents
    if f.location:
        out["location"] = f.location
    if f.time is not None:
        out["time"] = f.time
    if f.private:
        out["private"] = True
    if f.participants:
        out["participants"] = f.participants
    if f.statuses:
        out["statuses"] = dict(f.statuses)
    if f.rrule:
        out["rrule"] = f.rrule
    if f.exdates:
        out["exdates"] = f.exdates
    if f.overrides:
        out["overrides"] = dict(f.overrides)
    if f.show_as != "busy":
        out["show_as"] = f.show_as
    if f.join_url:
        out["join_url"] = f.join_url
    if f.organizer is not None:
        out["organizer"] = f.organizer
    if f.my_response != "none":
        out["my_response"] = f.my_response
    return json.dumps(out, ensure_ascii=False)


def snapshot_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_json(), sort_keys=True)


@settings(max_examples=500, deadline=None)
@given(fields)
@example(Fields(statuses={"b@x.example": "accepted", "a@x.example": "declined"}))
@example(Fields(overrides={"b": ("x", "", "1", "2"), "a": ("y", "", "3", "4")}))
@example(Fields(contents="Zoë \x01 \\u00eb \ud800", participants=(("Zoë", "z@x"),)))
def test_both_texts_are_what_the_json_encoder_writes(f):
    stored, compact = f.texts()
    assert stored == json.dumps(f.to_json(), sort_keys=True)
    assert compact == journal_text(f) == fields_json(f)


@settings(max_examples=200, deadline=None)
@given(fields, fields)
def test_a_snapshot_is_stored_as_the_json_it_always_was(local, remote):
    for snapshot in (Snapshot(local, remote), Snapshot.agreed(local)):
        stored, compact = snapshot.texts()
        assert stored == snapshot_json(snapshot) == snapshot_text(snapshot.to_json())
        assert compact == journal_text(snapshot.local)
        assert Snapshot.from_json(json.loads(stored)) == Snapshot.from_json(snapshot.to_json())


@pytest.fixture
def services(engine_services):
    """On a SQLite file and on a team PostgreSQL database."""
    return engine_services


def test_an_initial_syncs_links_and_journal_hold_the_texts_the_encoder_wrote(store, clock):
    h = Harness(store, clock)
    h.add_remote("Café with Zoë", location='Straße 1 "back room"\n', body="naïve\tnotes")
    h.add_remote(
        "Visit",
        attendees=(Participant("Ann", "ann@x.example"), Participant("", "bo@x.example")),
    )
    h.add_remote("Plain visit", location="Room 2")
    h.sync()

    s, j = t.sync_status.c, t.journal.c
    links = {r.local_id: r.snapshot for r in store.conn.execute(select(s.local_id, s.snapshot))}
    journal = store.conn.execute(
        select(j.local_id, j.local_after).where(j.run_id == last_run(h).id)
    ).all()
    assert len(links) == len(journal) == 3
    for local_id, local_after in journal:
        link = store.status_for(h.account.id, [local_id])[local_id]
        snapshot = Snapshot.from_json(link.snapshot)
        assert links[local_id] == snapshot_json(snapshot)
        assert local_after == journal_text(snapshot.local)
        assert snapshot.local == m.local_fields(h.local(local_id))
