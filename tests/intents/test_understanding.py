"""The matcher against the held-out phrasings, and the promises that hold whatever the scores.

The floors are the issue's: 90% of all phrasings reach their feature or are offered it, 95% of
reporting ones (and of those without the words report, incident or hate), and no small talk
ever sent to a report. `python -m bench.intents` prints the same figures, feature by feature.
"""

from __future__ import annotations

import pytest
import yaml

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.understanding import REPORT, Understanding, normalise
from tests.intents.measure import (
    SMALL_TALK,
    Measurement,
    content,
    load_phrasings,
    matcher,
    measure,
)


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return matcher()


@pytest.fixture(scope="module")
def measured(understanding: Understanding) -> Measurement:
    return measure(understanding, load_phrasings())


def test_the_held_out_set_is_big_enough_and_kept_apart_from_the_examples() -> None:
    phrasings = load_phrasings()
    assert len(phrasings) >= 150
    reports = [p for p in phrasings if p.expect == REPORT]
    assert len(reports) >= 60
    assert sum(p.plain for p in reports) >= 25
    examples = {
        normalise(sentence)
        for entry in content().menu_entries()
        for sentence in (*entry.examples, *entry.words, entry.title, entry.command)
    }
    talk = yaml.safe_load((DEFAULT_CONTENT_DIR / "shell" / "smalltalk.yaml").read_text())
    examples |= {normalise(sentence) for kind in talk["kinds"] for sentence in kind["examples"]}
    copied = [p.text for p in phrasings if normalise(p.text) in examples]
    assert copied == [], "held-out phrasings must not be among the examples"
    labels = {entry.command for entry in content().menu_entries()} | {SMALL_TALK}
    assert {p.expect for p in phrasings} <= labels


def test_nine_in_ten_phrasings_reach_or_are_offered_their_feature(measured: Measurement) -> None:
    assert measured.overall.rate >= 0.90, measured.overall.missed


def test_nineteen_in_twenty_reporting_phrasings_reach_or_offer_the_report(
    measured: Measurement,
) -> None:
    assert measured.by_feature[REPORT].rate >= 0.95, measured.by_feature[REPORT].missed
    assert measured.plain_reports.rate >= 0.95, measured.plain_reports.missed


def test_small_talk_is_never_sent_to_a_report(measured: Measurement) -> None:
    assert measured.small_talk_to_report == []


@pytest.mark.parametrize(
    "sentence",
    [
        "someone spat at me in the car park",
        "I'm being bullied because I'm gay",
        "a colleague keeps making islamophobic comments",
        "i feel unsafe at work",
        "thanks but someone threatened me",
    ],
)
def test_words_of_harm_put_the_report_first_and_are_never_small_talk(
    understanding: Understanding, sentence: str
) -> None:
    reading = understanding.read(sentence)
    assert reading.harm
    assert reading.small_talk is None
    assert reading.chosen == REPORT or reading.guesses[0] == REPORT


def test_a_feature_not_allowed_is_never_chosen_or_offered(understanding: Understanding) -> None:
    everyone = ["report", "check report", "declare", "bulletin", "events", "networks", "about"]
    reading = understanding.read("open the incident cases for case handlers", allowed=everyone)
    assert "cases" not in (reading.chosen, *reading.guesses)


@pytest.mark.parametrize("sentence", ["", "   ", "!!!", "\u200b"])
def test_nothing_typed_reads_as_nothing(understanding: Understanding, sentence: str) -> None:
    reading = understanding.read(sentence)
    assert reading.chosen is None and reading.guesses == ()


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("\U0001f44d", "ok"),
        ("\U0001f44d\U0001f3ff \U0001f44c", "ok"),
        ("\U0001f64f\ufe0f", "thanks"),
    ],
)
def test_emoji_on_their_own_are_the_small_talk_they_mean(
    understanding: Understanding, sentence: str, kind: str
) -> None:
    assert understanding.read(sentence).small_talk == kind


@pytest.mark.parametrize("sentence", ["\U0001f44d\U0001f64f", "\U0001f409", "\U0001f44d!"])
def test_mixed_or_unknown_emoji_are_not_guessed_at(
    understanding: Understanding, sentence: str
) -> None:
    reading = understanding.read(sentence)
    assert reading.chosen is None and reading.guesses == ()
