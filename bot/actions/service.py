"""The action plans as a service: who leads what, nudges, updates, snoozes and claims.

Used by the scheduled nudge run (scheduler/jobs.py), the chat (dialogs/actions.py) and the
CLI (bot/cli_actions.py). Every change happens in the caller's transaction; every
proactive message goes through the outbox.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions import repo
from bot.actions.deadlines import AnnualReview
from bot.actions.nudges import Due, NudgeRules, due_nudges
from bot.actions.plans import Action, Plans, load_plans, plans_directory, team_key
from bot.actions.progress import ActionStatus, status_of
from bot.actions.repo import ACTION, NOT_MINE, TEAM, ActionStateRow, person_id
from bot.config import Settings
from bot.core.clock import LONDON, is_working_day, working_days_between
from bot.core.content import Content, plain_text
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.outbox.service import Outbox, card_activity, text_activity
from bot.privacy.audit import AuditLog
from bot.privacy.roles import Role, grant_role, list_grants

log = logging.getLogger(__name__)

NUDGE_KIND = "actions.nudge"
ESCALATION_KIND = "actions.escalation"
NOTICE_KIND = "actions.notice"
BOARD = "board_chair"
RAGS = ("green", "amber", "red")


def hours(text: str) -> tuple[time, time]:
    """("09:00", "17:00") from "09:00-17:00"."""
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


@dataclass(frozen=True)
class Teams:
    """A person as the chat knows them."""

    key: PersonKey
    name: str

    @property
    def actor(self) -> str:
        """How the audit log and the updates name them."""
        return f"teams:{self.key.tenant_id}/{self.key.aad_object_id.lower()}"


@dataclass
class LeadIndex:
    """Every lead assignment, resolved to people the bot can reach."""

    teams: dict[str, set[str]] = field(default_factory=dict)
    actions: dict[str, set[str]] = field(default_factory=dict)
    not_mine: dict[str, set[str]] = field(default_factory=dict)
    resolved: dict[str, str] = field(default_factory=dict)  # object id or UPN → object id
    reachable: dict[str, PersonKey] = field(default_factory=dict)  # object id → person

    def people_for(self, action: Action) -> set[str]:
        """Object ids (lower case) of everyone leading `action`."""
        named: set[str] = set(self.actions.get(action.key, set()))
        for lead in action.leads:
            named |= self.teams.get(team_key(lead), set())
        ids = {self.resolved[p] for p in named if p in self.resolved}
        return ids - self.not_mine.get(action.key, set())

    def named_for(self, action: Action) -> set[str]:
        """Object ids or UPNs as assigned (for listings), less those who said "not mine"."""
        named: set[str] = set(self.actions.get(action.key, set()))
        for lead in action.leads:
            named |= self.teams.get(team_key(lead), set())
        out = self.not_mine.get(action.key, set())
        return {p for p in named if self.resolved.get(p, p) not in out}


@dataclass(frozen=True)
class NudgeRun:
    """What one nudge run did."""

    skipped: str | None = None
    digests: int = 0
    items: int = 0
    escalations: int = 0


@dataclass(frozen=True)
class Answer:
    """What to tell the person after a card action: a key of `replies` and its fields."""

    key: str
    fields: dict[str, str] = field(default_factory=dict)


class ActionsService:
    """Plans, leads, nudges and progress, in the caller's transaction."""

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
        self._clock = clock
        self._plans: Plans | None = None
        self.words: dict[str, Any] = content.data("actions")
        self.rules = NudgeRules(
            tuple(sorted(set(settings.actions_nudge_offsets), reverse=True)),
            settings.actions_overdue_every_days,
            settings.actions_escalate_after_days,
        )

    # ---- plans ----------------------------------------------------------------------------

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
        """The plans whose leads are nudged (EDI_ACTIONS_NUDGE_PLANS), that exist."""
        return [p for p in self._settings.actions_nudge_plans if self.plans.plan(p)]

    def today(self, now: datetime | None = None) -> date:
        """Today in Europe/London."""
        return (now or self._clock()).astimezone(LONDON).date()

    def find(self, plan: object, number: object) -> Action | None:
        """An action from what a card sent (strings only)."""
        if not isinstance(plan, str) or not isinstance(number, str):
            return None
        if len(plan) > 16 or len(number) > 16:
            return None
        return self.plans.action(plan, number)

    # ---- leads ------------------------------------------------------------------------------

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

    # ---- nudges -----------------------------------------------------------------------------

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
                    activity=card_activity(card, summary=summary),
                    dedupe_key=_dedupe(NUDGE_KIND, who, today, fresh),
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
            activity=card_activity(card, summary=words["summary"].format(count=len(fresh))),
            dedupe_key=_dedupe(ESCALATION_KIND, BOARD, today, fresh),
        )
        return len(fresh)

    def _escalation_item(
        self, due: Due, index: LeadIndex, states: dict[tuple[str, str], ActionStateRow]
    ) -> dict[str, Any]:
        words = self.words
        action = due.action
        state = states.get((action.plan, action.number))
        status = (state.rag if state else None) or "no_update"
        return {
            "title": words["escalation"]["line"].format(
                plan=action.plan, number=action.number, text=_short(action.text, 160)
            ),
            "facts": [
                {
                    "title": words["escalation"]["facts_due"],
                    "value": words["digest"]["overdue"].format(
                        day=_day(due.milestone.on), days=due.working_days
                    ),
                },
                {"title": words["escalation"]["facts_leads"], "value": "; ".join(action.leads)},
                {"title": words["escalation"]["facts_status"], "value": words["statuses"][status]},
            ],
        }

    def digest_card(
        self, dues: list[Due], states: dict[tuple[str, str], ActionStateRow], today: date
    ) -> dict[str, Any]:
        """The one card a lead gets per run, every due or overdue action on it."""
        words = self.words
        limit = int(words["limits"]["items_per_card"])
        by_action: dict[str, list[Due]] = {}
        for due in dues:  # an action due soon and with a missed check-in is one item
            if due.kind != "escalate":
                by_action.setdefault(due.action.key, []).append(due)
        items = []
        for slot, grouped in enumerate(list(by_action.values())[:limit]):
            action = grouped[0].action
            state = states.get((action.plan, action.number))
            status = (state.rag if state else None) or "no_update"
            when = " · ".join(self._when(due) for due in grouped)
            items.append(self.card_item(action, f"s{slot}", when, words["statuses"][status]))
        more = len(by_action) - len(items)
        return self._content.card(
            "action_digest",
            heading=words["digest"]["heading"],
            intro=words["digest"]["intro"],
            items=items,
            more=words["digest"]["more"].format(count=more) if more > 0 else "",
            words=self.card_words(today),
        )

    def card_words(self, today: date) -> dict[str, Any]:
        """The labels the action cards use."""
        buttons = dict(self.words["buttons"])
        buttons["rag"] = [{"title": self.words["rag"][r], "value": r} for r in RAGS]
        buttons["note_chars"] = int(self.words["limits"]["note_chars"])
        buttons["min_date"] = (today + timedelta(days=1)).isoformat()
        return buttons

    def card_item(self, action: Action, slot: str, when: str, status: str) -> dict[str, Any]:
        """One action on a card, with its buttons' data."""
        ids = {"plan": action.plan, "number": action.number}
        return {
            "slot": slot,
            "title": f"{action.number} {_short(action.text, 200)}",
            "plan": f"{action.plan} · {'; '.join(action.leads)}",
            "when": when,
            "status": self.words["digest"]["status"].format(status=status),
            "done": {"command": "action done", **ids},
            "progress": {"command": "action progress", "slot": slot, **ids},
            "snooze_week": {"command": "action snooze", "days": 7, **ids},
            "snooze_until": {"command": "action snooze", "slot": slot, **ids},
            "not_mine": {"command": "action not mine", **ids},
        }

    def _when(self, due: Due) -> str:
        words = self.words["digest"]
        day = _day(due.milestone.on)
        if due.kind != "before":
            key = "overdue" if due.milestone.final else "check_in_overdue"
            return str(words[key].format(day=day, days=due.working_days))
        if due.working_days == 0:
            return str(words["due_today"].format(day=day))
        if not due.milestone.final:
            return str(words["check_in"].format(day=day, days=due.working_days))
        key = "due_tomorrow" if due.working_days == 1 else "due_in"
        return str(words[key].format(day=day, days=due.working_days))

    def status_when(self, status: ActionStatus) -> str:
        """A "my actions" line: overdue since, or the next milestone."""
        words = self.words["digest"]
        today = self.today()
        if status.overdue_since is not None:
            key = "overdue" if status.overdue_since.final else "check_in_overdue"
            return str(
                words[key].format(day=_day(status.overdue_since.on), days=status.overdue_days)
            )
        if status.next_milestone is not None:
            left = working_days_between(today, status.next_milestone.on)
            if left == 0:
                return str(words["due_today"].format(day=_day(status.next_milestone.on)))
            key = "due_in" if status.next_milestone.final else "check_in"
            return str(words[key].format(day=_day(status.next_milestone.on), days=left))
        return str(self.words["statuses"]["done"]) if status.status == "done" else ""

    async def holders(self, session: AsyncSession, role: Role) -> list[PersonKey]:
        """Reachable people holding `role` (admins: the bootstrap admins too)."""
        ids = {g.aad_object_id for g in await list_grants(session, role=role) if g.aad_object_id}
        if role is Role.ADMIN:
            ids |= {a.lower() for a in self._settings.bootstrap_admins if "@" not in a}
        found = await repo.references_by_aad(session, ids={i.lower() for i in ids})
        return [found[k] for k in sorted(found)]

    # ---- what leads do from a card ---------------------------------------------------------

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
            return Answer("already_done", {"number": action.number, "day": _day(state.done_on)})
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
                return Answer("snooze_past", {"day": _day(day)})
            if (day - today).days > int(self.words["limits"]["snooze_max_days"]):
                return Answer("snooze_too_far")
        await repo.snooze(
            session,
            plan=action.plan,
            number=action.number,
            person=person_id(person.key),
            until=day,
        )
        return Answer("snoozed", {"number": action.number, "day": _day(day)})

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
        fields = _notice_fields(person.name, action)
        lines = _plain(fields)
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
                activity=card_activity(card, summary=words["summary"].format(**fields)),
            )
        return Answer("not_mine_sent", {"number": action.number})

    # ---- claims -----------------------------------------------------------------------------

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
        fields = _notice_fields(person.name, action)
        card = self._content.card(
            "action_notice",
            heading=words["heading"],
            lines=[words["text"].format(**_plain(fields))],
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
            activity=card_activity(card, summary=words["summary"].format(**fields)),
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
            activity=text_activity(told.format(**_plain(fields))),
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


def _dedupe(kind: str, who: str, today: date, dues: list[Due]) -> str:
    keys = sorted(f"{d.action.key}|{d.milestone.on}|{d.label}" for d in dues)
    digest = hashlib.sha256("\n".join([who, *keys]).encode()).hexdigest()[:32]
    return f"{kind}:{today.isoformat()}:{digest}"


def _day(day: date) -> str:
    return f"{day:%a %-d %b %Y}"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain(fields: dict[str, str]) -> dict[str, str]:
    """Fields as plain text, for Markdown (a card's lines, a message): a name is a person's."""
    return {key: plain_text(value) for key, value in fields.items()}


def _notice_fields(name: str, action: Action) -> dict[str, str]:
    """What the admins' notice cards (a claim, a "not mine") say about a person and action."""
    return {
        "name": name,
        "number": action.number,
        "plan": action.plan,
        "text": _short(action.text, 200),
        "teams": "; ".join(action.leads),
    }
