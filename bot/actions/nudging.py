"""The nudge run: who is told what, within working hours, once per day and deadline.

Closed plans are never nudged. A milestone long past (nudges.py) is told once to each lead
and counted once on the board chair's card; see docs/actions.md."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import repo
from bot.actions.cards import ActionCards
from bot.actions.nudges import PAST, Due, due_nudges
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
        """Queue today's nudges: one digest card per lead, one card to the board chair.

        Closed plans are left alone. Safe to run twice, concurrently, and after a restart:
        each (action, milestone, offset, person) is recorded under a unique constraint in
        the same transaction as the outbox message, so only one run queues it.
        """
        now = now or self.clock()
        if not self.in_working_hours(now):
            return NudgeRun(skipped="outside working days and hours")
        today = self.today(now)
        async with unit_of_work(self._sessions) as session:
            index = await self.lead_index(session)
            states = await repo.action_states(session)
            due = await self._due_today(session, index, states, today)
            digests = items = 0
            for who in sorted(due.per_lead):
                person, dues = due.per_lead[who]
                sent = await self._send_digest(session, person, who, dues, states, today)
                digests += 1 if sent else 0
                items += sent
            escalations, past = await self._to_the_board(session, due, index, states, today)
        log.info(
            "actions.nudge_run",
            extra={"digests": digests, "items": items, "escalations": escalations, "past": past},
        )
        return NudgeRun(None, digests, items, escalations, past)

    async def _due_today(
        self,
        session: AsyncSession,
        index: LeadIndex,
        states: dict[tuple[str, str], ActionStateRow],
        today: date,
    ) -> DueToday:
        """What each lead and the board chair are due today, before checking what was sent.

        A milestone long past goes to a lead only if nobody reminded them of it after it
        passed, and to the board chair only if it was never escalated."""
        snoozed = await repo.snoozed(session, today=today)
        told = await repo.told_after(session, plans=self.nudged_plans)
        due = DueToday()
        for plan_id in self.nudged_plans:
            for action in self.plans.plans[plan_id].actions.values():
                state = states.get((plan_id, action.number))
                for item in due_nudges(
                    action,
                    today=today,
                    done=bool(state and state.done_on),
                    last_update_on=state.last_update_on if state else None,
                    rules=self.rules,
                ):
                    told_of = (plan_id, action.number, item.milestone.on)
                    if item.kind == "escalate":
                        due.board.append(item)
                        continue
                    if item.kind == PAST and (*told_of, BOARD) not in told:
                        due.board.append(item)
                    for aad in sorted(index.people_for(action)):
                        person = index.reachable.get(aad)
                        if person is None:
                            continue  # not reachable yet: nudged once they use the bot
                        who = person_id(person)
                        if (plan_id, action.number, who) in snoozed:
                            continue
                        if item.kind == PAST and (*told_of, who) in told:
                            continue  # reminded while it was overdue: not again
                        due.per_lead.setdefault(who, (person, []))[1].append(item)
        return due

    async def _send_digest(
        self,
        session: AsyncSession,
        person: PersonKey,
        who: str,
        dues: list[Due],
        states: dict[tuple[str, str], ActionStateRow],
        today: date,
    ) -> int:
        """Queue one lead's digest of what no run has sent them yet; how many items."""
        fresh = await self._claim(session, dues, who, today)
        if not fresh:
            return 0
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
        return len(fresh)

    async def _claim(
        self, session: AsyncSession, dues: list[Due], who: str, today: date
    ) -> list[Due]:
        rows = [(d.action.plan, d.action.number, d.milestone.on, d.label) for d in dues]
        claimed = await repo.claim_nudges(session, rows=rows, person=who, on=today)
        return [d for d, row in zip(dues, rows, strict=True) if row in claimed]

    async def _to_the_board(
        self,
        session: AsyncSession,
        due: DueToday,
        index: LeadIndex,
        states: dict[tuple[str, str], ActionStateRow],
        today: date,
    ) -> tuple[int, int]:
        """One card to the board chair: the escalations, and a count of what is long past.
        Returns (actions escalated, actions on the summary)."""
        if not due.board:
            return 0, 0
        chairs = await self.holders(session, Role.BOARD_CHAIR)
        if not chairs:
            log.warning("actions.no_board_chair", extra={"overdue": len(due.board)})
            return 0, 0  # recorded only once someone can receive it
        fresh = await self._claim(session, due.board, BOARD, today)
        if not fresh:
            return 0, 0
        escalated = [d for d in fresh if d.kind == "escalate"]
        past = [d for d in fresh if d.kind == PAST]
        card, summary = self.board_card(escalated, past, index, states)
        await self._outbox.enqueue(
            session,
            kind=ESCALATION_KIND,
            recipients=chairs,
            message=queued_card(card, summary=summary),
            dedupe_key=dedupe_key_of(ESCALATION_KIND, BOARD, today, fresh),
        )
        return len(escalated), len({d.action.key for d in past})


@dataclass
class DueToday:
    """One run's nudges before they are claimed: per lead, and for the board chair."""

    per_lead: dict[str, tuple[PersonKey, list[Due]]] = field(default_factory=dict)
    board: list[Due] = field(default_factory=list)
