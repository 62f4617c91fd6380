"""How the product counts and names itself: proper plurals, one name."""

from __future__ import annotations

import pytest

from calsync_desktop.words import PRODUCT_NAME, count, join_words, noun, plural_of, sentence


@pytest.mark.parametrize(
    ("n", "singular", "expected"),
    [
        (0, "appointment", "0 appointments"),
        (1, "appointment", "1 appointment"),
        (30, "appointment", "30 appointments"),
        (1, "occurrence", "1 occurrence"),
        (2, "occurrence", "2 occurrences"),
        (3, "problem", "3 problems"),
        (1, "problem", "1 problem"),
        (2, "entry", "2 entries"),
        (2, "day", "2 days"),
        (2, "address", "2 addresses"),
        (2, "person", "2 people"),
        (12_000, "item", "12,000 items"),
    ],
)
def test_counts_read_as_english(n, singular, expected):
    assert count(n, singular) == expected
    assert "(s)" not in count(n, singular)


def test_an_explicit_plural_wins_and_verbs_agree():
    assert count(2, "calendar account") == "2 calendar accounts"
    assert count(2, "child", "children") == "2 children"
    assert f"{count(1, 'item')} {noun(1, 'was')} left out" == "1 item was left out"
    assert f"{count(4, 'item')} {noun(4, 'was')} left out" == "4 items were left out"
    assert plural_of("Entry") == "Entries"


def test_sentences_end_in_one_full_stop():
    assert sentence("Nothing needed copying.") == "Nothing needed copying."
    assert sentence("Nothing needed copying..") == "Nothing needed copying."
    assert sentence("Done") == "Done."
    assert sentence("Really?") == "Really?"


def test_lists_are_joined_with_and():
    assert join_words([]) == ""
    assert join_words(["Work"]) == "Work"
    assert join_words(["Work", "Home"]) == "Work and Home"
    assert join_words(["A", "B", "C"]) == "A, B and C"


def test_the_product_has_one_name_in_the_window(tmp_path):
    """Every user-visible string of the window (and the account kinds' texts the
    wizard shows) names the product the same way: never "calsync" in a sentence
    (``calsync accounts add``, ``calsync team disconnect``, ``calsync history show``
    are commands, not a name)."""
    import re
    from pathlib import Path

    import calsync_desktop.accounts.kinds
    import calsync_desktop.gui

    # "calsync" followed by a command group is a command, not the product's name
    NAMED = r"\bcalsync\b(?![-_.]| accounts| sync| team| history| undo)"
    offenders = []
    shown = sorted(Path(calsync_desktop.gui.__file__).parent.rglob("*.py"))  # wizard/ too
    assert any(p.parent.name == "wizard" for p in shown)
    shown.append(Path(calsync_desktop.accounts.kinds.__file__))  # the wizard's texts
    for path in shown:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("#", "import", "from", "log.", '"""')):
                continue
            for text in re.findall(r'"([^"]*)"', line):
                if re.search(NAMED, text) and " " in text:
                    offenders.append(f"{path.relative_to(path.parents[1])}:{number}: {text}")
    assert PRODUCT_NAME == "Calendar Sync"
    assert offenders == []
