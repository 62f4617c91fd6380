"""The conflict log keeps the kept value in words only (:func:`field_text`);
:func:`field_value` reads the value back, for ``--json``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from calsync_desktop.model import ShowAs
from calsync_desktop.store import field_text, field_value

_iso = st.datetimes().map(lambda d: d.isoformat() + "+00:00")
_text = st.text()
_VALUES = {
    "contents": _text,
    "location": _text,
    "time": st.lists(_iso, min_size=2, max_size=2),
    "private": st.booleans(),
    "participants": st.lists(st.lists(_text, min_size=2, max_size=2)),
    "rrule": st.none() | st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO;COUNT=3"]),
    "exdates": st.lists(_iso),
    "overrides": st.dictionaries(_iso, st.lists(_text, min_size=4, max_size=4)),
    "show_as": st.sampled_from([s.value for s in ShowAs]),
    "my_response": st.sampled_from(["none", "accepted", "tentative", "declined"]),
    "statuses": st.dictionaries(_text, _text),
}


@given(st.sampled_from(sorted(_VALUES)).flatmap(lambda n: st.tuples(st.just(n), _VALUES[n])))
def test_a_fields_words_read_back_as_its_value(named):
    name, value = named
    assert field_value(name, field_text(name, value)) == value
