"""When a report's story was first written down, for a report made from a private record.

A confidential or named report keeps the moment (UTC, to the minute), so the case handler
sees that the person wrote it down at the time. An anonymous report keeps the month alone:
the record it came from is deleted when it is sent, and a day or a time kept on the report
could be matched with that record in an older backup (docs/privacy.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.clock import LONDON


def written_down_for(value: object, *, anonymous: bool) -> str:
    """What a report keeps of `value` (an ISO time): the moment to the minute in UTC, or for
    an anonymous report the month in London ("2026-03"); "" when there is none."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if anonymous:
        return moment.astimezone(LONDON).strftime("%Y-%m")
    return moment.astimezone(UTC).replace(second=0, microsecond=0).isoformat()


def written_down_text(kept: str) -> str:
    """What a report keeps, in words: "3 March 2026 at 10:14" (London time) or "March 2026"."""
    if len(kept) == 7:  # a month only
        try:
            return datetime.strptime(kept, "%Y-%m").strftime("%B %Y")
        except ValueError:
            return ""
    try:
        moment = datetime.fromisoformat(kept)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON).strftime("%-d %B %Y at %H:%M")
