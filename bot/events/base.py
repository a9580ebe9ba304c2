"""What every part of the events service builds on: keys, scopes, sealed identities.

The bottom layer of `EventService` (service.py); each layer above adds one part of the
work: cards and notices, places (sign-up, waitlist), organisers' changes, then networks
and the sweep."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.events import repo as repo_events
from bot.events.calendar import CalendarLinks, Method, build_ics
from bot.events.models import Event, EventSignup
from bot.events.networks import BIG_CONVERSATION, Network, load_networks
from bot.events.records import (
    Attendee,
    EventDraft,
    signup_needs_context,
    signup_who_context,
)
from bot.outbox.queue import Outbox
from bot.privacy.audit import AuditLog
from bot.privacy.crypto import FieldCipher, Sealed
from bot.privacy.pseudonym import Pseudonymiser


class EventBase:
    """The service's settings, keys and words; who a person is to an event and its organisers."""

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
        self.words: dict[str, Any] = content.data("events/words")
        self.networks: dict[str, Network] = load_networks(content)

    def now(self) -> datetime:
        """The current time (UTC)."""
        return self.clock()

    def pseudonym(self, person: PersonKey) -> str:
        """A person's keyed pseudonym."""
        return self._pseudonyms.of(person)

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

    def need_labels(self, codes: Sequence[str]) -> str:
        """Need codes as words."""
        labels = self.words["needs"]
        return ", ".join(str(labels.get(c, c)) for c in codes)

    async def _people(
        self, session: AsyncSession, event: Event, statuses: Sequence[str]
    ) -> list[PersonKey]:
        people = []
        for signup in await repo_events.signups(session, event_id=event.id, statuses=statuses):
            key = self._key(self.who_of(signup))
            if key is not None:
                people.append(key)
        return people
