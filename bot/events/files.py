"""Events written as files in content/events/calendar/ (one YAML file per event), for `events load`.

A file's `slug` is the event's id for good: loading a changed file edits the event (people
signed up are sent the change), loading an unchanged one does nothing. Files whose names
start with "_" (such as the example) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.core.content import load_model
from bot.events.event_files import BIG_CONVERSATION, EventFileModel
from bot.events.records import EventDraft


@dataclass(frozen=True)
class EventFile:
    """One event file: where it is, its slug, and the draft it describes."""

    path: Path
    slug: str
    draft: EventDraft


def event_files(directory: Path) -> list[Path]:
    """The event files to load, in name order."""
    return sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("_"))


def read_event_file(path: Path) -> EventFile:
    """Parse one file into a draft; ContentError naming the file, and the line of each problem."""
    written = load_model(path, EventFileModel)
    network = written.network
    return EventFile(
        path,
        written.slug,
        EventDraft(
            title=written.title,
            kind=BIG_CONVERSATION if network == BIG_CONVERSATION else "network",
            network=None if network == BIG_CONVERSATION else network,
            description=written.description,
            starts_at=written.start,
            ends_at=written.end,
            # Without a deadline, sign-up closes an hour before the start.
            signup_deadline=written.signup_deadline or written.start - timedelta(hours=1),
            capacity=written.capacity,
            location=written.location or None,
            online_url=written.online_url or None,
            accessibility=written.accessibility or None,
        ),
    )
