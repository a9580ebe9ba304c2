"""Events and staff networks: organisers create and run events; staff sign up, wait, claim.

Every method takes the caller's session (a turn's, a job's or a CLI command's transaction).

Places and the waitlist. A place is held by a `confirmed` sign-up or by an `offered` one (a
freed place kept for the next person on the waitlist until their claim window closes).
Signing up, cancelling and claiming first lock the event's row (`SELECT ... FOR UPDATE` on
PostgreSQL; SQLite runs one writing transaction at a time), then count the places held, so
two people taking the last place at once queue behind each other and exactly one gets it.

People. Each sign-up and membership is stored under the person's keyed pseudonym (the one
declarations use); the identity needed to message them and to show organisers who is coming
is sealed beside it. Adjustment needs are sealed too, shown only to the event's organisers,
and deleted the day after the event (a retention rule).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.content import Content, plain_text
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.events import repo as repo_events
from bot.events.calendar import LONDON, CalendarLinks, Method, build_ics, link_key
from bot.events.feature import IDENTITY_DAYS
from bot.events.models import Event, EventSignup, NetworkMember
from bot.events.networks import BIG_CONVERSATION, Network, load_networks
from bot.outbox.service import Outbox, card_activity
from bot.privacy.audit import AuditLog
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import FieldCipher, Sealed
from bot.privacy.pseudonym import Pseudonymiser

log = logging.getLogger(__name__)

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


class EventService:
    """Creates, changes and cancels events; signs people up; runs the waitlist and networks."""

    def __init__(
        self,
        *,
        content: Content,
        cipher: FieldCipher,
        pseudonyms: Pseudonymiser,
        audit: AuditLog,
        outbox: Outbox,
        links: CalendarLinks,
        claim_hours: int = 24,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._content = content
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self._audit = audit
        self._outbox = outbox
        self.links = links
        self.claim_window = timedelta(hours=claim_hours)
        self.clock = clock
        self.words: dict[str, Any] = content.data("events")
        self.networks: dict[str, Network] = load_networks(content)

    def now(self) -> datetime:
        """The current time (UTC)."""
        return self.clock()

    def pseudonym(self, person: PersonKey) -> str:
        """A person's keyed pseudonym."""
        return self._pseudonyms.of(person)

    # ---- naming ----------------------------------------------------------------------------

    @staticmethod
    def scope_of(event: Event) -> str:
        """The organiser scope an event belongs to: its network, or "big_conversation"."""
        return event.network if event.kind == "network" and event.network else BIG_CONVERSATION

    @staticmethod
    def scope_of_draft(draft: EventDraft) -> str:
        """The organiser scope a draft event would belong to."""
        return draft.network if draft.kind == "network" and draft.network else BIG_CONVERSATION

    def scope_name(self, scope: str) -> str:
        """A network's (or Big Conversation's) name."""
        if scope == BIG_CONVERSATION:
            return str(self.words["big_conversation"])
        network = self.networks.get(scope)
        return network.name if network else scope

    def host_of(self, event: Event) -> str:
        """Who runs the event, as people read it."""
        return self.scope_name(self.scope_of(event))

    def ics(self, event: Event, method: Method) -> bytes:
        """The event's calendar file."""
        return build_ics(event, method=method, organiser_name=self.host_of(event), now=self.now())

    # ---- sealing ---------------------------------------------------------------------------

    def _seal_who(self, person: Attendee, context: str) -> Sealed:
        value = {
            "tenant_id": person.key.tenant_id,
            "aad_object_id": person.key.aad_object_id,
            "name": person.name[:200],
        }
        return self._cipher.seal(json.dumps(value, ensure_ascii=False), context=context)

    def _open_json(self, token: str | None, key_id: str | None, context: str) -> dict[str, Any]:
        if not token or not key_id:
            return {}
        value = json.loads(self._cipher.open(Sealed(key_id, token), context=context))
        return value if isinstance(value, dict) else {}

    def who_of(self, signup: EventSignup) -> dict[str, Any]:
        """A sign-up's sealed identity, opened ({} once wiped)."""
        return self._open_json(signup.who, signup.who_key, signup_who_context(signup.id))

    def needs_of(self, signup: EventSignup) -> dict[str, Any]:
        """A sign-up's sealed adjustment needs, opened ({} when none)."""
        return self._open_json(signup.needs, signup.needs_key, signup_needs_context(signup.id))

    @staticmethod
    def _key(who: dict[str, Any]) -> PersonKey | None:
        tenant, aad = who.get("tenant_id"), who.get("aad_object_id")
        return PersonKey(str(tenant), str(aad)) if tenant and aad else None

    # ---- organisers ------------------------------------------------------------------------

    async def scopes_of(self, session: AsyncSession, person: PersonKey) -> list[str]:
        """The networks (and "big_conversation") this person organises."""
        return await repo_events.organiser_scopes(
            session, tenant_id=person.tenant_id, aad_object_id=person.aad_object_id
        )

    async def may_organise(self, session: AsyncSession, event: Event, person: PersonKey) -> bool:
        """Whether this person runs this event: they created it, or organise its network.
        (The `organiser` role itself is checked by the handler before any of this.)"""
        if event.created_by == f"teams:{person.tenant_id}/{person.aad_object_id}":
            return True
        return self.scope_of(event) in await self.scopes_of(session, person)

    async def organisers(self, session: AsyncSession, event: Event) -> list[PersonKey]:
        """Everyone who runs the event: its network's organisers and whoever created it."""
        people = [
            PersonKey(t, a)
            for t, a in await repo_events.organisers_of(session, network=self.scope_of(event))
        ]
        if event.created_by.startswith("teams:"):
            tenant, _, aad = event.created_by.removeprefix("teams:").partition("/")
            people.append(PersonKey(tenant, aad))
        return list(dict.fromkeys(people))

    # ---- creating, changing, cancelling ------------------------------------------------------

    def check_draft(self, draft: EventDraft, *, now: datetime | None = None) -> list[str]:
        """Every problem with a draft, in plain words (empty when it can be stored)."""
        p = self.words["problems"]
        problems = []
        moment = now or self.now()
        if not draft.title.strip():
            problems.append(p["title"])
        elif len(draft.title) > MAX_TITLE:
            problems.append(p["title_long"].format(limit=MAX_TITLE))
        for text in (draft.description, draft.accessibility or "", draft.location or ""):
            if len(text) > MAX_TEXT:
                problems.append(p["text_long"].format(limit=f"{MAX_TEXT:,}"))
                break
        if draft.kind == "network":
            if draft.network not in self.networks:
                problems.append(p["network"])
        elif draft.kind != BIG_CONVERSATION:
            problems.append(p["kind"])
        if draft.ends_at <= draft.starts_at:
            problems.append(p["end_before_start"])
        if draft.signup_deadline > draft.starts_at:
            problems.append(p["deadline_after_start"])
        if draft.starts_at <= moment:
            problems.append(p["in_the_past"])
        if not 1 <= draft.capacity <= MAX_CAPACITY:
            problems.append(p["capacity"].format(limit=f"{MAX_CAPACITY:,}"))
        if draft.online_url and not re.match(r"^https://\S+$", draft.online_url):
            problems.append(p["online_url"])
        if len(draft.online_url or "") > 1000:
            problems.append(p["online_url"])
        if not draft.location and not draft.online_url:
            problems.append(p["where"])
        return problems

    async def _unused_slug(self, session: AsyncSession, base: str) -> str:
        slug, n = base, 2
        while await repo_events.slug_taken(session, slug=slug):
            slug = f"{base[:56]}-{n}"
            n += 1
        return slug

    @staticmethod
    def _apply(event: Event, draft: EventDraft) -> None:
        event.title = draft.title.strip()
        event.kind = draft.kind
        event.network = draft.network if draft.kind == "network" else None
        event.description = draft.description.strip()
        event.starts_at = draft.starts_at
        event.ends_at = draft.ends_at
        event.local_date = draft.starts_at.astimezone(LONDON).date()
        event.signup_deadline = draft.signup_deadline
        event.capacity = draft.capacity
        event.location = (draft.location or "").strip() or None
        event.online_url = (draft.online_url or "").strip() or None
        event.accessibility = (draft.accessibility or "").strip() or None

    async def create(
        self, session: AsyncSession, draft: EventDraft, *, actor: str, slug: str | None = None
    ) -> Event:
        """Store a new event (EventError listing every problem otherwise)."""
        problems = self.check_draft(draft)
        if slug is not None and not SLUG.match(slug):
            problems.append(self.words["problems"]["slug"])
        if problems:
            raise EventError(problems)
        base = slug or slugify(draft.title, draft.starts_at.astimezone(LONDON).date())
        if slug is not None and await repo_events.slug_taken(session, slug=slug):
            raise EventError([self.words["problems"]["slug_taken"].format(slug=slug)])
        now = self.now()
        event = Event(
            slug=slug or await self._unused_slug(session, base or "event"),
            status="scheduled",
            sequence=0,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        self._apply(event, draft)
        session.add(event)
        await session.flush()
        await self._audit.append(
            session,
            actor=actor,
            action="event.create",
            object_type="event",
            object_id=event.slug,
            detail={"capacity": event.capacity},
        )
        return event

    def draft_of(self, event: Event) -> EventDraft:
        """An event's current values as a draft (to edit)."""
        return EventDraft(
            title=event.title,
            kind=event.kind,
            network=event.network,
            description=event.description,
            starts_at=aware(event.starts_at),
            ends_at=aware(event.ends_at),
            signup_deadline=aware(event.signup_deadline),
            capacity=event.capacity,
            location=event.location,
            online_url=event.online_url,
            accessibility=event.accessibility,
        )

    async def edit(
        self, session: AsyncSession, slug: str, draft: EventDraft, *, actor: str
    ) -> Event:
        """Change an event; attendees get an updated invitation (SEQUENCE + 1); a larger
        capacity offers the new places to the waitlist."""
        event = await repo_events.get_event(session, slug=slug, lock=True)
        if event is None:
            raise EventError([self.words["problems"]["unknown"]])
        if event.status == "cancelled":
            raise EventError([self.words["problems"]["cancelled"]])
        problems = self.check_draft(draft)
        held = (await repo_events.places(session, event_id=event.id)).held
        if draft.capacity < held:
            problems.append(self.words["problems"]["capacity_below"].format(held=held))
        if problems:
            raise EventError(problems)
        before = self.draft_of(event)
        self._apply(event, draft)
        if self.draft_of(event) == before:
            return event
        event.sequence += 1
        event.updated_at = self.now()
        await session.flush()
        await self._audit.append(
            session,
            actor=actor,
            action="event.edit",
            object_type="event",
            object_id=event.slug,
            detail={"sequence": event.sequence},
        )
        recipients = await self._people(session, event, ("confirmed", "offered"))
        if recipients:
            await self._send(
                session,
                event,
                "updated",
                recipients,
                dedupe=f"event-update:{event.id}:{event.sequence}",
                method="request",
            )
        await self.promote(session, event)
        return event

    async def cancel_event(self, session: AsyncSession, slug: str, *, actor: str) -> Event:
        """Cancel an event; everyone signed up or waiting is told, with a cancelling .ics."""
        event = await repo_events.get_event(session, slug=slug, lock=True)
        if event is None:
            raise EventError([self.words["problems"]["unknown"]])
        if event.status == "cancelled":
            return event
        event.status = "cancelled"
        event.sequence += 1
        event.updated_at = self.now()
        await session.flush()
        recipients = await self._people(session, event, ("confirmed", "offered", "waitlisted"))
        await self._audit.append(
            session,
            actor=actor,
            action="event.cancel",
            object_type="event",
            object_id=event.slug,
            detail={"told": len(recipients)},
        )
        if recipients:
            await self._send(
                session,
                event,
                "event_cancelled",
                recipients,
                dedupe=f"event-cancel:{event.id}",
                method="cancel",
            )
        return event

    # ---- staff: signing up, cancelling, claiming ----------------------------------------------

    def clean_needs(self, codes: Sequence[str], details: str) -> tuple[list[str], str] | None:
        """Known need codes and trimmed details; None if anything is unknown or too long."""
        chosen = [c for c in dict.fromkeys(codes) if c]
        if any(c not in NEEDS for c in chosen) or len(details) > MAX_DETAILS:
            return None
        return chosen, details.strip()

    async def sign_up(
        self,
        session: AsyncSession,
        slug: str,
        person: Attendee,
        *,
        needs: Sequence[str] = (),
        details: str = "",
    ) -> tuple[SignupOutcome, Event | None]:
        """Take a place (or join the waitlist when full). Locks the event row first."""
        cleaned = self.clean_needs(needs, details)
        if cleaned is None:
            return "bad_needs", None
        event = await repo_events.get_event(session, slug=slug, lock=True)
        if event is None:
            return "unknown_event", None
        now = self.now()
        if event.status == "cancelled":
            return "cancelled_event", event
        if aware(event.starts_at) <= now:
            return "past_event", event
        if aware(event.signup_deadline) < now:
            return "deadline_passed", event
        pseudonym = self.pseudonym(person.key)
        signup = await repo_events.signup_of(session, event_id=event.id, pseudonym=pseudonym)
        if signup is not None and signup.status == "confirmed":
            return "already_confirmed", event
        if signup is not None and signup.status == "waitlisted":
            return "already_waitlisted", event
        if signup is not None and signup.status == "offered":
            return "already_offered", event
        places = await repo_events.places(session, event_id=event.id)
        status = (
            "confirmed" if places.held < event.capacity and not places.waiting else "waitlisted"
        )
        if signup is None:
            signup = EventSignup(event_id=event.id, pseudonym=pseudonym, status=status)
            session.add(signup)
        signup.status = status
        signup.queued_at = now
        signup.offer_expires_at = None
        signup.signed_up_on = now.astimezone(LONDON).date()
        signup.updated_at = now
        await session.flush()
        sealed = self._seal_who(person, signup_who_context(signup.id))
        signup.who, signup.who_key = sealed.token, sealed.key_id
        codes, text = cleaned
        if codes or text:
            value = json.dumps({"needs": codes, "details": text}, ensure_ascii=False)
            sealed = self._cipher.seal(value, context=signup_needs_context(signup.id))
            signup.needs, signup.needs_key = sealed.token, sealed.key_id
        else:
            signup.needs = signup.needs_key = None
        await session.flush()
        if status == "waitlisted":
            await self.promote(session, event)
            await session.refresh(signup)
            if signup.status == "offered":
                return "waitlisted", event
        log.info("event.signup", extra={"outcome": status})
        return status, event  # type: ignore[return-value]

    async def cancel_place(
        self, session: AsyncSession, slug: str, person: PersonKey
    ) -> tuple[CancelOutcome, Event | None]:
        """Give up a place (or leave the waitlist, or decline an offer); a freed place is
        offered to the next person waiting."""
        event = await repo_events.get_event(session, slug=slug, lock=True)
        if event is None:
            return "unknown_event", None
        signup = await repo_events.signup_of(
            session, event_id=event.id, pseudonym=self.pseudonym(person)
        )
        if signup is None or signup.status not in ("confirmed", "offered", "waitlisted"):
            return "not_signed_up", event
        if aware(event.ends_at) <= self.now():
            return "past_event", event
        held = signup.status in repo_events.HOLDING
        signup.status = "cancelled"
        signup.offer_expires_at = None
        signup.needs = signup.needs_key = None
        signup.updated_at = self.now()
        await session.flush()
        if held:
            await self.promote(session, event)
        return ("cancelled" if held else "left_waitlist"), event

    async def claim(
        self, session: AsyncSession, slug: str, person: PersonKey
    ) -> tuple[ClaimOutcome, Event | None]:
        """Claim an offered place within its window."""
        event = await repo_events.get_event(session, slug=slug, lock=True)
        if event is None:
            return "unknown_event", None
        if event.status == "cancelled":
            return "cancelled_event", event
        signup = await repo_events.signup_of(
            session, event_id=event.id, pseudonym=self.pseudonym(person)
        )
        if signup is not None and signup.status == "confirmed":
            return "already_confirmed", event
        if signup is None or signup.status not in ("offered", "lapsed"):
            return "no_offer", event
        now = self.now()
        expires = signup.offer_expires_at
        if signup.status == "lapsed" or expires is None or aware(expires) < now:
            if signup.status == "offered":
                await self._lapse(session, signup)
                await self.promote(session, event)
            return "offer_expired", event
        signup.status = "confirmed"
        signup.offer_expires_at = None
        signup.updated_at = now
        await session.flush()
        return "claimed", event

    async def _lapse(self, session: AsyncSession, signup: EventSignup) -> None:
        signup.status = "lapsed"
        signup.needs = signup.needs_key = None
        signup.updated_at = self.now()
        await session.flush()

    async def promote(self, session: AsyncSession, event: Event) -> int:
        """Offer free places to the people waiting, in order; how many offers were made.
        The caller holds the event's row lock."""
        now = self.now()
        if event.status != "scheduled" or aware(event.starts_at) <= now:
            return 0
        places = await repo_events.places(session, event_id=event.id)
        free = event.capacity - places.held
        offered = 0
        while free > 0:
            waiting = await repo_events.next_waiting(session, event_id=event.id)
            if waiting is None:
                break
            waiting.status = "offered"
            waiting.offer_expires_at = min(now + self.claim_window, aware(event.starts_at))
            waiting.updated_at = now
            await session.flush()
            key = self._key(self.who_of(waiting))
            if key is not None:
                expires = aware(waiting.offer_expires_at)
                await self._send(
                    session,
                    event,
                    "offer",
                    [key],
                    dedupe=f"event-offer:{waiting.id}:{int(expires.timestamp())}",
                    method=None,
                    until=local_text(expires),
                )
            free -= 1
            offered += 1
        return offered

    # ---- what staff see ---------------------------------------------------------------------

    async def upcoming(
        self, session: AsyncSession, *, network: str | None = None
    ) -> list[tuple[Event, repo_events.Places]]:
        """Upcoming events (of one network or Big Conversations), with their places."""
        events = await repo_events.upcoming(session, now=self.now(), network=network)
        return [(e, await repo_events.places(session, event_id=e.id)) for e in events]

    async def places(self, session: AsyncSession, event: Event) -> repo_events.Places:
        """Places held and people waiting for one event."""
        return await repo_events.places(session, event_id=event.id)

    async def all_events(
        self, session: AsyncSession, *, since: datetime | None = None
    ) -> list[Event]:
        """Every event starting after `since` (all if None), soonest first."""
        return await repo_events.all_events(session, since=since)

    async def mine(
        self, session: AsyncSession, person: PersonKey
    ) -> list[tuple[Event, EventSignup]]:
        """A person's places, offers and waitlist entries at events not yet over."""
        return await repo_events.my_signups(
            session, pseudonym=self.pseudonym(person), now=self.now()
        )

    async def event(self, session: AsyncSession, slug: str) -> Event | None:
        """One event by slug."""
        if not SLUG.match(slug):
            return None
        return await repo_events.get_event(session, slug=slug)

    async def status_of(self, session: AsyncSession, event: Event, person: PersonKey) -> str | None:
        """This person's sign-up status at this event, if any."""
        signup = await repo_events.signup_of(
            session, event_id=event.id, pseudonym=self.pseudonym(person)
        )
        return signup.status if signup else None

    # ---- organisers: attendees and attendance -----------------------------------------------

    async def attendees(
        self, session: AsyncSession, event: Event, *, actor: str
    ) -> list[AttendeeView]:
        """Who is coming, waiting or offered a place, with adjustment needs. Audited."""
        views = []
        for signup in await repo_events.signups(
            session, event_id=event.id, statuses=("confirmed", "offered", "waitlisted")
        ):
            who, needs = self.who_of(signup), self.needs_of(signup)
            views.append(
                AttendeeView(
                    signup.id,
                    str(who.get("name") or self.words["unnamed"]),
                    signup.status,
                    [str(c) for c in needs.get("needs", [])],
                    str(needs.get("details", "")),
                    signup.attended,
                )
            )
        await self._audit.append(
            session,
            actor=actor,
            action="event.attendees_read",
            object_type="event",
            object_id=event.slug,
            detail={
                "people": len(views),
                "with_needs": sum(1 for v in views if v.needs or v.details),
            },
        )
        return views

    async def mark_attendance(
        self, session: AsyncSession, event: Event, attended: set[int], *, actor: str
    ) -> int | None:
        """Mark who attended (every other confirmed person did not); None before the event
        day. Returns how many attended."""
        if event.local_date > self.now().astimezone(LONDON).date():
            return None
        count = 0
        for signup in await repo_events.signups(
            session, event_id=event.id, statuses=("confirmed",)
        ):
            signup.attended = signup.id in attended
            count += signup.attended
        await session.flush()
        await self._audit.append(
            session,
            actor=actor,
            action="event.attendance",
            object_type="event",
            object_id=event.slug,
            detail={"attended": count},
        )
        return count

    def need_labels(self, codes: Sequence[str]) -> str:
        """Need codes as words."""
        labels = self.words["needs"]
        return ", ".join(str(labels.get(c, c)) for c in codes)

    # ---- networks -----------------------------------------------------------------------------

    async def my_networks(self, session: AsyncSession, person: PersonKey) -> list[str]:
        """The networks this person belongs to."""
        return await repo_events.membership(session, pseudonym=self.pseudonym(person))

    async def join(self, session: AsyncSession, network: str, person: Attendee) -> bool | None:
        """Join a network; False if already a member, None if there is no such network."""
        if network not in self.networks:
            return None
        pseudonym = self.pseudonym(person.key)
        if await repo_events.member_of(session, network=network, pseudonym=pseudonym):
            return False
        member_id = secrets.token_hex(16)
        sealed = self._seal_who(person, member_who_context(member_id))
        session.add(
            NetworkMember(
                id=member_id,
                network=network,
                pseudonym=pseudonym,
                who=sealed.token,
                who_key=sealed.key_id,
                joined_on=self.now().astimezone(LONDON).date(),
            )
        )
        await session.flush()
        return True

    async def leave(self, session: AsyncSession, network: str, person: PersonKey) -> bool:
        """Leave a network; False if not a member."""
        return await repo_events.leave(session, network=network, pseudonym=self.pseudonym(person))

    async def members(
        self, session: AsyncSession, network: str, person: PersonKey, *, actor: str
    ) -> list[str] | None:
        """A network's members' names, for that network's organisers only (None otherwise).
        Audited either way."""
        allowed = network in self.networks and network in await self.scopes_of(session, person)
        names: list[str] = []
        if allowed:
            for member in await repo_events.members(session, network=network):
                who = self._open_json(
                    member.who,
                    member.who_key,
                    member_who_context(member.id),
                )
                names.append(str(who.get("name") or self.words["unnamed"]))
        await self._audit.append(
            session,
            actor=actor,
            action="network.members_read" if allowed else "network.members_refused",
            object_type="network",
            object_id=network[:64],
            detail={"members": len(names)},
        )
        return names if allowed else None

    # ---- the scheduled sweep -------------------------------------------------------------------

    async def sweep(self, session: AsyncSession) -> SweepCounts:
        """Lapse unclaimed offers and move places on; send the day-before reminders and the
        organisers' attendee lists (each once: outbox dedupe keys)."""
        counts = SweepCounts()
        now = self.now()
        for signup in await repo_events.lapsed_offers(session, now=now):
            event = await repo_events.get_event(session, event_id=signup.event_id, lock=True)
            await session.refresh(signup)
            if event is None or signup.status != "offered":
                continue
            await self._lapse(session, signup)
            counts.lapsed += 1
            counts.offered += await self.promote(session, event)
        for event_id in await repo_events.events_with_waitlist(session, now=now):
            event = await repo_events.get_event(session, event_id=event_id, lock=True)
            if event is not None:
                counts.offered += await self.promote(session, event)
        local = now.astimezone(LONDON)
        if local.hour >= 9:
            tomorrow = local.date() + timedelta(days=1)
            start = datetime.combine(tomorrow, time(0), tzinfo=LONDON)
            end = datetime.combine(tomorrow + timedelta(days=1), time(0), tzinfo=LONDON)
            for event in await repo_events.events_starting_between(session, start=start, end=end):
                counts.reminders += await self._remind(session, event)
                counts.organiser_lists += await self._tell_organisers(session, event)
        return counts

    async def _remind(self, session: AsyncSession, event: Event) -> int:
        if await repo_events.already_queued(session, dedupe_key=f"event-reminder:{event.id}"):
            return 0
        people = await self._people(session, event, ("confirmed",))
        if not people:
            return 0
        await self._send(
            session,
            event,
            "reminder",
            people,
            dedupe=f"event-reminder:{event.id}",
            method="request",
        )
        return 1

    async def _tell_organisers(self, session: AsyncSession, event: Event) -> int:
        if await repo_events.already_queued(session, dedupe_key=f"event-attendees:{event.id}"):
            return 0
        organisers = await self.organisers(session, event)
        if not organisers:
            return 0
        views = await self.attendees(session, event, actor="system:events")
        card = self.attendee_card(event, views, for_message=True)
        words = self.words["notify"]["attendee_list"]
        await self._outbox.enqueue(
            session,
            kind="event.attendee_list",
            subject=event.slug,
            recipients=organisers,
            activity=card_activity(card, summary=words["summary"].format(title=event.title)),
            dedupe_key=f"event-attendees:{event.id}",
        )
        return 1

    # ---- messages --------------------------------------------------------------------------

    async def _people(
        self, session: AsyncSession, event: Event, statuses: Sequence[str]
    ) -> list[PersonKey]:
        people = []
        for signup in await repo_events.signups(session, event_id=event.id, statuses=statuses):
            key = self._key(self.who_of(signup))
            if key is not None:
                people.append(key)
        return people

    def facts(self, event: Event) -> list[dict[str, str]]:
        """The facts shown for an event on every card."""
        f = self.words["facts"]
        facts = [
            {"title": f["host"], "value": self.host_of(event)},
            {"title": f["starts"], "value": local_text(event.starts_at)},
            {"title": f["ends"], "value": local_text(event.ends_at)},
        ]
        if event.location:
            facts.append({"title": f["where"], "value": event.location})
        if event.online_url:
            facts.append({"title": f["online"], "value": event.online_url})
        facts.append({"title": f["deadline"], "value": local_text(event.signup_deadline)})
        return facts

    def notice_card(
        self, event: Event, key: str, *, method: Method | None, **fields: str
    ) -> dict[str, Any]:
        """A card about one event: confirmed, waitlisted, offer, reminder, updated, cancelled."""
        words = self.words["notify"][key]
        # Paragraphs are Markdown: the title (and any field) are an organiser's words.
        plain = {name: plain_text(value) for name, value in fields.items()}
        paragraphs = [
            str(p).format(title=plain_text(event.title), **plain) for p in words["paragraphs"]
        ]
        buttons = [
            {"title": str(b["title"]), "data": {"command": str(b["command"]), "event": event.slug}}
            for b in words.get("buttons", [])
        ]
        return self._content.card(
            "event_card",
            heading=str(words["heading"]).format(title=event.title),
            paragraphs=paragraphs,
            facts=self.facts(event),
            sections=[],
            inputs=[],
            buttons=buttons,
            links=[{"title": self.words["add_to_calendar"], "url": self.links.url(event, method)}]
            if method
            else [],
        )

    async def _send(
        self,
        session: AsyncSession,
        event: Event,
        key: str,
        recipients: list[PersonKey],
        *,
        dedupe: str,
        method: Method | None,
        **fields: str,
    ) -> None:
        card = self.notice_card(event, key, method=method, **fields)
        summary = str(self.words["notify"][key]["summary"]).format(title=event.title)
        await self._outbox.enqueue(
            session,
            kind=f"event.{key}",
            subject=event.slug,
            recipients=recipients,
            activity=card_activity(card, summary=summary),
            dedupe_key=dedupe,
        )

    def attendee_card(
        self, event: Event, views: list[AttendeeView], *, for_message: bool = False
    ) -> dict[str, Any]:
        """The organisers' list: names, status, adjustment needs; attendance toggles in chat."""
        w = self.words["attendees"]
        sections = []
        inputs = []
        for view in views:
            lines = [str(w["statuses"].get(view.status, view.status))]
            if view.needs or view.details:
                lines.append(
                    w["needs_line"]
                    .format(
                        needs=self.need_labels(view.needs) or w["no_codes"],
                        details=plain_text(view.details or ""),
                    )
                    .strip()
                )
            sections.append({"title": view.name, "lines": lines})
            if not for_message and view.status == "confirmed":
                inputs.append(
                    {
                        "type": "Input.Toggle",
                        "id": f"attended_{view.signup_id}",
                        # Teams shows a toggle's title as Markdown too.
                        "title": w["attended_toggle"].format(name=plain_text(view.name)),
                        "value": "true" if view.attended else "false",
                        "valueOn": "true",
                        "valueOff": "false",
                        "wrap": True,
                    }
                )
        held = sum(1 for v in views if v.status in repo_events.HOLDING)
        waiting = sum(1 for v in views if v.status == "waitlisted")
        paragraphs = [
            w["summary"].format(held=held, capacity=event.capacity, waiting=waiting),
            w["privacy"],
        ]
        if not views:
            paragraphs.append(w["nobody"])
        buttons = []
        if inputs:
            buttons.append(
                {"title": w["save"], "data": {"form": "attendance", "event": event.slug}}
            )
        if for_message:
            buttons.append(
                {
                    "title": w["open"],
                    "data": {"command": "organise events", "event": event.slug},
                }
            )
        return self._content.card(
            "event_card",
            heading=w["heading"].format(title=event.title),
            paragraphs=paragraphs,
            facts=self.facts(event),
            sections=sections,
            inputs=inputs,
            buttons=buttons,
            links=[],
        )


# ---- retention and one person's data (bot/privacy/retention.py, bot/people.py) ----------------


async def purge_event_data(session: AsyncSession, now: datetime) -> int:
    """Delete adjustment needs the day after each event, and wipe sign-ups' sealed identity
    IDENTITY_DAYS after it; rows changed."""
    today = now.astimezone(LONDON).date()
    needs = await repo_events.delete_needs_before(session, day=today)
    who = await repo_events.wipe_identities_before(
        session, day=today - timedelta(days=IDENTITY_DAYS)
    )
    return needs + who


async def export_event_data(
    session: AsyncSession, cipher: FieldCipher, *, pseudonym: str
) -> dict[str, Any]:
    """A person's sign-ups (with their adjustment needs, decrypted) and network memberships."""
    signups = []
    for event, signup in await repo_events.person_signups(session, pseudonym=pseudonym):
        needs: Any = None
        if signup.needs and signup.needs_key:
            needs = json.loads(
                cipher.open(
                    Sealed(signup.needs_key, signup.needs),
                    context=signup_needs_context(signup.id),
                )
            )
        signups.append(
            {
                "event": event.slug,
                "title": event.title,
                "starts_at": aware(event.starts_at),
                "status": signup.status,
                "signed_up_on": signup.signed_up_on,
                "attended": signup.attended,
                "adjustment_needs": needs,
                "identity_held_for_messages": signup.who is not None,
            }
        )
    return {
        "event_signups": signups,
        "staff_networks": await repo_events.membership(session, pseudonym=pseudonym),
    }


async def erase_event_data(session: AsyncSession, *, pseudonym: str, person: PersonKey) -> int:
    """Delete a person's sign-ups, memberships and organiser scopes; rows deleted."""
    counts = await repo_events.erase_person(
        session,
        pseudonym=pseudonym,
        tenant_id=person.tenant_id,
        aad_object_id=person.aad_object_id,
    )
    return sum(counts.values())


def build_event_service(
    settings: Settings, content: Content, privacy: PrivacyCore, outbox: Outbox
) -> EventService:
    """The events service, with calendar links signed by a key derived from the privacy keys."""
    base_url = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    return EventService(
        content=content,
        cipher=privacy.cipher,
        pseudonyms=privacy.pseudonyms,
        audit=privacy.audit,
        outbox=outbox,
        links=CalendarLinks(link_key(privacy.keys.pseudonym), base_url),
        claim_hours=settings.event_claim_hours,
    )
