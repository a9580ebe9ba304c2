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
import secrets
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.clock import LONDON
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.events import repo as repo_events
from bot.events.admin import EventAdmin
from bot.events.calendar import CalendarLinks, link_key
from bot.events.feature import IDENTITY_DAYS
from bot.events.models import Event, NetworkMember
from bot.events.records import (
    Attendee,
    SweepCounts,
    aware,
    member_who_context,
    signup_needs_context,
)
from bot.outbox.queue import Outbox, queued_card
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import FieldCipher, Sealed


class EventService(EventAdmin):
    """Creates, changes and cancels events; signs people up; runs the waitlist and networks."""

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
            message=queued_card(card, summary=words["summary"].format(title=event.title)),
            dedupe_key=f"event-attendees:{event.id}",
        )
        return 1


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
