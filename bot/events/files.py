"""Events written as files in content/events/calendar/ (one YAML file per event), for `events load`.

A file's `slug` is the event's id for good: loading a changed file edits the event (people
signed up are sent the change), loading an unchanged one does nothing. Files whose names
start with "_" (such as the example) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core.content import ContentError, load_yaml
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import SLUG, EventDraft, parse_local

KEYS = {
    "slug",
    "title",
    "network",
    "description",
    "start",
    "end",
    "signup_deadline",
    "capacity",
    "location",
    "online_url",
    "accessibility",
}


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
    """Parse one file into a draft; ContentError naming the file and every problem."""
    data: Any = load_yaml(path)
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping of event fields")
    problems = [f"unknown field {k!r}" for k in data if k not in KEYS]
    for required in ("slug", "title", "network", "start", "end", "capacity"):
        if data.get(required) in (None, ""):
            problems.append(f"{required} is required")
    slug = str(data.get("slug", ""))
    if slug and not SLUG.match(slug):
        problems.append("slug may use only lower-case letters, digits and hyphens")
    times = {}
    for key in ("start", "end", "signup_deadline"):
        if data.get(key) in (None, ""):
            continue
        try:
            times[key] = parse_local(str(data[key]))
        except ValueError as error:
            problems.append(f"{key}: {error}")
    capacity = data.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or isinstance(capacity, bool)):
        problems.append("capacity must be a whole number")
    if problems:
        raise ContentError(f"{path}: " + "; ".join(problems))
    network = str(data["network"])
    start = times["start"]
    draft = EventDraft(
        title=str(data["title"]),
        kind=BIG_CONVERSATION if network == BIG_CONVERSATION else "network",
        network=None if network == BIG_CONVERSATION else network,
        description=str(data.get("description") or ""),
        starts_at=start,
        ends_at=times["end"],
        # Without a deadline, sign-up closes an hour before the start.
        signup_deadline=times.get("signup_deadline", start - timedelta(hours=1)),
        capacity=int(data["capacity"]),
        location=str(data["location"]) if data.get("location") else None,
        online_url=str(data["online_url"]) if data.get("online_url") else None,
        accessibility=str(data["accessibility"]) if data.get("accessibility") else None,
    )
    return EventFile(path, slug, draft)
