"""Every new appointment's id is a random UUID (version 4) in its usual text form."""

from __future__ import annotations

import uuid

from calsync_desktop.model import new_id


def test_a_new_id_is_a_random_uuid_as_text():
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
    # every variant digit and every value of the random digits turn up
    assert {text[19] for text in ids} == set("89ab")
    assert {c for text in ids for c in text.replace("-", "")} == set("0123456789abcdef")
