"""Telling case handlers: who they are, and the alerts about new and waiting cases."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.incidents import repo
from bot.incidents.models import IncidentReport
from bot.incidents.records import Person, ReportError
from bot.incidents.store import IncidentStore
from bot.incidents.taxonomy import codes_of
from bot.outbox.queue import queued_card
from bot.privacy.names_repo import names_of
from bot.privacy.roles import Grant, Role, list_grants, parse_person

log = logging.getLogger("bot.incidents")


class HandlerNotices(IncidentStore):
    """Who handles cases, and the messages that reach them (references only, never contents)."""

    async def handlers(self, session: AsyncSession) -> list[PersonKey]:
        """Every case handler the bot can reach (grants bound to an Entra object id)."""
        grants = await list_grants(session, role=Role.CASE_HANDLER)
        people: list[PersonKey] = []
        unbound = [g.aad_object_id for g in grants if g.aad_object_id and not g.tenant_id]
        for grant in grants:
            if grant.aad_object_id and grant.tenant_id:
                people.append(PersonKey(grant.tenant_id, grant.aad_object_id))
        if unbound:
            people.extend(await repo.reachable_people(session, aad_object_ids=unbound))
        return list(dict.fromkeys(people))

    async def handler_choices(self, session: AsyncSession, *, tenant_id: str) -> list[Person]:
        """Every case handler known by Entra object id, reachable or not, with the name Teams
        last showed for them, for assigning a case. A grant made without a tenant, to someone
        the bot has never talked to, is taken to be in `tenant_id` (the assigner's)."""
        grants = [g for g in await list_grants(session, role=Role.CASE_HANDLER) if g.aad_object_id]
        return await self._people(session, grants, tenant_id=tenant_id)

    async def is_handler(self, session: AsyncSession, person: PersonKey) -> bool:
        """Whether `person` holds the case-handler role by their object id (in their tenant,
        or granted for any tenant), whether or not the bot can reach them."""
        aad = person.aad_object_id.lower()
        return any(
            g.aad_object_id == aad and g.tenant_id in (None, person.tenant_id)
            for g in await list_grants(session, role=Role.CASE_HANDLER)
        )

    async def handler_named(
        self, session: AsyncSession, who: str, *, tenant_id: str, via: str = ""
    ) -> Person | None:
        """The case handler an operator named by UPN or Entra object id; None if nobody by
        that name holds the role. A grant by UPN not yet bound to an object id (its holder
        has not used the bot) cannot act or be assigned: ReportError says so."""
        aad, upn = parse_person(who)
        grants = [
            g
            for g in await list_grants(session, role=Role.CASE_HANDLER)
            if (aad and g.aad_object_id == aad) or (upn and g.upn == upn)
        ]
        bound = [g for g in grants if g.aad_object_id]
        if grants and not bound:
            raise ReportError(self.words["cases"]["handler_not_bound"].format(who=who.strip()))
        found = await self._people(session, bound[:1], tenant_id=tenant_id, upn=upn)
        return Person(found[0].key, found[0].name, via=via) if found else None

    async def _people(
        self, session: AsyncSession, grants: list[Grant], *, tenant_id: str, upn: str | None = None
    ) -> list[Person]:
        """The people these (bound) grants name: each grant's tenant, else the one the bot
        last reached them in, else `tenant_id`; their last known name, else a UPN."""
        ids = [g.aad_object_id for g in grants if g.aad_object_id]
        if not ids:
            return []
        untenanted = [g.aad_object_id for g in grants if g.aad_object_id and not g.tenant_id]
        seen = {
            k.aad_object_id.lower(): k.tenant_id
            for k in await repo.reachable_people(session, aad_object_ids=untenanted)
        }
        known = await names_of(session, self._cipher, ids)
        unnamed = self.words["cases"]["unnamed_handler"]
        people: dict[PersonKey, Person] = {}
        for grant in grants:
            aad = grant.aad_object_id or ""
            key = PersonKey(grant.tenant_id or seen.get(aad, tenant_id), aad)
            name = known.get(aad) or grant.upn or upn or unnamed
            people.setdefault(key, Person(key, name))
        return sorted(people.values(), key=lambda p: p.name.casefold())

    def _assigned(self, report: IncidentReport) -> PersonKey | None:
        if not report.assigned_to or "/" not in report.assigned_to:
            return None
        tenant, aad = report.assigned_to.removeprefix("teams:").split("/", 1)
        return PersonKey(tenant, aad)

    async def _tell_handlers(
        self,
        session: AsyncSession,
        report: IncidentReport,
        message: dict[str, Any],
        *,
        kind: str,
        everyone: bool = False,
        dedupe_key: str | None = None,
    ) -> None:
        if self._outbox is None:
            return
        assigned = None if everyone else self._assigned(report)
        if assigned is not None:
            sent = await self._outbox.enqueue(
                session, kind=kind, recipients=[assigned], message=message, dedupe_key=dedupe_key
            )
            if sent.queued:
                return
            # The assigned handler has never used the bot: every handler is told instead.
        recipients = await self.handlers(session)
        if not recipients:
            log.warning("incident.no_handlers", extra={"kind": kind})
            return
        await self._outbox.enqueue(
            session, kind=kind, recipients=recipients, message=message, dedupe_key=dedupe_key
        )

    def case_card(self, title: str, body: str, reference: str) -> dict[str, Any]:
        """A card telling a case handler about a case: the reference only, and "Open"."""
        return self.content.card(
            "info",
            heading=title,
            paragraphs=[body],
            bullets=[],
            source=None,
            question=None,
            buttons=[
                {
                    "title": self.words["cases"]["open_button"].format(reference=reference),
                    "data": {"command": "cases", "open": reference},
                }
            ],
        )

    async def _alert_handlers(self, session: AsyncSession, report: IncidentReport) -> None:
        words = self.words["notify"]
        tax = self.taxonomy
        categories = (
            "; ".join(
                part
                for part in (
                    tax.labels("motivations", codes_of(report.motivations)),
                    tax.labels("kinds", codes_of(report.kinds)),
                )
                if part
            )
            or "No categories given"
        )
        title = words["handler_new"].format(reference=report.reference)
        body = words["handler_new_body"].format(
            received=report.received_on.strftime("%-d %B %Y"), categories=categories
        )
        card = self.case_card(title, body, report.reference)
        self._mark(report, "alerted")
        await self._tell_handlers(
            session,
            report,
            queued_card(card, summary=title),
            kind="incident.alert",
            everyone=True,
            dedupe_key=f"incident.alert:{report.reference}",
        )
