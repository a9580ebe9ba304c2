"""Calendar invitations (.ics, RFC 5545 through `icalendar`) and the signed links serving them.

A personal-chat bot cannot attach a file without Teams' file-consent flow, so each card
carries an "Add to calendar" link to the bot's own web app instead: `/events/calendar/<token>`,
where the token names the event and the method and is signed (HMAC-SHA256 with a key derived
from the pseudonym key) with an expiry. The .ics is built when the link is opened, from the
event as it stands then: its UID never changes, SEQUENCE rises with each change, and a
cancelled event (or a cancelled place) gets METHOD:CANCEL with STATUS:CANCELLED.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from bot.core.clock import LONDON
from bot.events.models import Event

PRODID = "-//Leicestershire County Council//EDI bot events//EN"
Method = Literal["request", "cancel"]
METHODS: tuple[Method, ...] = ("request", "cancel")
# A link keeps working this long after the event ends (people open old cards).
LINK_GRACE = timedelta(days=7)
_TOKEN = re.compile(r"^([a-z0-9-]{1,80})\.(request|cancel)\.([0-9]{1,12})\.([0-9a-f]{32})$")


class LinkError(ValueError):
    """A calendar link that is malformed, forged (`forged`) or past its expiry."""

    def __init__(self, reason: Literal["forged", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


def link_key(pseudonym_key: bytes) -> bytes:
    """The key calendar links are signed with, derived so it is used for nothing else."""
    return hmac.new(pseudonym_key, b"edi-bot calendar links v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class CalendarLinks:
    """Makes and checks signed, expiring links to an event's .ics."""

    key: bytes
    base_url: str

    def _sign(self, body: str) -> str:
        return hmac.new(self.key, body.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def token(self, event: Event, method: Method) -> str:
        """A token for `event`'s .ics with `method`, valid until a week after it ends."""
        expires = int((_aware(event.ends_at) + LINK_GRACE).timestamp())
        body = f"{event.slug}.{method}.{expires}"
        return f"{body}.{self._sign(body)}"

    def url(self, event: Event, method: Method) -> str:
        """The full link people open."""
        return f"{self.base_url.rstrip('/')}/events/calendar/{self.token(event, method)}.ics"

    def check(self, token: str, *, now: datetime) -> tuple[str, Method]:
        """(slug, method) from a token; LinkError if forged, malformed or expired."""
        token = token.removesuffix(".ics")
        match = _TOKEN.match(token)
        if match is None:
            raise LinkError("forged")
        slug, method, expires, signature = match.groups()
        if not hmac.compare_digest(self._sign(f"{slug}.{method}.{expires}"), signature):
            raise LinkError("forged")
        if now.timestamp() > int(expires):
            raise LinkError("expired")
        return slug, "cancel" if method == "cancel" else "request"


def event_uid(event: Event) -> str:
    """The event's calendar UID: the same for every invitation, update and cancellation."""
    return f"edi-bot-event-{event.id}-{event.slug}@leicestershire.gov.uk"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def build_ics(
    event: Event, *, method: Method, organiser_name: str, now: datetime | None = None
) -> bytes:
    """The .ics for `event`: METHOD:REQUEST (new or updated) or METHOD:CANCEL, with the
    Europe/London VTIMEZONE, a stable UID and the event's SEQUENCE."""
    cancelled = method == "cancel" or event.status == "cancelled"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    item = CalendarEvent()
    item.add("uid", event_uid(event))
    item.add("sequence", event.sequence)
    item.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    item.add("dtstart", _aware(event.starts_at).astimezone(LONDON))
    item.add("dtend", _aware(event.ends_at).astimezone(LONDON))
    item.add("summary", event.title)
    description = event.description or ""
    if event.accessibility:
        description += f"\n\nAccessibility: {event.accessibility}"
    if event.online_url:
        description += f"\n\nJoin online: {event.online_url}"
    item.add("description", description.strip())
    where = event.location or ("Online" if event.online_url else None)
    if where:
        item.add("location", where)
    if event.online_url:
        item.add("url", event.online_url)
    item.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    item.add("transp", "OPAQUE")
    item.add("categories", [organiser_name])
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
