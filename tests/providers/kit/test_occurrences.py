"""Which exceptions of a series are overrides, once for every service
(calsync_desktop/providers/kit/occurrences.py).

The engine's mapping reads with :func:`without_plain`, and each provider's
series write puts exceptions back with :func:`put_back`; the end-to-end
contract (``test_an_occurrence_that_says_what_its_series_says_is_no_override``
in tests/sync/e2e_contract.py) checks both through every service's real client.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from calsync_desktop.model import OccurrenceOverride, Recurrence
from calsync_desktop.providers.kit.occurrences import (
    is_plain,
    put_back,
    series_says,
    without_plain,
)

ORIGINAL = datetime(2031, 3, 6, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
SERIES = ("Weekly review\nAgenda", "Room 1")
LONG = "x" * 300

# an exception of the series SERIES (one hour), and whether it says what the series says
CASES = [
    ("the series' own occurrence", ("Weekly review\nAgenda", "Room 1", 0, 60), True),
    ("blank edges as stored", ("Weekly review\nAgenda\n\n", "Room 1", 0, 60), True),
    ("other contents", ("Weekly review\nOther agenda", "Room 1", 0, 60), False),
    ("another place", ("Weekly review\nAgenda", "Room 2", 0, 60), False),
    ("moved", ("Weekly review\nAgenda", "Room 1", 30, 90), False),
    ("shortened", ("Weekly review\nAgenda", "Room 1", 0, 30), False),
    ("an emptied subject", ("\nAgenda", "Room 1", 0, 60), False),
]


def exception(contents, location, start_minutes, end_minutes, original=ORIGINAL):
    return OccurrenceOverride(
        original,
        contents,
        location,
        original + timedelta(minutes=start_minutes),
        original + timedelta(minutes=end_minutes),
    )


@pytest.mark.parametrize(("what", "fields", "plain"), CASES, ids=[c[0] for c in CASES])
def test_an_exception_is_plain_exactly_when_contents_place_and_time_are_the_series(
    what, fields, plain
):
    assert is_plain(exception(*fields), *SERIES, HOUR) is plain
    rec = Recurrence("FREQ=DAILY;COUNT=5", overrides=(exception(*fields),))
    kept = without_plain(rec, *SERIES, HOUR).overrides
    assert kept == (() if plain else rec.overrides)


def test_a_first_line_longer_than_a_subject_is_compared_as_stored():
    series = (LONG + "\nAgenda", "Room 1")
    held = exception("x" * 255 + "\n" + "x" * 45 + "\nAgenda", "Room 1", 0, 60)
    assert is_plain(held, *series, HOUR)


def test_put_back_brings_each_exception_the_draft_does_not_name_to_what_the_series_says():
    days = [ORIGINAL + timedelta(days=n) for n in range(4)]
    held = [
        exception("Weekly review\nOld agenda", "Room 1", 0, 60, days[0]),  # answered, old text
        exception("Moved", "Cafe", 120, 180, days[1]),  # the draft keeps this override
        exception("Weekly review\nOld agenda", "Room 1", 0, 60, days[2]),  # deleted in the draft
        exception(*SERIES, 0, 60, original=days[3]),  # says it already: nothing to write
    ]
    wanted = Recurrence("FREQ=DAILY;COUNT=5", exdates=(days[2],), overrides=(held[1],))
    assert put_back(held, wanted, *SERIES, HOUR) == [series_says(days[0], *SERIES, HOUR)]
