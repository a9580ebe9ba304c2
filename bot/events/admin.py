"""What organisers and admins do to events: create, edit, cancel, see who came."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import LONDON
from bot.events import repo as repo_events
from bot.events.models import Event
from bot.events.networks import BIG_CONVERSATION
from bot.events.places import EventPlaces
from bot.events.records import (
    MAX_CAPACITY,
    MAX_TEXT,
    MAX_TITLE,
    SLUG,
    AttendeeView,
    EventDraft,
    EventError,
    aware,
    slugify,
)


class EventAdmin(EventPlaces):
    """Organisers' changes to events, and the attendance they record."""

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
