"""Telling case handlers: who they are, and the alerts about new and waiting cases."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.incidents import repo
from bot.incidents.models import IncidentReport
from bot.incidents.records import Person
from bot.incidents.store import IncidentStore
from bot.incidents.taxonomy import codes_of
from bot.outbox.queue import queued_card
from bot.privacy.names_repo import names_of
from bot.privacy.roles import Role, list_grants

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

    async def handler_choices(self, session: AsyncSession) -> list[Person]:
        """Every reachable case handler with the name Teams last showed for them, for
        assigning a case to a colleague."""
        keys = await self.handlers(session)
        if not keys:
            return []
        known = await names_of(session, self._cipher, [k.aad_object_id for k in keys])
        names = {k: known[aad] for k in keys if (aad := k.aad_object_id.lower()) in known}
        people = [Person(k, names.get(k, self.words["cases"]["unnamed_handler"])) for k in keys]
        return sorted(people, key=lambda p: p.name.casefold())

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
        recipients = [assigned] if assigned is not None else await self.handlers(session)
        if not recipients:
            log.warning("incident.no_handlers", extra={"kind": kind})
            return
        await self._outbox.enqueue(
            session, kind=kind, recipients=recipients, message=message, dedupe_key=dedupe_key
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
        card = self.content.card(
            "info",
            heading=title,
            paragraphs=[body],
            bullets=[],
            source=None,
            question=None,
            buttons=[
                {
                    "title": self.words["cases"]["open_button"].format(reference=report.reference),
                    "data": {"command": "cases", "open": report.reference},
                }
            ],
        )
        self._mark(report, "alerted")
        await self._tell_handlers(
            session,
            report,
            queued_card(card, summary=title),
            kind="incident.alert",
            everyone=True,
            dedupe_key=f"incident.alert:{report.reference}",
        )
