"""Places at an event: signing up, the waitlist, offers, claims and cancellations."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON
from bot.core.people import PersonKey
from bot.events import repo as repo_events
from bot.events.cards import EventCards
from bot.events.models import Event, EventSignup
from bot.events.records import (
    MAX_DETAILS,
    NEEDS,
    SLUG,
    Attendee,
    CancelOutcome,
    ClaimOutcome,
    NeedsOutcome,
    SignupOutcome,
    aware,
    local_text,
    signup_needs_context,
    signup_who_context,
)

log = logging.getLogger("bot.events")
# Why a place cannot be changed or given up.
Refusal = Literal["unknown_event", "not_signed_up", "past_event"]


class EventPlaces(EventCards):
    """A person's place at an event, and the waitlist that fills freed places."""

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

    async def _lapse(self, session: AsyncSession, signup: EventSignup) -> None:
        signup.status = "lapsed"
        signup.needs = signup.needs_key = None
        signup.updated_at = self.now()
        await session.flush()

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
        pseudonym = self.pseudonym(person.key)
        signup = await repo_events.signup_of(session, event_id=event.id, pseudonym=pseudonym)
        refused = _refusal(event, signup, now)
        if refused is not None:
            return refused, event
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
        self._seal_needs(signup, *cleaned)
        await session.flush()
        if status == "waitlisted":
            await self.promote(session, event)
            await session.refresh(signup)
            if signup.status == "offered":
                return "waitlisted", event
        log.info("event.signup", extra={"outcome": status})
        return status, event  # type: ignore[return-value]

    def _seal_needs(self, signup: EventSignup, codes: list[str], text: str) -> None:
        """Seal the adjustment needs a person gave (or clear them), under the signup's id."""
        if codes or text:
            value = json.dumps({"needs": codes, "details": text}, ensure_ascii=False)
            sealed = self._cipher.seal(value, context=signup_needs_context(signup.id))
            signup.needs, signup.needs_key = sealed.token, sealed.key_id
        else:
            signup.needs = signup.needs_key = None

    async def cancel_place(
        self, session: AsyncSession, slug: str, person: PersonKey
    ) -> tuple[CancelOutcome, Event | None]:
        """Give up a place (or leave the waitlist, or decline an offer); a freed place is
        offered to the next person waiting."""
        event, signup, refused = await self._held_signup(session, slug, person)
        if event is None or signup is None:
            return refused, event
        held = signup.status in repo_events.HOLDING
        signup.status = "cancelled"
        signup.offer_expires_at = None
        signup.needs = signup.needs_key = None
        signup.updated_at = self.now()
        await session.flush()
        if held:
            await self.promote(session, event)
        return ("cancelled" if held else "left_waitlist"), event

    async def change_needs(
        self,
        session: AsyncSession,
        slug: str,
        person: PersonKey,
        *,
        needs: Sequence[str],
        details: str,
    ) -> tuple[NeedsOutcome, Event | None]:
        """Change (or clear) the adjustment needs of a place or waitlist entry, sealed as at
        sign-up; the organisers see the new ones in their list."""
        cleaned = self.clean_needs(needs, details)
        if cleaned is None:
            return "bad_needs", None
        event, signup, refused = await self._held_signup(session, slug, person)
        if event is None or signup is None:
            return refused, event
        self._seal_needs(signup, *cleaned)
        signup.updated_at = self.now()
        await session.flush()
        return "needs_saved", event

    async def _held_signup(
        self, session: AsyncSession, slug: str, person: PersonKey
    ) -> tuple[Event | None, EventSignup | None, Refusal]:
        """The event (row locked) and the person's place, offer or queue place at it; or why
        there is none to change."""
        event = await repo_events.get_event(session, slug=slug, lock=True)
        if event is None:
            return None, None, "unknown_event"
        signup = await repo_events.signup_of(
            session, event_id=event.id, pseudonym=self.pseudonym(person)
        )
        if signup is None or signup.status not in ("confirmed", "offered", "waitlisted"):
            return event, None, "not_signed_up"
        if aware(event.ends_at) <= self.now():
            return event, None, "past_event"
        return event, signup, "not_signed_up"

    async def my_place(
        self, session: AsyncSession, event: Event, person: PersonKey
    ) -> tuple[EventSignup | None, int | None]:
        """This person's sign-up at `event`, and their place on the waitlist if waiting."""
        signup = await repo_events.signup_of(
            session, event_id=event.id, pseudonym=self.pseudonym(person)
        )
        if signup is None or signup.status != "waitlisted":
            return signup, None
        return signup, await repo_events.waitlist_position(session, signup=signup)

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


def _refusal(event: Event, signup: EventSignup | None, now: datetime) -> SignupOutcome | None:
    """Why a sign-up cannot go ahead (the event, its dates, a place already held), if so."""
    if event.status == "cancelled":
        return "cancelled_event"
    if aware(event.starts_at) <= now:
        return "past_event"
    if aware(event.signup_deadline) < now:
        return "deadline_passed"
    held: dict[str, SignupOutcome] = {
        "confirmed": "already_confirmed",
        "waitlisted": "already_waitlisted",
        "offered": "already_offered",
    }
    return held.get(signup.status) if signup is not None else None
