"""Events' plain values: limits, outcomes, drafts, attendees, and where sealed values live."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from bot.core.clock import LONDON
from bot.core.people import PersonKey

NEEDS = ("bsl", "step_free", "captions", "dietary", "other")


MAX_TITLE = 200


MAX_TEXT = 2000


MAX_DETAILS = 500


MAX_CAPACITY = 10_000


# Sealed identities are wiped this long after the event (attendance is marked by then).
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


SignupOutcome = Literal[
    "confirmed",
    "waitlisted",
    "already_confirmed",
    "already_waitlisted",
    "already_offered",
    "unknown_event",
    "cancelled_event",
    "past_event",
    "deadline_passed",
    "bad_needs",
]


NeedsOutcome = Literal["needs_saved", "bad_needs", "not_signed_up", "unknown_event", "past_event"]
CancelOutcome = Literal[
    "cancelled", "left_waitlist", "not_signed_up", "unknown_event", "past_event"
]


ClaimOutcome = Literal[
    "claimed", "already_confirmed", "offer_expired", "no_offer", "unknown_event", "cancelled_event"
]


def seal_context(table: str, row_id: object) -> str:
    """Associated data for a sealed value: its table, column and row."""
    return f"{table}:{row_id}"


def signup_who_context(signup_id: object) -> str:
    """Where a sign-up's sealed identity lives."""
    return seal_context("event_signups.who", signup_id)


def signup_needs_context(signup_id: object) -> str:
    """Where a sign-up's sealed adjustment needs live."""
    return seal_context("event_signups.needs", signup_id)


def member_who_context(key: object) -> str:
    """Where a network member's sealed identity lives (its random row id)."""
    return seal_context("network_members.who", key)


def aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite returns them naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_local(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM' (or with a T) in Europe/London, as aware UTC; ValueError if not a
    real time there (the hour the clocks skip in March does not exist)."""
    cleaned = text.strip().replace("T", " ")
    try:
        naive = datetime.strptime(cleaned[:16], "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time like 2027-01-20 12:30") from None
    local = naive.replace(tzinfo=LONDON)
    round_trip = local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    if round_trip != naive:
        raise ValueError(f"{cleaned[:16]} does not exist in UK time (the clocks go forward)")
    return local.astimezone(UTC)


def local_text(moment: datetime) -> str:
    """A time as staff read it: 'Wednesday 20 January 2027, 12:30'."""
    return aware(moment).astimezone(LONDON).strftime("%A %-d %B %Y, %H:%M")


def slugify(title: str, day: date) -> str:
    """A readable slug from a date and title: '2027-01-20-race-equality-conversation'."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    return f"{day.isoformat()}-{'-'.join(words)}"[:60].rstrip("-")


@dataclass(frozen=True)
class Attendee:
    """A member of staff as the events service names them."""

    key: PersonKey
    name: str

    @property
    def actor(self) -> str:
        """How the audit log and `created_by` name them."""
        return f"teams:{self.key.tenant_id}/{self.key.aad_object_id}"


@dataclass
class EventDraft:
    """What an organiser gives for an event (times aware UTC)."""

    title: str
    kind: str  # "network" or "big_conversation"
    network: str | None
    description: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime
    capacity: int
    location: str | None = None
    online_url: str | None = None
    accessibility: str | None = None


class EventError(ValueError):
    """An event that cannot be stored as given; `problems` says why, in plain words."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class AttendeeView:
    """One person at an event, as its organisers see them."""

    signup_id: int
    name: str
    status: str
    needs: list[str]
    details: str
    attended: bool | None


@dataclass
class SweepCounts:
    """What one run of the events sweep did."""

    lapsed: int = 0
    offered: int = 0
    reminders: int = 0
    organiser_lists: int = 0
    extra: dict[str, int] = field(default_factory=dict)
