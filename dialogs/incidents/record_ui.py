"""Pieces the private-record conversations share (keep_record.py, my_records.py,
report_from_record.py): times in words, and the record's words beside the report's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.clock import LONDON
from bot.core.content import Content

# The button on the report's "how would you like to report?" card that keeps a private
# record instead (and the words typed for it).
RECORD_INSTEAD = "keep a private record instead"


def record_words(content: Content) -> dict[str, Any]:
    """The words of content/records/words.yaml."""
    words: dict[str, Any] = content.data("records/words")
    return words


def in_london(at: datetime) -> datetime:
    """A stored time (UTC; SQLite hands it back without a zone) in London."""
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return moment.astimezone(LONDON)


def moment_text(at: datetime) -> str:
    """When something was written down, as a person reads it: "3 March 2026 at 10:14"."""
    return in_london(at).strftime("%-d %B %Y at %H:%M")


def words_for_records(incident_words: dict[str, Any], words: dict[str, Any]) -> dict[str, Any]:
    """The report's words with the record's own in place of those that speak of a report
    (resuming, a story too long, discarding), for the record's use of the report's steps."""
    keep = words["keep"]
    return {
        **incident_words,
        "resume": words["resume"],
        "narrative": {**incident_words["narrative"], "too_long": words["narrative_too_long"]},
        "review": {**incident_words["review"], "discarded": keep["discarded"]},
    }
