"""What every part of the action-plans service builds on: the plans, their leads, the day.

The bottom layer of `ActionsService` (service.py); above it come the cards, the nudges,
then what leads do from a card."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import repo
from bot.actions.deadlines import AnnualReview, Milestone
from bot.actions.nudges import NudgeRules
from bot.actions.plans import Action, Plans, load_plans, plans_directory
from bot.actions.progress import ActionStatus, status_of
from bot.actions.records import (
    LeadIndex,
    Teams,
    day_text,
    long_day_text,
)
from bot.actions.repo import ACTION, NOT_MINE, TEAM
from bot.config import Settings
from bot.core.clock import LONDON, working_days_between
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.outbox.queue import Outbox
from bot.privacy.audit import AuditLog
from bot.privacy.roles import Role, list_grants


class ActionsBase:
    """The plans, who leads what, and where each action stands today."""

    def __init__(
        self,
        *,
        content: Content,
        settings: Settings,
        outbox: Outbox,
        audit: AuditLog,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._content = content
        self._settings = settings
        self._outbox = outbox
        self._audit = audit
        self._sessions = sessions
        self.clock = clock  # what "now" is (tests set a fixed one)
        self._plans: Plans | None = None
        self.words: dict[str, Any] = content.data("actions/words")
        self.rules = NudgeRules(
            tuple(sorted(set(settings.actions_nudge_offsets), reverse=True)),
            settings.actions_overdue_every_days,
            settings.actions_escalate_after_days,
            int(self.words["limits"]["reminder_weeks"]),
        )

    @property
    def plans(self) -> Plans:
        """The plans, read once."""
        if self._plans is None:
            self._plans = load_plans(
                plans_directory(self._content.root),
                annual=AnnualReview.parse(self._settings.actions_annual_review),
            )
        return self._plans

    @property
    def nudged_plans(self) -> list[str]:
        """The plans whose leads are nudged (EDI_ACTIONS_NUDGE_PLANS) that exist and are not
        closed."""
        found = [self.plans.plan(p) for p in self._settings.actions_nudge_plans]
        return [plan.id for plan in found if plan is not None and not plan.closed]

    def today(self, now: datetime | None = None) -> date:
        """Today in Europe/London."""
        return (now or self.clock()).astimezone(LONDON).date()

    def find(self, plan: object, number: object) -> Action | None:
        """An action from what a card sent (strings only)."""
        if not isinstance(plan, str) or not isinstance(number, str):
            return None
        if len(plan) > 16 or len(number) > 16:
            return None
        return self.plans.action(plan, number)

    async def lead_index(self, session: AsyncSession) -> LeadIndex:
        """Every assignment, with object ids resolved and reachable people looked up."""
        index = LeadIndex()
        for row in await repo.list_leads(session):
            bucket = {TEAM: index.teams, ACTION: index.actions, NOT_MINE: index.not_mine}.get(
                row.scope_kind
            )
            if bucket is not None:
                bucket.setdefault(row.scope, set()).add(row.person)
        named = {p for group in (index.teams, index.actions) for s in group.values() for p in s}
        upns = {p for p in named if "@" in p}
        bound = await repo.bound_upns(session, role=Role.ACTION_LEAD.value, upns=upns)
        index.resolved = {p: p for p in named if "@" not in p} | bound
        index.reachable = await repo.references_by_aad(session, ids=set(index.resolved.values()))
        return index

    async def leads(self, session: AsyncSession, person: Teams, action: Action) -> bool:
        """Whether `person` leads `action` (decided here, whatever a card says)."""
        index = await self.lead_index(session)
        return person.key.aad_object_id.lower() in index.people_for(action)

    async def actions_of(self, session: AsyncSession, person: Teams) -> list[ActionStatus]:
        """The actions `person` leads in the nudged plans, with where each stands."""
        index = await self.lead_index(session)
        states = await repo.action_states(session)
        me = person.key.aad_object_id.lower()
        today = self.today()
        found = []
        for plan_id in self.nudged_plans:
            plan = self.plans.plans[plan_id]
            for action in plan.actions.values():
                if me in index.people_for(action):
                    found.append(
                        status_of(action, states.get((plan_id, action.number)), today=today)
                    )
        return found

    async def holders(self, session: AsyncSession, role: Role) -> list[PersonKey]:
        """Reachable people holding `role` (admins: the bootstrap admins too)."""
        ids = {g.aad_object_id for g in await list_grants(session, role=role) if g.aad_object_id}
        if role is Role.ADMIN:
            ids |= {a.lower() for a in self._settings.bootstrap_admins if "@" not in a}
        found = await repo.references_by_aad(session, ids={i.lower() for i in ids})
        return [found[k] for k in sorted(found)]

    def passed_text(self, milestone: Milestone, days: int, today: date) -> str:
        """A milestone passed unmet: "Overdue since ..." for a few weeks, then the day it
        was due, in words ("This was due on Thursday 28 March 2024")."""
        words = self.words["digest"]
        if self.rules.long_past(milestone.on, today):
            key = "was_due" if milestone.final else "check_in_was_due"
            return str(words[key].format(day=long_day_text(milestone.on)))
        key = "overdue" if milestone.final else "check_in_overdue"
        return str(words[key].format(day=day_text(milestone.on), days=days))

    def status_when(self, status: ActionStatus) -> str:
        """A "my actions" line: overdue since, or the next milestone."""
        words = self.words["digest"]
        today = self.today()
        if status.overdue_since is not None:
            return self.passed_text(status.overdue_since, status.overdue_days, today)
        if status.next_milestone is not None:
            left = working_days_between(today, status.next_milestone.on)
            if left == 0:
                return str(words["due_today"].format(day=day_text(status.next_milestone.on)))
            key = "due_in" if status.next_milestone.final else "check_in"
            return str(words[key].format(day=day_text(status.next_milestone.on), days=left))
        return str(self.words["statuses"]["done"]) if status.status == "done" else ""
