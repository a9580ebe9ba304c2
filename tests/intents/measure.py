"""How well typed sentences reach their feature: the held-out phrasings against the matcher.

`tests/intents/phrasings.yaml` was written apart from the examples in content/*/menu.yaml and
is never copied into them. A phrasing counts as:
- reached: the matcher starts its feature (or answers small talk as small talk);
- offered: its feature is among the buttons offered;
- missed: anything else (another feature started, or not offered at all).
Small talk must never start a report, whatever else happens.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.channel.teams import normalise_command
from bot.config import Settings
from bot.core.content import Content
from bot.core.understanding import REPORT, Reading, Understanding
from bot.db.engine import create_engine
from bot.features import FEATURES
from bot.runtime import build_runtime
from tests.harness import dev_settings

PHRASINGS = Path(__file__).with_name("phrasings.yaml")
SMALL_TALK = "smalltalk"
REPORT_WORDS = ("report", "incident", "hate")


@dataclass(frozen=True)
class Phrasing:
    """One held-out sentence and the feature (or "smalltalk") it asks for."""

    text: str
    expect: str

    @property
    def plain(self) -> bool:
        """A report phrasing that avoids the words report, incident and hate."""
        lowered = self.text.casefold()
        return self.expect == REPORT and not any(word in lowered for word in REPORT_WORDS)


@dataclass
class Tally:
    """Outcomes for one group of phrasings."""

    reached: int = 0
    offered: int = 0
    missed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.reached + self.offered + len(self.missed)

    @property
    def rate(self) -> float:
        """Share reached or offered."""
        return (self.reached + self.offered) / self.total if self.total else 0.0


@dataclass
class Measurement:
    """The tallies: all, by feature, the plain report phrasings, and small talk sent to a report."""

    overall: Tally = field(default_factory=Tally)
    by_feature: dict[str, Tally] = field(default_factory=dict)
    plain_reports: Tally = field(default_factory=Tally)
    small_talk_to_report: list[str] = field(default_factory=list)


def load_phrasings(path: Path = PHRASINGS) -> list[Phrasing]:
    """The held-out phrasings."""
    return [
        Phrasing(str(item["text"]), str(item["expect"]))
        for item in yaml.safe_load(path.read_text())
    ]


def content() -> Content:
    """The shipped content/ folder."""
    return Content(Settings().content_dir, [feature.name for feature in FEATURES])


def matcher() -> Understanding:
    """The matcher the bot builds (from the shipped content and each feature's command words)."""
    settings = dev_settings(database_url="sqlite+aiosqlite://")
    return build_runtime(settings, create_engine(settings.database_url)).understanding


def outcome(phrasing: Phrasing, reading: Reading) -> str:
    """ "reached", "offered" or "missed"."""
    if phrasing.expect == SMALL_TALK:
        return "reached" if reading.small_talk is not None else "missed"
    if reading.chosen == phrasing.expect:
        return "reached"
    if reading.chosen is None and phrasing.expect in reading.guesses:
        return "offered"
    return "missed"


def measure(understanding: Understanding, phrasings: list[Phrasing]) -> Measurement:
    """Read every phrasing (as someone who holds every role) and tally the outcomes."""
    result = Measurement()
    for phrasing in phrasings:
        reading = understanding.read(phrasing.text)
        seen = outcome(phrasing, reading)
        tallies = [result.overall, result.by_feature.setdefault(phrasing.expect, Tally())]
        if phrasing.plain:
            tallies.append(result.plain_reports)
        for tally in tallies:
            if seen == "reached":
                tally.reached += 1
            elif seen == "offered":
                tally.offered += 1
            else:
                tally.missed.append((phrasing.text, reading.chosen or ",".join(reading.guesses)))
        if phrasing.expect == SMALL_TALK and REPORT in (reading.chosen, *reading.guesses[:1]):
            result.small_talk_to_report.append(phrasing.text)
    return result


def exact_words(shipped: Content, phrasings: list[Phrasing]) -> Tally:
    """The baseline: the old behaviour, where only a command or one of its words worked."""
    words = {}
    for entry in shipped.menu_entries():
        for word in (entry.command, *entry.words):
            words[normalise_command(word)] = entry.command
    tally = Tally()
    for phrasing in phrasings:
        if words.get(normalise_command(phrasing.text)) == phrasing.expect:
            tally.reached += 1
        else:
            tally.missed.append((phrasing.text, ""))
    return tally


def labels(phrasings: list[Phrasing]) -> Counter[str]:
    """How many phrasings each feature has."""
    return Counter(phrasing.expect for phrasing in phrasings)
