"""The action plans as a service: who leads what, nudges, updates, snoozes and claims.

Used by the scheduled nudge run (scheduler/jobs.py), the chat
(dialogs/actions/my_actions.py) and the CLI (bot/actions/cli.py). Every change happens in the
caller's transaction; every proactive message goes through the outbox. The layers below:
base.py (plans, leads, status), cards.py (digest and escalation cards), nudging.py (the run).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import repo
from bot.actions.nudging import ActionNudges
from bot.actions.plans import Action
from bot.actions.records import (
    NOTICE_KIND,
    RAGS,
    Answer,
    Teams,
    day_text,
    notice_fields,
    plain_fields,
)
from bot.actions.repo import ACTION, NOT_MINE, person_id
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.outbox.queue import queued_card, queued_text
from bot.privacy.roles import Role, grant_role

log = logging.getLogger("bot.actions")


class ActionsService(ActionNudges):
    """Plans, leads, nudges and progress, in the caller's transaction."""

    async def _checked(
        self, session: AsyncSession, person: Teams, plan: object, number: object
    ) -> Action | Answer:
        action = self.find(plan, number)
        if action is None:
            return Answer("unknown_action")
        if not await self.leads(session, person, action):
            log.warning("actions.not_lead", extra={"plan": action.plan, "number": action.number})
            return Answer("not_yours", {"number": action.number})
        return action

    async def mark_done(
        self, session: AsyncSession, person: Teams, plan: object, number: object
    ) -> Answer:
        """Mark an action done (once)."""
        action = await self._checked(session, person, plan, number)
        if isinstance(action, Answer):
            return action
        state = (await repo.action_states(session, plan=action.plan)).get(
            (action.plan, action.number)
        )
        if state is not None and state.done_on is not None:
            return Answer("already_done", {"number": action.number, "day": day_text(state.done_on)})
        await repo.add_update(
            session,
            plan=action.plan,
            number=action.number,
            kind="done",
            rag=None,
            note=None,
            author=person.actor,
            author_name=person.name[:200],
            on=self.today(),
        )
        await self._audit.append(
            session,
            actor=person.actor,
            action="actions.done",
            object_type="action",
            object_id=action.key,
        )
        return Answer("done", {"number": action.number})

    async def update_progress(
        self,
        session: AsyncSession,
        person: Teams,
        plan: object,
        number: object,
        *,
        rag: object,
        note: object,
    ) -> Answer:
        """Record a RAG status and a note (length-limited; never logged)."""
        action = await self._checked(session, person, plan, number)
        if isinstance(action, Answer):
            return action
        if rag not in RAGS:
            return Answer("note_missing")
        text = " ".join(str(note).split()) if isinstance(note, str) else ""
        limit = int(self.words["limits"]["note_chars"])
        if len(text) > limit:
            return Answer("note_too_long", {"length": f"{len(text):,}", "limit": f"{limit:,}"})
        await repo.add_update(
            session,
            plan=action.plan,
            number=action.number,
            kind="progress",
            rag=str(rag),
            note=text or None,
            author=person.actor,
            author_name=person.name[:200],
            on=self.today(),
        )
        status = self.words["statuses"][str(rag)]
        return Answer("progress_saved", {"number": action.number, "status": status})

    async def snooze(
        self,
        session: AsyncSession,
        person: Teams,
        plan: object,
        number: object,
        *,
        days: object = None,
        until: object = None,
    ) -> Answer:
        """No nudges about the action for this person until a day (7 days, or a date)."""
        action = await self._checked(session, person, plan, number)
        if isinstance(action, Answer):
            return action
        today = self.today()
        day = today + timedelta(days=7)
        if days != 7:
            try:
                chosen = date.fromisoformat(str(until)[:10]) if isinstance(until, str) else None
            except ValueError:
                chosen = None
            if chosen is None:
                return Answer("snooze_bad_date")
            day = chosen
            if day <= today:
                return Answer("snooze_past", {"day": day_text(day)})
            if (day - today).days > int(self.words["limits"]["snooze_max_days"]):
                return Answer("snooze_too_far")
        await repo.snooze(
            session,
            plan=action.plan,
            number=action.number,
            person=person_id(person.key),
            until=day,
        )
        return Answer("snoozed", {"number": action.number, "day": day_text(day)})

    async def not_mine(
        self, session: AsyncSession, person: Teams, plan: object, number: object
    ) -> Answer:
        """The person does not lead this: stop their nudges, ask the admins to reassign."""
        action = await self._checked(session, person, plan, number)
        if isinstance(action, Answer):
            return action
        me = person.key.aad_object_id.lower()
        await repo.remove_lead(session, scope_kind=ACTION, scope=action.key, person=me)
        await repo.add_lead(
            session,
            scope_kind=NOT_MINE,
            scope=action.key,
            person=me,
            tenant_id=person.key.tenant_id,
            assigned_by=person.actor,
        )
        await self._audit.append(
            session,
            actor=person.actor,
            action="actions.not_mine",
            object_type="action",
            object_id=action.key,
        )
        words = self.words["reassign"]
        fields = notice_fields(person.name, action)
        lines = plain_fields(fields)
        card = self._content.card(
            "action_notice",
            heading=words["heading"],
            lines=[words["text"].format(**lines), words["how"].format(**lines)],
            buttons=[],
        )
        admins = await self.holders(session, Role.ADMIN)
        if admins:
            await self._outbox.enqueue(
                session,
                kind=NOTICE_KIND,
                recipients=admins,
                message=queued_card(card, summary=words["summary"].format(**fields)),
            )
        return Answer("not_mine_sent", {"number": action.number})

    def claimed_action(self, text: str) -> tuple[str, Action | None]:
        """The action number in "I lead action 4.1" and the action it names, if any."""
        words = text.split()
        number = words[-1].strip(".").upper() if words else ""
        return number, self.plans.find_number(number, prefer=self.nudged_plans)

    async def claim(self, session: AsyncSession, person: Teams, text: str) -> Answer:
        """ "I lead action 4.1": a pending claim and a card for the admins to decide."""
        number, action = self.claimed_action(text)
        if action is None:
            return Answer("claim_unknown", {"number": number[:16]})
        if await self.leads(session, person, action):
            return Answer("claim_already_lead", {"number": action.number})
        me = person.key.aad_object_id.lower()
        if await repo.pending_claim(
            session, plan=action.plan, number=action.number, aad_object_id=me
        ):
            return Answer("claim_pending", {"number": action.number})
        claim = await repo.add_claim(
            session, plan=action.plan, number=action.number, person=person.key, name=person.name
        )
        words = self.words["claim"]
        fields = notice_fields(person.name, action)
        card = self._content.card(
            "action_notice",
            heading=words["heading"],
            lines=[words["text"].format(**plain_fields(fields))],
            buttons=[
                {
                    "title": words[decision],
                    "data": {"command": "action claim", "claim": claim.id, "decision": decision},
                }
                for decision in ("confirm", "decline")
            ],
        )
        admins = await self.holders(session, Role.ADMIN)
        if not admins:
            return Answer("no_admins")
        await self._outbox.enqueue(
            session,
            kind=NOTICE_KIND,
            recipients=admins,
            message=queued_card(card, summary=words["summary"].format(**fields)),
            dedupe_key=f"actions.claim:{claim.id}",
        )
        return Answer("claim_sent", {"number": action.number, "plan": action.plan})

    async def decide(
        self, session: AsyncSession, admin: Teams, claim_id: object, decision: object
    ) -> Answer:
        """An admin confirms or declines a claim (the caller has checked the admin role)."""
        if not isinstance(claim_id, int) or decision not in ("confirm", "decline"):
            return Answer("bad_card")
        claim = await repo.get_claim(session, claim_id=claim_id)
        action = self.plans.action(claim.plan, claim.number) if claim else None
        if claim is None or action is None:
            return Answer("claim_gone")
        if claim.status != "pending":
            return Answer("claim_decided", {"status": claim.status})
        confirmed = decision == "confirm"
        status = "confirmed" if confirmed else "declined"
        await repo.decide_claim(session, claim=claim, status=status, by=admin.actor, at=utcnow())
        claimant = PersonKey(claim.tenant_id, claim.aad_object_id)
        if confirmed:
            await self.assign(
                session,
                scope_kind=ACTION,
                scope=action.key,
                person=claim.aad_object_id,
                tenant_id=claim.tenant_id,
                by=admin.actor,
            )
            await repo.remove_lead(
                session, scope_kind=NOT_MINE, scope=action.key, person=claim.aad_object_id
            )
        await self._audit.append(
            session,
            actor=admin.actor,
            action=f"actions.claim_{status}",
            object_type="action",
            object_id=action.key,
        )
        fields = {"number": action.number, "plan": action.plan, "name": claim.name}
        told = self.words["replies"]["told_confirmed" if confirmed else "told_declined"]
        await self._outbox.enqueue(
            session,
            kind=NOTICE_KIND,
            recipients=[claimant],
            message=queued_text(told.format(**plain_fields(fields))),
            dedupe_key=f"actions.claim_decided:{claim.id}",
        )
        return Answer("claim_confirmed" if confirmed else "claim_declined", fields)

    async def assign(
        self,
        session: AsyncSession,
        *,
        scope_kind: str,
        scope: str,
        person: str,
        tenant_id: str | None,
        by: str,
    ) -> bool:
        """Make `person` (object id or UPN) a lead of a team or an action, with the
        action_lead role (which lets them use "my actions"). Audited."""
        who = person.strip().lower()
        added = await repo.add_lead(
            session,
            scope_kind=scope_kind,
            scope=scope,
            person=who,
            tenant_id=tenant_id,
            assigned_by=by,
        )
        await grant_role(
            session, role=Role.ACTION_LEAD, person=who, tenant_id=tenant_id, granted_by=by
        )
        if added:
            await self._audit.append(
                session,
                actor=by,
                action="actions.lead_assigned",
                object_type="person",
                object_id=who,
                detail={"scope": scope_kind},
            )
        return added
