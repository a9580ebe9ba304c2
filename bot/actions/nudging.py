"""The nudge run: who is told what, within working hours, once per day and deadline."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import repo
from bot.actions.cards import ActionCards
from bot.actions.nudges import Due, due_nudges
from bot.actions.records import (
    BOARD,
    ESCALATION_KIND,
    NUDGE_KIND,
    LeadIndex,
    NudgeRun,
    dedupe_key_of,
    hours,
)
from bot.actions.repo import ActionStateRow, person_id
from bot.core.clock import LONDON, is_working_day
from bot.core.people import PersonKey
from bot.db.session import unit_of_work
from bot.outbox.queue import queued_card
from bot.privacy.roles import Role

log = logging.getLogger("bot.actions")


class ActionNudges(ActionCards):
    """Sends leads their digests and escalates what is overdue to the board."""

    def in_working_hours(self, now: datetime) -> bool:
        """A working day in England and Wales, within EDI_ACTIONS_WORKING_HOURS (London)."""
        local = now.astimezone(LONDON)
        start, end = hours(self._settings.actions_working_hours)
        return is_working_day(local.date()) and start <= local.time().replace(tzinfo=None) < end

    async def run_nudges(self, now: datetime | None = None) -> NudgeRun:
        """Queue today's nudges: one digest card per lead, escalations to the board chair.

        Safe to run twice, concurrently, and after a restart: each (action, milestone,
        offset, person) is recorded under a unique constraint in the same transaction as
        the outbox message, so only one run queues it.
        """
        now = now or self._clock()
        if not self.in_working_hours(now):
            return NudgeRun(skipped="outside working days and hours")
        today = self.today(now)
        async with unit_of_work(self._sessions) as session:
            index = await self.lead_index(session)
            states = await repo.action_states(session)
            snoozed = await repo.snoozed(session, today=today)
            per_lead: dict[str, tuple[PersonKey, list[Due]]] = {}
            escalate: list[Due] = []
            for plan_id in self.nudged_plans:
                for action in self.plans.plans[plan_id].actions.values():
                    state = states.get((plan_id, action.number))
                    dues = due_nudges(
                        action,
                        today=today,
                        done=bool(state and state.done_on),
                        last_update_on=state.last_update_on if state else None,
                        rules=self.rules,
                    )
                    for due in dues:
                        if due.kind == "escalate":
                            escalate.append(due)
                            continue
                        for aad in sorted(index.people_for(action)):
                            person = index.reachable.get(aad)
                            if person is None:
                                continue  # not reachable yet: nudged once they use the bot
                            who = person_id(person)
                            if (plan_id, action.number, who) in snoozed:
                                continue
                            per_lead.setdefault(who, (person, []))[1].append(due)
            digests = items = 0
            for who in sorted(per_lead):
                person, dues = per_lead[who]
                fresh = await self._claim(session, dues, who, today)
                if not fresh:
                    continue
                card = self.digest_card(fresh, states, today)
                actions = len({due.action.key for due in fresh})
                summary = self.words["digest"]["summary"].format(count=actions)
                queued = await self._outbox.enqueue(
                    session,
                    kind=NUDGE_KIND,
                    recipients=[person],
                    message=queued_card(card, summary=summary),
                    dedupe_key=dedupe_key_of(NUDGE_KIND, who, today, fresh),
                )
                await repo.set_message(session, person=who, on=today, message_id=queued.message_id)
                digests += 1
                items += len(fresh)
            escalations = await self._escalate(session, escalate, index, states, today)
        log.info(
            "actions.nudge_run",
            extra={"digests": digests, "items": items, "escalations": escalations},
        )
        return NudgeRun(None, digests, items, escalations)

    async def _claim(
        self, session: AsyncSession, dues: list[Due], who: str, today: date
    ) -> list[Due]:
        rows = [(d.action.plan, d.action.number, d.milestone.on, d.label) for d in dues]
        claimed = await repo.claim_nudges(session, rows=rows, person=who, on=today)
        return [d for d, row in zip(dues, rows, strict=True) if row in claimed]

    async def _escalate(
        self,
        session: AsyncSession,
        dues: list[Due],
        index: LeadIndex,
        states: dict[tuple[str, str], ActionStateRow],
        today: date,
    ) -> int:
        if not dues:
            return 0
        chairs = await self.holders(session, Role.BOARD_CHAIR)
        if not chairs:
            log.warning("actions.no_board_chair", extra={"overdue": len(dues)})
            return 0  # recorded only once someone can receive it
        fresh = await self._claim(session, dues, BOARD, today)
        if not fresh:
            return 0
        words = self.words["escalation"]
        card = self._content.card(
            "action_escalation",
            heading=words["heading"],
            intro=words["intro"].format(days=self.rules.escalate_after_days),
            items=[self._escalation_item(d, index, states) for d in fresh],
        )
        await self._outbox.enqueue(
            session,
            kind=ESCALATION_KIND,
            recipients=chairs,
            message=queued_card(card, summary=words["summary"].format(count=len(fresh))),
            dedupe_key=dedupe_key_of(ESCALATION_KIND, BOARD, today, fresh),
        )
        return len(fresh)
